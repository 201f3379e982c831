import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram } from "../capture";
import { FIXTURES, REPO } from "./helpers";

describe("preview: @npmcli/arborist and TypeScript load only when used (defer-modules.js)", function () {
    this.timeout(120_000);

    it("the program's SDK loads without them, and a program that uses them gets the real modules", async () => {
        const { stackOutputs } = await captureProgram({ program: path.join(FIXTURES, "deferred-modules-program.ts"), stack: "test", config: {} });
        expect(stackOutputs).to.deep.equal({
            loadedBeforeUse: { arborist: false, typescript: false },
            usable: { arborist: true, typescript: true },
            loadedAfterUse: { arborist: true, typescript: true },
            sdkLoaded: true,
        });
    });

    it("pack-runner.js runs the CLI's runner with the CLI's arguments, @pulumi/pulumi loaded without arborist", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pack-runner-"));
        try {
            const runner = path.join(dir, "runner.js");
            fs.writeFileSync(runner, [
                `const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [process.cwd()] }));`,
                `const loaded = Object.keys(require.cache).some((f) => /arborist[\\\\/]lib[\\\\/]arborist[\\\\/]index\\.js$/.test(f));`,
                `process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), loaded, sdk: typeof pulumi.runtime }));`,
            ].join("\n"));
            const out = execFileSync(process.execPath, [path.join(REPO, "tools", "preview", "pack-runner.js"), runner, "127.0.0.1:0", REPO], { cwd: REPO, encoding: "utf8" });
            expect(JSON.parse(out)).to.deep.equal({ argv: [runner, "127.0.0.1:0", REPO], loaded: false, sdk: "object" });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
