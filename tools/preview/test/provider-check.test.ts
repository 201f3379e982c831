import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram, readStackConfig } from "../capture";
import { PLACEHOLDER_PROVIDER } from "../provider-check";
import { fixture, FIXTURES, runCli } from "./helpers";

describe("preview: dynamic providers serialized only when the program changed (provider-check.ts)", function () {
    this.timeout(180_000);
    let dir: string;
    let cache: string;
    let config: Record<string, string>;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-check-"));
        cache = path.join(dir, "dynamic-providers.json");
        config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("serializes on the first run, reuses the verdict for the same program and config, serializes again after a change", async () => {
        const program = path.join(FIXTURES, "simple-program.ts");
        const first = await captureProgram({ program, stack: "test", config, providerCheckCache: cache });
        expect(first.dynamicProviders).to.equal("serialized");
        expect(first.resources.find((r) => r.name === "counter")?.inputs.__provider).to.equal(PLACEHOLDER_PROVIDER);
        expect((await captureProgram({ program, stack: "test", config, providerCheckCache: cache })).dynamicProviders).to.equal("reused");
        const changed = { ...config, "preview-fixtures:replicas": "3" };
        expect((await captureProgram({ program, stack: "test", config: changed, providerCheckCache: cache })).dynamicProviders).to.equal("serialized");
        // A program's own source counts: a copy of the program elsewhere is another program.
        const copy = path.join(FIXTURES, `simple-program-copy-${process.pid}.ts`);
        fs.writeFileSync(copy, `${fs.readFileSync(program, "utf8")}\n// a change\n`);
        try {
            expect((await captureProgram({ program: copy, stack: "test", config, providerCheckCache: cache })).dynamicProviders).to.equal("serialized");
        } finally {
            fs.rmSync(copy, { force: true });
        }
        // Without the cache the SDK serializes the provider itself, as the tests that run its code need.
        const plain = await captureProgram({ program, stack: "test", config });
        expect(plain.resources.find((r) => r.name === "counter")?.inputs.__provider).to.be.a("string").and.include("exports.handler");
    });

    it("the preview CLI fails on a provider `pulumi preview` could not serialize, naming why", async () => {
        const { code, stderr, stdout } = await runCli(["--stack", "test", "--program", fixture("unserializable-provider-program.ts"), "--config-file", fixture("Pulumi.test.yaml"), "--policy-pack", fixture("fixture-pack")]);
        expect(code, stdout).to.equal(2);
        expect(stderr).to.include("unserializable-provider-program.ts failed: Error serializing '() => provider'");
    });

    it("a provider that does not serialize fails the run, every time, with the SDK's reason", async () => {
        const program = path.join(FIXTURES, "unserializable-provider-program.ts");
        for (let run = 0; run < 2; run++) {
            await captureProgram({ program, stack: "test", config: {}, providerCheckCache: cache }).then(
                () => expect.fail("the capture should fail"),
                (error: Error) => expect(error.message).to.include("Error serializing '() => provider'").and.include("it was a native code function"),
            );
        }
    });
});
