/**
 * The source archive ships what training-scripts/sourcedir.manifest declares, and its digest (which names the S3
 * key, the training jobs and the EC2 run) is taken over what is packed, not over how gzip compressed it.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as tar from "tar";
import { buildSourceArchive, MANIFEST_FILE, packedDigest, PackedFile } from "../source-archive";

const repoRoot = path.resolve(__dirname, "..", "..");

/** Every file in an archive with its path, mode and contents, as `tar` reads it back. */
async function packedFiles(archive: string): Promise<PackedFile[]> {
    const files: PackedFile[] = [];
    await tar.list({
        file: archive,
        onReadEntry: (entry) => {
            const chunks: Buffer[] = [];
            entry.on("data", (chunk: Buffer) => chunks.push(chunk));
            entry.on("end", () => files.push({ path: entry.path, mode: entry.mode ?? 0, contents: Buffer.concat(chunks) }));
        },
    });
    return files;
}

describe("source archive", () => {
    let root: string;
    let scripts: string;
    const write = (file: string, text: string, mode = 0o644) => {
        const full = path.join(scripts, file);
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, text);
        fs.chmodSync(full, mode);
    };
    const build = (name: string) => buildSourceArchive(scripts, path.join(root, `${name}.tar.gz`));

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "source-archive-"));
        scripts = path.join(root, "training-scripts");
        write(MANIFEST_FILE, "# what ships\ntrain.py\nclassifier/*.py\nclassifier/*.json\n");
        write("train.py", "print('train')\n");
        write("classifier/__init__.py", "");
        write("classifier/address_policy.json", "{}\n");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("ships only what the manifest declares: a stray dataset, notebook, checkpoint or cache changes nothing", () => {
        const clean = build("clean");
        for (const stray of [
            "dogImages/train/001.Affenpinscher/a.jpg", "explore.ipynb", "model.pth", "scratch.py", "tests/test_x.py",
            ".hypothesis/unicode_data/x", "classifier/__pycache__/a.cpython-311.pyc", "classifier/notes/draft.py", "classifier/b.pyc",
        ]) write(stray, "x");
        const dirty = build("dirty");
        expect(dirty.entries).to.deep.equal(["classifier/__init__.py", "classifier/address_policy.json", "train.py"]);
        expect(dirty.sha256).to.equal(clean.sha256);
        // A new module of the package is declared by its pattern, and is new code.
        write("classifier/augment.py", "FLIP = True\n");
        const withModule = build("module");
        expect(withModule.entries).to.include("classifier/augment.py");
        expect(withModule.sha256).to.not.equal(clean.sha256);
    });

    it("digests the packed paths, modes and contents, so another zlib's bytes for the same files keep the digest", async () => {
        const archive = build("archive");
        expect(packedDigest(await packedFiles(archive.file)), "the digest is of exactly what the archive holds").to.equal(archive.sha256);

        // The same tar stream compressed another way, as a different zlib (or level) would.
        const recompressed = path.join(root, "recompressed.tar.gz");
        fs.writeFileSync(recompressed, zlib.gzipSync(zlib.gunzipSync(fs.readFileSync(archive.file)), { level: 1 }));
        expect(fs.readFileSync(recompressed).equals(fs.readFileSync(archive.file)), "the compressed bytes differ").to.equal(false);
        expect(packedDigest(await packedFiles(recompressed))).to.equal(archive.sha256);

        // A change to any of the three is a change of code.
        write("train.py", "print('train!')\n");
        const edited = build("edited");
        write("train.py", "print('train')\n", 0o755);
        const executable = build("executable");
        expect(new Set([archive.sha256, edited.sha256, executable.sha256]).size).to.equal(3);
        expect((await packedFiles(executable.file)).find((f) => f.path === "train.py")?.mode).to.equal(0o755);
    });

    it("packs the modes git records, so a checkout under another umask builds the same archive", async () => {
        const usual = build("usual");
        for (const file of ["train.py", "classifier/__init__.py", "classifier/address_policy.json"]) fs.chmodSync(path.join(scripts, file), 0o664);
        const groupWritable = build("group-writable");
        expect(groupWritable.sha256).to.equal(usual.sha256);
        expect(fs.readFileSync(groupWritable.file).equals(fs.readFileSync(usual.file))).to.equal(true);
        expect((await packedFiles(groupWritable.file)).map((f) => f.mode)).to.deep.equal([0o644, 0o644, 0o644]);
    });

    it("refuses a manifest naming a file that is not there, and a directory without a manifest", () => {
        write(MANIFEST_FILE, "train.py\ninference.py\n");
        expect(() => build("missing")).to.throw(`${MANIFEST_FILE} names inference.py, which ${scripts} does not have`);
        fs.rmSync(path.join(scripts, MANIFEST_FILE));
        expect(() => build("no-manifest")).to.throw(`${scripts} has no ${MANIFEST_FILE}`);
    });

    it("the project's manifest ships every file the repository tracks under training-scripts/ but tests and local tools", () => {
        const tracked = execFileSync("git", ["ls-files", "training-scripts"], { cwd: repoRoot, encoding: "utf8" })
            .split("\n").filter(Boolean).map((f) => f.replace(/^training-scripts\//, ""));
        // Run on your machine, never on SageMaker or the EC2 instance.
        const localOnly = new Set(["serve_local.py", "repack_model.py", MANIFEST_FILE]);
        const expected = tracked.filter((f) => !f.startsWith("tests/") && !localOnly.has(f)).sort();
        const archive = buildSourceArchive(path.join(repoRoot, "training-scripts"), path.join(os.tmpdir(), `sourcedir-${process.pid}.tar.gz`));
        fs.rmSync(archive.file, { force: true });
        expect(archive.entries).to.deep.equal(expected);
    });
});
