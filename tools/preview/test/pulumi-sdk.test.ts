import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram } from "../capture";
import { PULUMI_SDK_VERSION, programRuntime } from "../pulumi-sdk";

/** A program directory whose node_modules holds an @pulumi/pulumi of `version` (only its package.json). */
function programWithSdk(version: string): { dir: string; program: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-sdk-"));
    const sdk = path.join(dir, "node_modules", "@pulumi", "pulumi");
    fs.mkdirSync(sdk, { recursive: true });
    fs.writeFileSync(path.join(sdk, "package.json"), JSON.stringify({ name: "@pulumi/pulumi", version }));
    const program = path.join(dir, "index.js");
    fs.writeFileSync(program, "module.exports = {};\n");
    return { dir, program };
}

describe("preview: the @pulumi/pulumi internals it relies on", () => {
    it("loads the project's own SDK, the version it was written against", () => {
        const runtime = programRuntime(path.join(__dirname, "fixtures", "simple-program.ts"));
        expect(runtime.settings.setMockOptions).to.be.a("function");
        expect(runtime.proto.RegisterResourceResponse).to.be.a("function");
        const installed = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string };
        expect(installed.version).to.equal(PULUMI_SDK_VERSION);
    });

    it("refuses a program on another SDK version with a message naming both versions and the fix", async () => {
        const { dir, program } = programWithSdk("3.100.0");
        try {
            let error: Error | undefined;
            await captureProgram({ program, stack: "dev", config: {} }).catch((e: Error) => (error = e));
            expect(error?.message).to.equal(
                `the program ${program} uses @pulumi/pulumi 3.100.0, but the offline preview drives the SDK's internals (runtime settings, ` +
                    `generated gRPC stubs) as of ${PULUMI_SDK_VERSION} and cannot vouch for another version. Install ` +
                    `@pulumi/pulumi@${PULUMI_SDK_VERSION} (npm install --save-exact @pulumi/pulumi@${PULUMI_SDK_VERSION}), or check ` +
                    "tools/preview/pulumi-sdk.ts against the new SDK and update PULUMI_SDK_VERSION.",
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("says so when the program has no @pulumi/pulumi at all", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-sdk-"));
        try {
            const program = path.join(dir, "index.js");
            fs.writeFileSync(program, "module.exports = {};\n");
            expect(() => programRuntime(program)).to.throw(`the program ${program} cannot load @pulumi/pulumi`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
