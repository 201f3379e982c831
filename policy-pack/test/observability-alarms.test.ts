/**
 * observability-alarms-required through the policy pack process, on the project's own program captured as
 * `pulumi preview` sees it: both stacks pass; a missing alarm, an alarm that notifies nobody or watches
 * another endpoint is mandatory in prod and advisory in dev; an alarm whose dimensions are unknown until
 * created is linked by dependency and reported as unchecked, never passed or failed on a guess.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { runPolicyPack, Violation } from "../../tools/preview/analyzer";
import { CapturedResource, captureProgram, readStackConfig, UNKNOWN } from "../../tools/preview/capture";
import { buildPack, packDir } from "./build-pack";

const root = path.resolve(packDir, "..");
const policyName = "observability-alarms-required";

interface Captured {
    resources: CapturedResource[];
    stackConfig: Record<string, string>;
    policyConfig: unknown;
}

type Fault = (resources: CapturedResource[]) => void;

function alarm(resources: CapturedResource[], suffix: string): CapturedResource {
    const found = resources.find((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name === `monitoring-${suffix}`);
    if (!found) throw new Error(`no alarm monitoring-${suffix}`);
    return found;
}

function set(resource: CapturedResource, key: string, value: unknown): void {
    resource.inputs[key] = value;
    resource.outputs[key] = value;
}

const remove = (suffix: string): Fault => (rs) => void rs.splice(rs.indexOf(alarm(rs, suffix)), 1);

describe(`${policyName} through the policy pack process`, function () {
    this.timeout(240_000);
    const captured: Partial<Record<"dev" | "prod", Captured>> = {};

    async function judge(stack: "dev" | "prod", fault?: Fault): Promise<Violation[]> {
        const base = captured[stack] as Captured;
        const resources = structuredClone(base.resources);
        fault?.(resources);
        const { violations } = await runPolicyPack({ packDir, policyConfig: base.policyConfig, policyConfigSource: `policy-pack/config/${stack}.json`, resources, stackConfig: base.stackConfig });
        return violations.filter((v) => v.policyName === policyName);
    }

    before(async () => {
        buildPack();
        for (const stack of ["dev", "prod"] as const) {
            const stackConfig = await readStackConfig(path.join(root, `Pulumi.${stack}.yaml`));
            const { resources } = await captureProgram({ program: path.join(root, "infra", "index.ts"), stack, config: stackConfig, dryRun: true });
            const policyConfig = JSON.parse(fs.readFileSync(path.join(packDir, "config", `${stack}.json`), "utf8")) as unknown;
            captured[stack] = { resources, stackConfig, policyConfig };
        }
    });

    it("passes both stacks as the program declares them, with nothing left unchecked", async () => {
        expect(await judge("prod")).to.deep.equal([]);
        expect(await judge("dev")).to.deep.equal([]);
    });

    it("prod: a variant without a latency alarm is a mandatory violation naming the metric and the dimensions to use", async () => {
        const [violation, ...rest] = await judge("prod", remove("AllTraffic-latency-p99"));
        expect(rest).to.deep.equal([]);
        expect(violation.enforcementLevel).to.equal("mandatory");
        expect(violation.resourceName).to.equal("classifier-endpoint");
        expect(violation.message).to.include("Endpoint 'classifier-endpoint' variant 'AllTraffic' has no CloudWatch alarm on its latency (AWS/SageMaker ModelLatency or OverheadLatency)");
        expect(violation.message).to.include('dimensions EndpointName "sagemaker-classifier-prod", VariantName "AllTraffic"');
    });

    it("prod: a function alarm that notifies nobody does not count; one on another endpoint does not either", async () => {
        const silent = await judge("prod", (rs) => set(alarm(rs, "lambda-errors"), "alarmActions", []));
        expect(silent.map((v) => [v.enforcementLevel, v.resourceName])).to.deep.equal([["mandatory", "inference-api-function"]]);
        expect(silent[0].message).to.match(/has no CloudWatch alarm on its errors \(AWS\/Lambda Errors\) with an alarm action: MetricAlarm 'monitoring-lambda-errors' notifies nobody/);
        const elsewhere = await judge("prod", (rs) => {
            for (const suffix of ["AllTraffic-5xx", "AllTraffic-4xx-rate"]) {
                const a = alarm(rs, suffix);
                if (a.inputs.dimensions) set(a, "dimensions", { EndpointName: "another-endpoint", VariantName: "AllTraffic" });
                else set(a, "metricQueries", (a.inputs.metricQueries as Array<{ metric?: { dimensions: object } }>).map((q) => q.metric ? { ...q, metric: { ...q.metric, dimensions: { EndpointName: "another-endpoint", VariantName: "AllTraffic" } } } : q));
            }
        });
        expect(elsewhere.map((v) => v.message)).to.have.length(1);
        expect(elsewhere[0].message).to.include("has no CloudWatch alarm on its errors (AWS/SageMaker Invocation5XXErrors or Invocation4XXErrors)");
    });

    it("dev: the same gaps are advisory", async () => {
        const violations = await judge("dev", (rs) => {
            remove("AllTraffic-5xx")(rs);
            remove("AllTraffic-4xx-rate")(rs);
            remove("lambda-duration-p99")(rs);
        });
        expect(violations.map((v) => v.enforcementLevel)).to.deep.equal(["advisory", "advisory"]);
        expect(violations.map((v) => v.message).join("\n")).to.include("variant 'AllTraffic' has no CloudWatch alarm on its errors").and.include("has no CloudWatch alarm on its latency (AWS/Lambda Duration)");
    });

    it("an alarm whose dimensions are unknown until created counts by its dependency, and is reported as unchecked", async () => {
        const violations = await judge("prod", (rs) => {
            const a = alarm(rs, "lambda-duration-p99");
            set(a, "dimensions", { FunctionName: UNKNOWN, Resource: UNKNOWN });
            const fn = rs.find((r) => r.type === "aws:lambda/function:Function") as CapturedResource;
            a.propertyDependencies.dimensions = [fn.urn];
        });
        expect(violations).to.have.length(1);
        expect(violations[0].enforcementLevel).to.equal("advisory");
        expect(violations[0].message).to.include("the latency alarm of Function 'inference-api-function'").and.include("unknown until the resources are created");
        // Without the dependency nothing ties the alarm to the function: a violation, never a pass.
        const unlinked = await judge("prod", (rs) => {
            const a = alarm(rs, "lambda-duration-p99");
            set(a, "dimensions", { FunctionName: UNKNOWN, Resource: UNKNOWN });
            const fn = rs.find((r) => r.type === "aws:lambda/function:Function") as CapturedResource;
            a.propertyDependencies = {};
            a.dependencies = a.dependencies.filter((urn) => urn !== fn.urn);
        });
        expect(unlinked.map((v) => v.enforcementLevel)).to.deep.equal(["mandatory"]);
    });
});
