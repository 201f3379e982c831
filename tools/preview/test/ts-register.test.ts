import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REGISTER = path.resolve(__dirname, "..", "ts-register.js");
const CACHE_DIR = path.resolve(__dirname, "..", "..", "..", "node_modules", ".cache", "preview-ts");

function load(file: string): string {
    return execFileSync(process.execPath, ["--require", REGISTER, "-e", `process.stdout.write(String(require(${JSON.stringify(file)}).value))`], { encoding: "utf8" });
}

describe("the preview's TypeScript loader (ts-register.js)", () => {
    it("compiles a module once, and again whenever its source changes, never serving a stale one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-register-"));
        try {
            const file = path.join(dir, "module.ts");
            // A marker no other test writes, so the cache entries counted are this module's.
            const marker = `marker${process.pid}${Date.now()}`;
            const entries = () => (fs.existsSync(CACHE_DIR) ? fs.readdirSync(CACHE_DIR).filter((f) => fs.readFileSync(path.join(CACHE_DIR, f), "utf8").includes(marker)) : []);
            fs.writeFileSync(file, `const value: string = "${marker}-1";\nexport { value };\n`);
            expect(load(file)).to.equal(`${marker}-1`);
            expect(entries()).to.have.length(1);
            expect(load(file), "from the cache").to.equal(`${marker}-1`);
            expect(entries()).to.have.length(1);
            fs.writeFileSync(file, `const value: string = "${marker}-2";\nexport { value };\n`);
            expect(load(file), "after an edit").to.equal(`${marker}-2`);
            expect(entries()).to.have.length(2);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("serves a TypeScript module that another imports with import(), as CommonJS compiled by tsc would", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-register-"));
        try {
            fs.writeFileSync(path.join(dir, "lazy.ts"), `export const answer: number = 42;\n`);
            // Extensionless, as TypeScript sources write it: Node's ES module loader would find no such file.
            fs.writeFileSync(path.join(dir, "module.ts"), `export const value = import("./lazy").then((m) => m.answer);\n`);
            const out = execFileSync(
                process.execPath,
                ["--require", REGISTER, "-e", `require(${JSON.stringify(path.join(dir, "module.ts"))}).value.then((v) => process.stdout.write(String(v)))`],
                { encoding: "utf8" },
            );
            expect(out).to.equal("42");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
