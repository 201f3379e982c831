import { expect } from "chai";
import * as path from "node:path";
import { configurePolicyPack, PolicyPackError, runPolicyPack, startPolicyPack, type PolicyPackResult } from "../analyzer";
import { captureProgram, readStackConfig, type CapturedResource } from "../capture";
import { resolvePolicyConfig, type PolicyDescription } from "../policy-config";
import { FIXTURES } from "./helpers";

const packDir = path.join(FIXTURES, "fixture-pack");

function alive(pid: number | undefined): boolean {
    if (pid === undefined) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe("preview: policy config validation", () => {
    const policies: PolicyDescription[] = [
        {
            name: "sized",
            description: "",
            enforcementLevel: "mandatory",
            type: "resource",
            configSchema: { properties: { max: { type: "integer", maximum: 10, default: 5 }, label: { type: "string" } }, required: [] },
        },
        { name: "plain", description: "", enforcementLevel: "advisory", type: "stack" },
    ];

    it("applies schema defaults and resolves enforcement levels (policy > all > default)", () => {
        const resolved = resolvePolicyConfig(policies, { all: "disabled", sized: { label: "x" } }, "cfg.json");
        expect(resolved.sized).to.deep.equal({ enforcementLevel: "disabled", properties: { label: "x", max: 5 } });
        expect(resolved.plain.enforcementLevel).to.equal("disabled");
        const perPolicy = resolvePolicyConfig(policies, { all: "disabled", plain: "mandatory" }, "cfg.json");
        expect(perPolicy.plain.enforcementLevel).to.equal("mandatory");
        expect(resolvePolicyConfig(policies, {}, "cfg.json").sized).to.deep.equal({ enforcementLevel: "mandatory", properties: { max: 5 } });
    });

    it("layers levels as the CLI does: default, the pack's initial all, its initial entry, the file's all, the file's entry", () => {
        const withInitial: PolicyDescription[] = [{ ...policies[0], initialConfig: { enforcementLevel: "advisory" } }, policies[1]];
        const noFile = resolvePolicyConfig(withInitial, {}, "defaults", "mandatory");
        expect([noFile.sized.enforcementLevel, noFile.plain.enforcementLevel]).to.deep.equal(["advisory", "mandatory"]);
        const fileAll = resolvePolicyConfig(withInitial, { all: { enforcementLevel: "disabled" } }, "cfg.json", "mandatory");
        expect([fileAll.sized.enforcementLevel, fileAll.plain.enforcementLevel]).to.deep.equal(["disabled", "disabled"]);
        expect(() => resolvePolicyConfig(policies, { all: { enforcementLevel: "loud" } }, "cfg.json")).to.throw('cfg.json: "all": enforcement level "loud" is not one of');
    });

    it("rejects unknown policies, unknown properties, values outside the schema and bad levels, naming them", () => {
        expect(() => resolvePolicyConfig(policies, { nope: "mandatory" }, "cfg.json")).to.throw(/cfg\.json: policy "nope" does not exist/);
        expect(() => resolvePolicyConfig(policies, { sized: { max: 11 } }, "cfg.json")).to.throw(/policy "sized": config property "max" must be <= 10/);
        expect(() => resolvePolicyConfig(policies, { sized: { maxx: 1 } }, "cfg.json")).to.throw(/policy "sized" has no config property "maxx"/);
        expect(() => resolvePolicyConfig(policies, { plain: "strict" }, "cfg.json")).to.throw(/policy "plain": enforcement level "strict"/);
        expect(() => resolvePolicyConfig(policies, [], "cfg.json")).to.throw(/must be a JSON object/);
    });
});

describe("preview: bounds a pack declares with x-notGreaterThan", () => {
    const bounded = (minSpec: Record<string, unknown>): PolicyDescription[] => [
        {
            name: "bounded",
            description: "",
            enforcementLevel: "mandatory",
            type: "stack",
            configSchema: { properties: { low: { type: "number", default: 1, ...minSpec }, high: { type: "number", default: 5 } }, required: [] },
        },
    ];

    it("rejects a lower bound above its upper bound, after defaults, naming the policy and both properties", () => {
        const policies = bounded({ "x-notGreaterThan": "high" });
        expect(() => resolvePolicyConfig(policies, { bounded: { low: 6 } }, "cfg.json")).to.throw(
            'cfg.json: policy "bounded": config property "low" (6) is greater than "high" (5); set low <= high',
        );
        expect(() => resolvePolicyConfig(policies, { bounded: { high: 0 } }, "cfg.json")).to.throw('"low" (1) is greater than "high" (0)');
        expect(resolvePolicyConfig(policies, { bounded: { low: 5 } }, "cfg.json").bounded.properties).to.deep.equal({ low: 5, high: 5 });
    });

    it("rejects a schema whose bound names no property", () => {
        expect(() => resolvePolicyConfig(bounded({ "x-notGreaterThan": "hihg" }), {}, "cfg.json")).to.throw(
            'policy "bounded" has an invalid configSchema: low.x-notGreaterThan must name another config property, not "hihg"',
        );
    });
});

describe("preview: runPolicyPack against a real policy pack process", function () {
    this.timeout(120_000);
    let resources: CapturedResource[];
    let result: PolicyPackResult;

    before(async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        ({ resources } = await captureProgram({ program: path.join(FIXTURES, "simple-program.ts"), stack: "test", config }));
        result = await runPolicyPack({ packDir, policyConfig: { "bucket-name-prefix": { prefix: "prod-" } }, resources });
    });

    it("reports the pack's policies with their resolved config, defaults applied", () => {
        expect(result.pack).to.include({ name: "preview-fixture", version: "0.0.1" });
        const prefix = result.pack.policies.find((p) => p.name === "bucket-name-prefix");
        expect(prefix?.config).to.deep.equal({ enforcementLevel: "mandatory", properties: { prefix: "prod-", maxLength: 63 } });
        expect(result.pack.policies.map((p) => p.type)).to.include.members(["resource", "stack"]);
    });

    it("attributes resource violations to the analyzed resource, with the configured values", () => {
        const bucket = resources.find((r) => r.type === "aws:s3/bucket:Bucket");
        const violations = result.violations.filter((v) => v.policyName === "bucket-name-prefix");
        expect(violations).to.have.length(1);
        expect(violations[0]).to.include({ enforcementLevel: "mandatory", urn: bucket?.urn, resourceType: "aws:s3/bucket:Bucket", resourceName: "fixture-data-bucket" });
        expect(violations[0].message).to.include(`bucket ${String(bucket?.inputs.bucket)} does not start with prod-`);
    });

    it("passes the provider, parents and property dependencies the policies read", () => {
        const region = result.violations.find((v) => v.policyName === "log-group-provider-region");
        expect(region?.message).to.include("uses provider us-east in us-east-1");
        expect(result.violations.filter((v) => v.policyName === "role-in-component")).to.deep.equal([]);
        expect(result.violations.filter((v) => v.policyName === "role-policy-depends-on-role")).to.deep.equal([]);
    });

    it("lets the policy framework see unknown values as unknown (an advisory, not a crash or a pass)", () => {
        const unknown = result.violations.find((v) => v.policyName === "role-policy-statements");
        expect(unknown?.enforcementLevel).to.equal("advisory");
        expect(unknown?.message).to.include("during preview").and.include(".policy");
        expect(unknown?.resourceName).to.equal("app-policy");
    });

    it("reports a stack policy's violation against the resource it names", async () => {
        // Without property dependencies the stack policy cannot link the role policy to its role.
        const stripped = resources.map((r) => ({ ...r, propertyDependencies: {} }));
        const again = await runPolicyPack({ packDir, policyConfig: {}, resources: stripped });
        const v = again.violations.find((x) => x.policyName === "role-policy-depends-on-role");
        expect(v).to.include({ enforcementLevel: "mandatory", resourceName: "app-policy", resourceType: "aws:iam/rolePolicy:RolePolicy" });
    });

    it("analyzes resources as the program registers them, with the same violations as a run over the finished program", async () => {
        const config = await readStackConfig(path.join(FIXTURES, "Pulumi.test.yaml"));
        const configured = await configurePolicyPack({ packDir, policyConfig: { "bucket-name-prefix": { prefix: "prod-" } } });
        let analyzedBeforeTheEnd = 0;
        const captured = await captureProgram({
            program: path.join(FIXTURES, "simple-program.ts"),
            stack: "test",
            config,
            onResource: (r) => {
                configured.analyzeResource(r);
                analyzedBeforeTheEnd++;
            },
        });
        expect(analyzedBeforeTheEnd).to.equal(captured.resources.length);
        const streamed = await configured.analyze(captured.resources);
        expect(streamed).to.deep.equal(result);
    });

    it("stops the pack's process after a run and after a config error", async () => {
        const started = startPolicyPack(packDir, process.env);
        const pid = (await started).child.pid;
        expect(alive(pid)).to.equal(true);
        const err = await runPolicyPack({ packDir, policyConfig: { "bucket-name-prefix": { maxLength: 100 } }, policyConfigSource: "out-of-range.json", resources }, started).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).to.equal('out-of-range.json: policy "bucket-name-prefix": config property "maxLength" must be <= 63');
        expect(alive(pid)).to.equal(false);
    });

    it("fails with the pack's own log when the pack cannot start", async () => {
        const err = await runPolicyPack({ packDir: path.join(FIXTURES, "broken-pack"), policyConfig: {}, resources }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err).to.be.instanceOf(PolicyPackError);
        expect(err?.message).to.include("failed to start").and.include("broken-pack: the policies could not be loaded");
    });
});
