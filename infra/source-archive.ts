/**
 * Packs training-scripts/ into the `sourcedir.tar.gz` that SageMaker script mode downloads
 * (`sagemaker_submit_directory`) and the EC2 user data unpacks.
 *
 * What ships is what the repository declares in `training-scripts/sourcedir.manifest`, not whatever lies in the
 * directory: a dataset downloaded next to the code, a notebook or a model checkpoint would otherwise be uploaded
 * and, by changing the digest, start a new training run. An explicit manifest was chosen over git's index (`git
 * ls-files`): it gives the same archive from a git checkout, a release tarball or a CI cache without git, and a
 * new module is shipped by the `classifier/*.py` pattern without anyone remembering to `git add` it first.
 *
 * The digest names the S3 key, the training jobs and the EC2 run, so it must change exactly when the code does.
 * It is taken over what is packed (each file's path, mode and contents, in order), not over the gzip bytes,
 * which another zlib (a Node upgrade, another platform's build) may produce differently for the same files.
 * Modes are normalised to 0644, or 0755 for a file its owner may execute (the two modes git records), so a
 * checkout under another umask packs the same archive.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar";

export const MANIFEST_FILE = "sourcedir.manifest";
const FIXED_MTIME = new Date("2020-01-01T00:00:00Z");

export interface PackedFile {
    /** Relative to the source directory, with forward slashes. */
    path: string;
    mode: number;
    contents: Buffer;
}

export interface SourceArchive {
    /** Path of the written archive. */
    file: string;
    /** SHA-256 of what is packed (see packedDigest), hex. */
    sha256: string;
    /** The files it holds, relative to the source directory. */
    entries: string[];
}

/** The manifest's patterns: one per line, `#` comments and blank lines ignored. */
export function readManifest(sourceDir: string): string[] {
    const file = path.join(sourceDir, MANIFEST_FILE);
    if (!fs.existsSync(file)) throw new Error(`${sourceDir} has no ${MANIFEST_FILE}: it declares which files the training code ships`);
    return fs.readFileSync(file, "utf8").split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
}

/** `*` matches within one path segment; everything else literally. */
function patternRegExp(pattern: string): RegExp {
    const body = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*");
    return new RegExp(`^${body}$`);
}

/** The files under `sourceDir` the patterns match, sorted; only directories a pattern can reach are read. */
export function declaredFiles(sourceDir: string, patterns: string[]): string[] {
    const matchers = patterns.map(patternRegExp);
    const segmentMatchers = patterns.map((p) => p.split("/").map(patternRegExp));
    // A directory is worth reading if some pattern has more segments and its leading ones match the directory's.
    const mayHoldMatches = (dir: string[]) => segmentMatchers.some((segments) =>
        segments.length > dir.length && dir.every((name, i) => segments[i].test(name)));
    const found: string[] = [];
    const walk = (relative: string[]) => {
        for (const entry of fs.readdirSync(path.join(sourceDir, ...relative), { withFileTypes: true })) {
            const child = [...relative, entry.name];
            if (entry.isDirectory() && mayHoldMatches(child)) walk(child);
            else if (entry.isFile() && matchers.some((m) => m.test(child.join("/")))) found.push(child.join("/"));
        }
    };
    walk([]);
    return found.sort();
}

/** The two modes git records. */
function normalisedMode(mode: number): number {
    return mode & 0o100 ? 0o755 : 0o644;
}

/** SHA-256 over each file's path, mode and contents, in path order: the identity of the packed code. */
export function packedDigest(files: PackedFile[]): string {
    const hash = crypto.createHash("sha256");
    for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
        const header = Buffer.from(`${file.path}\0${file.mode.toString(8)}\0${file.contents.length}\0`);
        hash.update(header).update(file.contents);
    }
    return hash.digest("hex");
}

export function buildSourceArchive(sourceDir: string, outFile: string): SourceArchive {
    if (!fs.existsSync(path.join(sourceDir, "train.py"))) {
        throw new Error(`${sourceDir} has no train.py: it is not the training-scripts directory`);
    }
    const patterns = readManifest(sourceDir);
    const entries = declaredFiles(sourceDir, patterns);
    const missing = patterns.filter((p) => !p.includes("*") && !entries.includes(p));
    if (missing.length > 0) throw new Error(`${MANIFEST_FILE} names ${missing.join(", ")}, which ${sourceDir} does not have`);
    const files: PackedFile[] = entries.map((entry) => {
        const full = path.join(sourceDir, entry);
        return { path: entry, mode: normalisedMode(fs.statSync(full).mode), contents: fs.readFileSync(full) };
    });

    // Packed from a staging copy holding exactly these files with their normalised modes, so the archive's
    // headers carry what the digest covers. Written aside and renamed into place, so two programs at once (two
    // previews, parallel tests) never read each other's half-written archive.
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), "sourcedir-"));
    const partial = `${outFile}.${process.pid}.partial`;
    try {
        for (const file of files) {
            const target = path.join(staging, file.path);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, file.contents);
            fs.chmodSync(target, file.mode);
        }
        tar.create(
            { gzip: { level: 9 }, file: partial, cwd: staging, portable: true, mtime: FIXED_MTIME, sync: true, noDirRecurse: true },
            entries,
        );
        fs.renameSync(partial, outFile);
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
        fs.rmSync(partial, { force: true });
    }
    return { file: outFile, sha256: packedDigest(files), entries };
}
