/**
 * The source archive ships code only: test suites and the caches test runs leave behind (pytest, hypothesis,
 * bytecode) would change its hash, and so start a new training job, without any change to the code.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSourceArchive } from "../source-archive";

describe("source archive", () => {
    it("leaves out tests and the caches of test runs, and hashes the same without them", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "source-archive-"));
        try {
            const scripts = path.join(root, "training-scripts");
            const write = (file: string, text: string) => {
                fs.mkdirSync(path.dirname(path.join(scripts, file)), { recursive: true });
                fs.writeFileSync(path.join(scripts, file), text);
            };
            write("train.py", "print('train')\n");
            write("classifier/address_policy.json", "{}\n");
            const clean = buildSourceArchive(scripts, path.join(root, "clean.tar.gz"));
            for (const cache of ["tests/test_x.py", ".hypothesis/unicode_data/x", ".pytest_cache/v", "classifier/__pycache__/a.pyc", "b.pyc"]) write(cache, "x");
            const dirty = buildSourceArchive(scripts, path.join(root, "dirty.tar.gz"));
            expect(dirty.entries).to.deep.equal(["classifier/address_policy.json", "train.py"]);
            expect(dirty.sha256).to.equal(clean.sha256);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
