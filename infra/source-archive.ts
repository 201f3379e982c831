/**
 * Packs training-scripts/ into the `sourcedir.tar.gz` that SageMaker script mode downloads
 * (`sagemaker_submit_directory`) and the EC2 user data unpacks. The archive is byte-for-byte reproducible
 * (sorted entries, fixed mtime, no owner names), so an unchanged checkout never shows a diff in `pulumi up`,
 * and its SHA-256 names the S3 key and the training jobs: changed code means a new job, never a stale one.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tar from "tar";

/** Not shipped: tests, caches and local build output. */
const EXCLUDED = new Set(["tests", "__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", "node_modules"]);
const FIXED_MTIME = new Date("2020-01-01T00:00:00Z");

export interface SourceArchive {
    /** Path of the written archive. */
    file: string;
    /** SHA-256 of the archive, hex. */
    sha256: string;
    /** The files it holds, relative to the source directory. */
    entries: string[];
}

function listFiles(root: string, relative = ""): string[] {
    const entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
    return entries
        .filter((entry) => !EXCLUDED.has(entry.name) && !entry.name.endsWith(".pyc"))
        .sort((a, b) => a.name.localeCompare(b.name))
        .flatMap((entry) => {
            const child = relative ? `${relative}/${entry.name}` : entry.name;
            if (entry.isDirectory()) return listFiles(root, child);
            return entry.isFile() ? [child] : [];
        });
}

export function buildSourceArchive(sourceDir: string, outFile: string): SourceArchive {
    if (!fs.existsSync(path.join(sourceDir, "train.py"))) {
        throw new Error(`${sourceDir} has no train.py: it is not the training-scripts directory`);
    }
    const entries = listFiles(sourceDir);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    // Written aside and renamed into place, so two programs at once (two previews, parallel tests) never read
    // each other's half-written archive: the rename is atomic and the bytes are identical either way.
    const partial = `${outFile}.${process.pid}.partial`;
    tar.create(
        { gzip: { level: 9 }, file: partial, cwd: sourceDir, portable: true, mtime: FIXED_MTIME, sync: true, noDirRecurse: true },
        entries,
    );
    const sha256 = crypto.createHash("sha256").update(fs.readFileSync(partial)).digest("hex");
    fs.renameSync(partial, outFile);
    return { file: outFile, sha256, entries };
}
