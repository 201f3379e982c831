import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram, readStackConfig, UNKNOWN, type CapturedResource } from "../capture";
import { FIXTURES } from "./helpers";

const program = path.join(FIXTURES, "simple-program.ts");
const STACK_URN = "urn:pulumi:test::preview-fixtures::pulumi:pulumi:Stack::preview-fixtures-test";

function byName(resources: CapturedResource[], name: string): CapturedResource {
    const found = resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name} among ${resources.map((r) => r.name).join(", ")}`);
    return found;
}

describe("preview: readStackConfig", () => {
    it("returns what the CLI puts in PULUMI_CONFIG", async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        expect(config).to.deep.equal({
            "aws:region": "eu-west-1",
            "preview-fixtures:prefix": "fixture",
            "preview-fixtures:replicas": "2",
            "preview-fixtures:tags": '{"team":"ml"}',
            "preview-fixtures:dbPassword": "[secret]",
        });
    });

    it("names the file when it is missing or malformed", async () => {
        const missing = path.join(FIXTURES, "Pulumi.nope.yaml");
        await readStackConfig(missing).then(
            () => expect.fail("should reject"),
            (err: Error) => expect(err.message).to.include(missing).and.include("does not exist"),
        );
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-config-"));
        try {
            const bad = path.join(dir, "Pulumi.bad.yaml");
            fs.writeFileSync(bad, "config: [1, 2]\n");
            await readStackConfig(bad).then(
                () => expect.fail("should reject"),
                (err: Error) => expect(err.message).to.include(bad).and.include('"config" must be a map'),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("preview: captureProgram", function () {
    this.timeout(120_000);
    let preview: Awaited<ReturnType<typeof captureProgram>>;

    before(async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        preview = await captureProgram({ program, stack: "test", config });
    });

    it("records the stack, components and custom resources with engine URNs and parents", () => {
        const { resources } = preview;
        expect(resources[0]).to.include({ urn: STACK_URN, type: "pulumi:pulumi:Stack", custom: false });
        const storage = byName(resources, "fixture-data");
        expect(storage.urn).to.equal("urn:pulumi:test::preview-fixtures::preview-fixtures:storage:Storage::fixture-data");
        expect(storage.parent).to.equal(STACK_URN);
        const bucket = byName(resources, "fixture-data-bucket");
        expect(bucket.urn).to.equal(
            "urn:pulumi:test::preview-fixtures::preview-fixtures:storage:Storage$aws:s3/bucket:Bucket::fixture-data-bucket",
        );
        expect(bucket.parent).to.equal(storage.urn);
        // A resource parented to a resource that itself has a component parent keeps the full type chain.
        const role = byName(resources, "app-role");
        expect(role.urn).to.equal("urn:pulumi:test::preview-fixtures::preview-fixtures:storage:Storage$aws:iam/role:Role::app-role");
    });

    it("keeps unknown values unknown and autonames resources as the provider's Check does", () => {
        const bucket = byName(preview.resources, "fixture-data-bucket");
        expect(bucket.inputs.bucket).to.match(/^fixture-data-bucket-[0-9a-f]{7}$/);
        expect(bucket.outputs.id).to.equal(UNKNOWN);
        const pab = byName(preview.resources, "fixture-data-pab");
        expect(pab.inputs.bucket).to.equal(UNKNOWN);
        const policy = byName(preview.resources, "app-policy");
        expect(policy.inputs.policy).to.equal(UNKNOWN, "the policy interpolates the bucket's unknown ARN");
        expect(policy.inputs.role).to.equal(byName(preview.resources, "app-role").inputs.name);
    });

    it("records dependencies, property dependencies and options", () => {
        const { resources } = preview;
        const bucket = byName(resources, "fixture-data-bucket");
        const role = byName(resources, "app-role");
        const pab = byName(resources, "fixture-data-pab");
        expect(pab.propertyDependencies.bucket).to.deep.equal([bucket.urn]);
        expect(pab.dependencies).to.include(bucket.urn);
        expect(pab.options).to.deep.include({ deleteBeforeReplace: true, ignoreChanges: ["bucket"] });
        expect(bucket.options.protect).to.equal(true);
        expect(role.options.customTimeouts).to.deep.equal({ create: "5m" });
        const logs = byName(resources, "logs");
        expect(logs.options.dependsOn).to.deep.equal([role.urn]);
        const policy = byName(resources, "app-policy");
        expect(policy.propertyDependencies.role).to.deep.equal([role.urn]);
        expect(policy.propertyDependencies.policy).to.deep.equal([bucket.urn]);
    });

    it("uses the engine's default provider unless the program names one", () => {
        const { resources } = preview;
        const defaultProvider = byName(resources, "default_7_48_0");
        expect(defaultProvider.type).to.equal("pulumi:providers:aws");
        expect(defaultProvider.inputs).to.deep.equal({ region: "eu-west-1", version: "7.48.0" });
        expect(byName(resources, "fixture-data-bucket").provider).to.equal(defaultProvider.urn);
        const explicit = byName(resources, "us-east");
        expect(byName(resources, "logs").provider).to.equal(explicit.urn);
    });

    it("answers invokes realistically and captures the dynamic resource", () => {
        const logs = byName(preview.resources, "logs");
        expect(logs.inputs.name).to.equal("/app/123456789012/eu-west-1");
        const counter = byName(preview.resources, "counter");
        expect(counter.type).to.equal("pulumi-nodejs:dynamic:Resource");
        expect(counter.inputs.start).to.equal(2);
        expect(preview.stackOutputs).to.deep.include({ account: "123456789012", roleArn: UNKNOWN });
        expect(preview.stackOutputs.bucketName).to.equal(byName(preview.resources, "fixture-data-bucket").inputs.bucket);
    });

    it("tells onResource of each resource as it registers: the result's resources, in order, before their final outputs", async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        const registered: CapturedResource[] = [];
        const { resources } = await captureProgram({ program, stack: "test", config, onResource: (r) => registered.push(r) });
        expect(registered.map((r) => r.urn)).to.deep.equal(resources.map((r) => r.urn));
        for (const [i, r] of registered.entries()) {
            expect(r.inputs, r.urn).to.deep.equal(resources[i].inputs);
            expect(r.options, r.urn).to.deep.equal(resources[i].options);
            expect(r.provider, r.urn).to.equal(resources[i].provider);
        }
        // Sent when the stack registered, before the program's end registered its outputs.
        expect(registered[0].outputs).to.deep.equal({});
        expect(resources[0].outputs).to.have.property("roleArn");
    });

    it("registers resources without the source position the SDK takes a whole stack trace for", async () => {
        const { resources, stackOutputs } = await captureProgram({ program: path.join(FIXTURES, "source-positions-program.ts"), stack: "test", config: {} });
        expect(byName(resources, "positioned").type).to.equal("preview-fixtures:index:Component");
        expect(stackOutputs.sourcePosition).to.deep.equal([]);
    });

    it("gives realistic outputs when not a preview", async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        const update = await captureProgram({ program, stack: "test", config, dryRun: false });
        const role = byName(update.resources, "app-role");
        expect(role.outputs.arn).to.equal(`arn:aws:iam::123456789012:role/${String(role.inputs.name)}`);
        const policy = byName(update.resources, "app-policy");
        const document = JSON.parse(String(policy.inputs.policy)) as { Statement: { Resource: string }[] };
        const bucket = byName(update.resources, "fixture-data-bucket");
        expect(document.Statement[0].Resource).to.equal(`arn:aws:s3:::${String(bucket.inputs.bucket)}/*`);
        expect(update.stackOutputs.roleArn).to.equal(role.outputs.arn);
    });

    it("rejects with the program's own message, without a stack trace", async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        const err = await captureProgram({ program: path.join(FIXTURES, "throwing-program.ts"), stack: "test", config }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).to.equal("replicas must be 1 for this fixture, got 2");
        const missing = await captureProgram({ program: path.join(FIXTURES, "throwing-program.ts"), stack: "test", config: {} }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(missing?.message).to.include("Missing required configuration variable 'preview-fixtures:replicas'");
        expect(missing?.message).not.to.match(/\n\s+at /);
    });
});
