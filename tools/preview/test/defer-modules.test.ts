import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram } from "../capture";
import { FIXTURES, REPO } from "./helpers";

describe("preview: @npmcli/arborist, normalize-package-data, TypeScript, the Automation API and the AWS SDK load only when used (defer-modules.js)", function () {
    this.timeout(120_000);

    it("the program's SDK loads without them, and a program that uses them gets the real modules", async () => {
        const { stackOutputs } = await captureProgram({ program: path.join(FIXTURES, "deferred-modules-program.ts"), stack: "test", config: {} });
        expect(stackOutputs).to.deep.equal({
            loadedBeforeUse: { arborist: false, normalizePackageData: false, typescript: false, automation: false, awsSdk: false },
            usable: { arborist: true, normalizePackageData: true, typescript: true, automation: true, awsSdk: true },
            awsSdkKeepsItsIdentity: true,
            loadedAfterUse: { arborist: true, normalizePackageData: true, typescript: true, automation: true, awsSdk: true },
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

    it("pack-runner.js: the runner's TypeScript registration loads ts-node and TypeScript only at the first .ts module, with the runner's options", () => {
        // Inside the repository, as a pack is: the runner resolves @pulumi/pulumi, ts-node and TypeScript from it.
        const cache = path.join(REPO, "node_modules", ".cache");
        fs.mkdirSync(cache, { recursive: true });
        const dir = fs.mkdtempSync(path.join(cache, "pack-runner-ts-"));
        try {
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true } }));
            fs.writeFileSync(path.join(dir, "policy.ts"), "const checked: number = 41;\nexport const answer = checked + 1;\n");
            fs.writeFileSync(path.join(dir, "ill-typed.ts"), "export const answer: number = \"forty-two\";\n");
            const runner = path.join(dir, "runner.js");
            // What @pulumi/pulumi/cmd/run-policy-pack/run.js does before it loads a pack, then a pack in TypeScript.
            fs.writeFileSync(runner, [
                `const sdk = (m) => require(require.resolve(m, { paths: [${JSON.stringify(REPO)}] }));`,
                `const tsutils = sdk("@pulumi/pulumi/tsutils");`,
                `const { isDeferred } = require(${JSON.stringify(path.join(REPO, "tools", "preview", "defer-modules.js"))});`,
                `const loaded = () => ({ tsNode: !isDeferred(require.resolve("ts-node", { paths: [${JSON.stringify(REPO)}] })), typescript: !isDeferred(require.resolve("typescript", { paths: [${JSON.stringify(REPO)}] })) });`,
                `const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();`,
                `const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");`,
                `const version = require(require.resolve(typescriptRequire, { paths: [${JSON.stringify(path.join(REPO, "node_modules", "@pulumi", "pulumi"))}] })).version;`,
                `sdk(tsnodeRequire).register({ typeCheck: true, compiler: typescriptRequire, compilerOptions: { module: "commonjs", ...compilerOptions } });`,
                `const before = loaded();`,
                `const answer = require("./policy.ts").answer;`,
                `let typeError = "";`,
                `try { require("./ill-typed.ts"); } catch (e) { typeError = String(e.message).includes("TS2322") ? "TS2322" : String(e.message); }`,
                `process.stdout.write(JSON.stringify({ compilerOptions, version: typeof version, before, answer, typeError, after: loaded() }));`,
            ].join("\n"));
            const out = execFileSync(process.execPath, [path.join(REPO, "tools", "preview", "pack-runner.js"), runner, "127.0.0.1:0", dir], { cwd: dir, encoding: "utf8" });
            expect(JSON.parse(out)).to.deep.equal({
                compilerOptions: { strict: true },
                version: "string",
                before: { tsNode: false, typescript: false },
                answer: 42,
                typeError: "TS2322",
                after: { tsNode: true, typescript: true },
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
