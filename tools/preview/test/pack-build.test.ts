import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensurePackBuilt } from "../pack-build";
import { PolicyPackError } from "../pack-process";

/** A pack whose build script copies index.ts to bin/index.js, or fails when told to. */
function makePack(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pack-build-"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "p", main: "bin/index.js", scripts: { build: "node build.js" } }));
    fs.writeFileSync(path.join(dir, "index.ts"), "export const version = 1;\n");
    fs.writeFileSync(
        path.join(dir, "build.js"),
        `const fs = require("fs");
         if (fs.readFileSync("index.ts", "utf8").includes("BROKEN")) { console.error("index.ts(1,1): error TS1005"); process.exit(1); }
         fs.mkdirSync("bin", { recursive: true }); fs.copyFileSync("index.ts", "bin/index.js");`,
    );
    return dir;
}

function touchLater(file: string, seconds: number): void {
    const when = new Date(Date.now() + seconds * 1000);
    fs.utimesSync(file, when, when);
}

describe("preview: a compiled policy pack is rebuilt when stale", () => {
    let dir: string;
    let lines: string[];
    beforeEach(() => {
        dir = makePack();
        lines = [];
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("builds a pack whose main is missing, then leaves an up-to-date one alone", () => {
        expect(ensurePackBuilt(dir, (l) => lines.push(l))).to.equal(true);
        expect(fs.readFileSync(path.join(dir, "bin", "index.js"), "utf8")).to.contain("version = 1");
        expect(lines[0]).to.match(/building policy pack .* \(bin\/index\.js is missing\)/);
        expect(ensurePackBuilt(dir, (l) => lines.push(l))).to.equal(false);
        expect(lines).to.have.length(1);
    });

    it("rebuilds when a TypeScript source is newer than the build", () => {
        ensurePackBuilt(dir, () => undefined);
        fs.writeFileSync(path.join(dir, "index.ts"), "export const version = 2;\n");
        touchLater(path.join(dir, "index.ts"), 5);
        expect(ensurePackBuilt(dir, (l) => lines.push(l))).to.equal(true);
        expect(lines[0]).to.contain("older than its sources");
        expect(fs.readFileSync(path.join(dir, "bin", "index.js"), "utf8")).to.contain("version = 2");
    });

    it("fails with the build's own output when the build fails", () => {
        fs.writeFileSync(path.join(dir, "index.ts"), "BROKEN\n");
        expect(() => ensurePackBuilt(dir, () => undefined))
            .to.throw(PolicyPackError)
            .with.property("message")
            .that.matches(/its build script failed \(exit 1\)[\s\S]*error TS1005/);
    });

    it("leaves a pack run from TypeScript (no compiled main) to the runner", () => {
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "p", main: "index.ts", scripts: { build: "node build.js" } }));
        expect(ensurePackBuilt(dir, () => undefined)).to.equal(false);
        expect(fs.existsSync(path.join(dir, "bin"))).to.equal(false);
    });
});
