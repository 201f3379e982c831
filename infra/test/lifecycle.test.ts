/**
 * The second `pulumi up`: the real program under mocks, once with a stack's config and once with one change,
 * and what the user's next `pulumi up` would do about it.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { CapturedResource, captureProgram, readStackConfig } from "../../tools/preview/capture";

const repoRoot = path.resolve(__dirname, "..", "..");
const program = path.join(repoRoot, "infra", "index.ts");

type Overrides = Record<string, unknown>;

/** Deep-merges `patch` into a config section, as `pulumi config set --path` does. */
function merged(base: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch) || base === null || typeof base !== "object") return patch;
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) out[k] = v === undefined ? undefined : merged(out[k], v);
    return out;
}

async function capture(stack: string, patch: Overrides = {}, project?: { stackName?: string }): Promise<CapturedResource[]> {
    const config = await readStackConfig(path.join(repoRoot, `Pulumi.${stack.replace(/-.*$/, "")}.yaml`));
    for (const [key, value] of Object.entries(patch)) {
        const current = config[key] === undefined ? undefined : (JSON.parse(config[key]) as unknown);
        config[key] = JSON.stringify(merged(current, value));
    }
    const { resources } = await captureProgram({ program, stack: project?.stackName ?? stack, config, dryRun: false });
    return resources;
}

const TRAINING_JOB = "aws:sagemaker/trainingJob:TrainingJob";
const TUNING_JOB = "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob";
const jobName = (resources: CapturedResource[], type: string) => {
    const found = resources.filter((r) => r.type === type);
    expect(found, type).to.have.length(1);
    return (found[0].inputs.trainingJobName ?? found[0].inputs.name) as string;
};

const single = { "sagemaker-classifier:training": { mode: "single" } };
const EC2_INSTANCE = "aws:ec2/instance:Instance";

/**
 * The state `pulumi refresh` leaves once the EC2 run has ended and the instance shut itself down. The provider's
 * read (FindInstanceByID in internal/service/ec2) reports a `terminated` instance as not found, so refresh
 * removes it from the state; a `stopped` one is read as it is and stays.
 */
function refreshedAfterEc2Run(state: CapturedResource[]): CapturedResource[] {
    return state.filter((r) => !(r.type === EC2_INSTANCE && r.inputs.instanceInitiatedShutdownBehavior === "terminate"));
}

describe("job names: a digest of exactly what SageMaker receives, plus project, stack and attempt", function () {
    this.timeout(300_000);
    let tuning: string;
    let singleJob: string;

    before(async () => {
        const [a, b] = await Promise.all([capture("prod"), capture("prod", single)]);
        tuning = jobName(a, TUNING_JOB);
        singleJob = jobName(b, TRAINING_JOB);
    });

    async function tuningName(patch: Overrides, opts?: { stackName?: string }) {
        return jobName(await capture("prod", patch, opts), TUNING_JOB);
    }
    async function singleName(patch: Overrides) {
        return jobName(await capture("prod", merged(single, patch) as Overrides), TRAINING_JOB);
    }

    it("keeps the tuning job when only the wait timeout changes, so 'raise the timeout and run again' waits for the same job", async () => {
        expect(await tuningName({ "sagemaker-classifier:training": { tuning: { waitTimeoutMinutes: 900 } } })).to.equal(tuning);
    });

    it("keeps the tuning job when a tuned hyperparameter's fixed value changes (the search space supplies it)", async () => {
        expect(await tuningName({ "sagemaker-classifier:training": { hyperparameters: { learningRate: 0.05, batchSize: 64 } } })).to.equal(tuning);
    });

    it("keeps the single job when tuning settings change (a single job never receives them)", async () => {
        expect(await singleName({ "sagemaker-classifier:training": { tuning: { maxJobs: 10, maxParallelJobs: 5, waitTimeoutMinutes: 30 } } })).to.equal(singleJob);
    });

    it("starts a new job for what the job does receive: epochs, the search space, the instance type", async () => {
        const names = await Promise.all([
            tuningName({ "sagemaker-classifier:training": { hyperparameters: { epochs: 3 } } }),
            tuningName({ "sagemaker-classifier:training": { tuning: { maxJobs: 6 } } }),
            singleName({ "sagemaker-classifier:training": { instanceType: "ml.m5.2xlarge" } }),
            singleName({ "sagemaker-classifier:training": { hyperparameters: { learningRate: 0.05 } } }),
        ]);
        expect(names.slice(0, 2)).to.not.include(tuning);
        expect(names.slice(2)).to.not.include(singleJob);
    });

    it("gives another stack with the same config, and the next training.attempt, a different name", async () => {
        const [otherStack, retry] = await Promise.all([
            tuningName({}, { stackName: "prod-eu" }),
            tuningName({ "sagemaker-classifier:training": { attempt: 2 } }),
        ]);
        expect(otherStack).to.not.equal(tuning);
        expect(retry).to.not.equal(tuning);
        expect(retry).to.match(/^clf-prod-[0-9a-f]{10}$/);
    });
});

/**
 * Replace-on-change inputs per resource type, from terraform-provider-aws's schemas (RequiresReplace /
 * ForceNew; see docs/lifecycle.md); "*" means every input but tags and timeouts. The
 * project's dynamic resources replace as their own diff() says. Anything else changes in place.
 */
const REPLACE_ON_CHANGE: Record<string, string[] | "*"> = {
    "aws:sagemaker/trainingJob:TrainingJob": "*",
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": "*",
    "aws:sagemaker/model:Model": "*",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "*",
    "aws:sagemaker/endpoint:Endpoint": ["name"],
    "aws:appautoscaling/target:Target": ["resourceId", "scalableDimension", "serviceNamespace"],
    "aws:appautoscaling/policy:Policy": ["name", "resourceId", "scalableDimension", "serviceNamespace"],
    "aws:lambda/function:Function": ["name"],
    "aws:lambda/alias:Alias": ["name", "functionName"],
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": ["functionName", "qualifier"],
    "aws:ec2/instance:Instance": ["ami", "userData", "subnetId", "keyName", "availabilityZone"],
    "aws:cloudwatch/logGroup:LogGroup": ["name"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult": ["tuningJobName"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:TrainingJobNameCheck": ["trainingJobName"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:TrainingJobResult": ["trainingJobName"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:VariantShape": ["scalableResourceId", "instanceType"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout": ["endpointName", "sdk"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:FailedEndpointCleanup": ["endpointName", "sdk"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion": ["groupName", "image", "modelDataUrl", "environment"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:ApprovedModelVersion": ["modelPackageArn"],
    "pulumi-nodejs:dynamic/sagemaker-classifier:ModelRegistryCleanup": ["groupName"],
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ["modelPackageGroupName"],
};

/**
 * Outputs a provider sets anew when it updates these inputs of a resource, so whatever takes them changes too.
 * A Lambda function with `publish: true` publishes a new version when its code or configuration changes, not its
 * tags (terraform-provider-aws's aws_lambda_function update), and its alias follows `version`.
 */
const NEW_ON_UPDATE: Record<string, (r: CapturedResource, changedKeys: string[]) => string[]> = {
    "aws:lambda/function:Function": (r, keys) =>
        (r.inputs.publish === true && keys.some((k) => !IN_PLACE_ALWAYS.has(k)) ? ["version", "qualifiedArn", "qualifiedInvokeArn"] : []),
};
const IN_PLACE_ALWAYS = new Set(["tags", "tagsAll", "timeouts", "__provider"]);

interface Plan {
    replaced: string[];
    updated: string[];
    /** Resources the change adds or removes (a new logical name), e.g. a model's own read grant. */
    addedOrRemoved: string[];
    newJob: boolean;
}

/** What `pulumi up` would do going from `before` to `after`, replacing what a replaced input's change forces. */
function plan(before: CapturedResource[], after: CapturedResource[]): Plan {
    const old = new Map(before.filter((r) => r.custom).map((r) => [r.urn, r]));
    const replaced = new Set<string>();
    const updated = new Map<string, string[]>();
    const isResource = (r: CapturedResource) => r.custom && !r.type.startsWith("pulumi:providers:");
    for (const r of after.filter(isResource)) {
        const o = old.get(r.urn);
        if (!o) continue;
        const rule = REPLACE_ON_CHANGE[r.type] ?? [];
        // ignoreChanges keeps the state's value of those inputs: the provider never sees them change.
        const ignored = new Set(r.options.ignoreChanges ?? []);
        const forces = (key: string) => !IN_PLACE_ALWAYS.has(key) && (rule === "*" || rule.includes(key));
        const changed = Object.keys({ ...o.inputs, ...r.inputs }).filter((k) => JSON.stringify(o.inputs[k]) !== JSON.stringify(r.inputs[k]) && k !== "__provider");
        // An input taken from a replaced resource changes too (its outputs become new), as the engine assumes; so
        // does one taken from an output its provider sets anew on every update of the resource it comes from.
        const cascaded = Object.entries(r.propertyDependencies).filter(([key, deps]) => deps.some((d) => {
            if (replaced.has(d)) return true;
            if (!updated.has(d)) return false;
            const source = after.find((x) => x.urn === d) as CapturedResource;
            const renewed = NEW_ON_UPDATE[source.type]?.(source, updated.get(d) ?? []) ?? [];
            return renewed.some((out) => JSON.stringify(source.outputs[out]) === JSON.stringify(r.inputs[key]));
        })).map(([k]) => k);
        const keys = [...new Set([...changed, ...cascaded])].filter((k) => !ignored.has(k));
        if (keys.some(forces)) replaced.add(r.urn);
        else if (keys.length > 0) updated.set(r.urn, keys);
    }
    const typeOf = (urn: string, resources: CapturedResource[]) => (resources.find((r) => r.urn === urn) as CapturedResource).type.split(":").pop() as string;
    const label = (urn: string) => typeOf(urn, after);
    const newUrns = new Set(after.filter(isResource).map((r) => r.urn));
    const addedOrRemoved = [
        ...after.filter((r) => isResource(r) && !old.has(r.urn)).map((r) => typeOf(r.urn, after)),
        ...before.filter((r) => isResource(r) && !newUrns.has(r.urn)).map((r) => typeOf(r.urn, before)),
    ];
    // A new or replaced EC2 training instance is a new training run too.
    const jobs = after.filter((r) => r.type === TRAINING_JOB || r.type === TUNING_JOB || r.type === EC2_INSTANCE);
    return {
        replaced: [...replaced].map(label).sort(),
        updated: [...updated.keys()].map(label).sort(),
        addedOrRemoved: [...new Set(addedOrRemoved)].sort(),
        newJob: jobs.some((j) => replaced.has(j.urn) || !old.has(j.urn)),
    };
}

/** docs/lifecycle.md's row for a change: exactly what `plan` finds. */
function row(change: string, p: Plan): string {
    const list = (names: string[]) => (names.length ? [...new Set(names)].join(", ") : "—");
    return `| ${change} | ${list(p.replaced)} | ${list(p.updated)} | ${list(p.addedOrRemoved)} | ${p.newJob ? "yes" : "no"} |`;
}

describe("lifecycle matrix: what each config change does on the next pulumi up", function () {
    this.timeout(600_000);
    const lifecyclePage = fs.readFileSync(path.join(repoRoot, "docs", "lifecycle.md"), "utf8");
    type Change = [string, string, Overrides, (p: Plan) => void, { refreshFirst?: boolean }?];
    const ROLLOUT = "EndpointRollout";
    const changes: Change[] = [
        ["a hyperparameter (`training.hyperparameters.epochs`)", "prod", { "sagemaker-classifier:training": { hyperparameters: { epochs: 3 } } },
            (p) => expect(p).to.include({ newJob: true }) && expect(p.replaced).to.include.members(["HyperParameterTuningJob", "ModelPackageVersion"]) &&
                expect(p.replaced, "a new model is registered for approval; the endpoint keeps serving the pinned version").to.not.include("Model")],
        ["a new model version (`modelRegistry.servedVersion`, approved)", "prod", { "sagemaker-classifier:modelRegistry": { servedVersion: 2 } },
            (p) => expect(p.replaced).to.include.members(["ApprovedModelVersion", "Model", "EndpointConfiguration"]) && expect(p.updated).to.include(ROLLOUT) && expect(p.newJob).to.equal(false)],
        ["the wait timeout (`training.tuning.waitTimeoutMinutes`)", "prod", { "sagemaker-classifier:training": { tuning: { waitTimeoutMinutes: 600 } } },
            (p) => expect(p).to.deep.equal({ replaced: [], updated: ["BestTuningResult"], addedOrRemoved: [], newJob: false })],
        ["the training instance type", "prod", { "sagemaker-classifier:training": { instanceType: "ml.m5.2xlarge" } },
            (p) => expect(p).to.include({ newJob: true })],
        ["`endpoint.instanceType`", "prod", { "sagemaker-classifier:endpoint": { instanceType: "ml.c5.xlarge" } },
            (p) => expect(p.replaced).to.include.members(["EndpointConfiguration", "VariantShape", "Target", "Policy"]) && expect(p.updated).to.include(ROLLOUT) &&
                expect(p.updated, "the provider never moves the endpoint").to.not.include("Endpoint")],
        ["`endpoint.initialInstanceCount`", "prod", { "sagemaker-classifier:endpoint": { initialInstanceCount: 2 } },
            (p) => expect(p.replaced).to.deep.equal(["EndpointConfiguration"]) && expect(p.updated).to.deep.equal([ROLLOUT])],
        ["`endpoint.mode` from `instances` to `serverless`", "prod", { "sagemaker-classifier:endpoint": { mode: "serverless" } },
            (p) => expect(p.replaced).to.include("EndpointConfiguration") && expect(p.updated).to.include(ROLLOUT) &&
                expect(p.addedOrRemoved).to.include.members(["Policy", "Target", "VariantShape"])],
        ["an alarm threshold (`monitoring.endpoint5xxErrors`)", "prod", { "sagemaker-classifier:monitoring": { endpoint5xxErrors: 3 } },
            (p) => expect(p, "the endpoint and its rollout keep the alarm by name").to.deep.equal({ replaced: [], updated: ["MetricAlarm"], addedOrRemoved: [], newJob: false })],
        ["the deployment guardrail (`endpoint.deployment.bakingPeriodSeconds`)", "prod", { "sagemaker-classifier:endpoint": { deployment: { bakingPeriodSeconds: 1800 } } },
            (p) => expect(p, "used by the next rollout; the endpoint is not replaced").to.deep.equal({ replaced: [], updated: [ROLLOUT], addedOrRemoved: [], newJob: false })],
        ["`autoscaling.maxCapacity`", "prod", { "sagemaker-classifier:autoscaling": { maxCapacity: 6 } },
            (p) => expect(p.replaced).to.deep.equal([]) && expect(p.updated).to.include("Target")],
        // The schema keeps initialInstanceCount within minCapacity..maxCapacity, so raising one raises the other.
        ["`autoscaling.minCapacity` (with `endpoint.initialInstanceCount`, which must lie within the range)", "prod",
            { "sagemaker-classifier:autoscaling": { minCapacity: 2 }, "sagemaker-classifier:endpoint": { initialInstanceCount: 2 } },
            (p) => expect(p.replaced).to.deep.equal(["EndpointConfiguration"]) && expect(p.updated).to.include.members(["Target", ROLLOUT])],
        ["`api.memoryMb`", "prod", { "sagemaker-classifier:api": { memoryMb: 2048 } },
            (p) => expect(p.replaced).to.deep.equal([]) && expect(p.updated, "publish: true publishes a version, and the alias follows it").to.include.members(["Function", "Alias"])],
        ["`api.provisionedConcurrency`", "prod", { "sagemaker-classifier:api": { provisionedConcurrency: 4 } },
            (p) => expect(p.replaced).to.deep.equal([]) && expect(p.updated).to.include.members(["ProvisionedConcurrencyConfig", "LambdaConcurrencyCheck"])],
        ["`tags`", "prod", { "sagemaker-classifier:tags": { "cost-center": "ml-research" } },
            (p) => expect(p.replaced).to.deep.equal([]) && expect(p.newJob).to.equal(false)],
        ["the model URL (`training.modelDataUrl`, existing mode)", "dev", { "sagemaker-classifier:training": { modelDataUrl: "s3://sagemaker-us-east-1-123456789012/dog-breed-classifier/model-v2/model.tar.gz" } },
            (p) => expect(p.replaced).to.include.members(["Model", "EndpointConfiguration"]) && expect(p.updated).to.include(ROLLOUT) &&
                expect(p.addedOrRemoved, "a grant for the new model, the old one's deleted at the end").to.deep.equal(["RolePolicy"])],
        ["an EC2 hyperparameter (`ec2Training.hyperparameters.epochs`)", "prod", { "sagemaker-classifier:ec2Training": { hyperparameters: { epochs: 3 } } },
            (p) => expect(p).to.deep.include({ replaced: ["Instance"], newJob: true })],
        ["nothing, after `pulumi refresh` saw the EC2 run finished", "prod", {},
            (p) => expect(p, "the stopped instance stays in the state: no new EC2 run").to.deep.equal({ replaced: [], updated: [], addedOrRemoved: [], newJob: false }),
            { refreshFirst: true }],
    ];
    const bases: Record<string, CapturedResource[]> = {};
    const plans: Plan[] = [];

    before(async () => {
        [bases.prod, bases.dev] = await Promise.all([capture("prod"), capture("dev")]);
        // Three at a time: each capture runs the program in its own process.
        for (let i = 0; i < changes.length; i += 3) {
            const batch = changes.slice(i, i + 3);
            const results = await Promise.all(batch.map(([, stack, patch]) => capture(stack, patch)));
            results.forEach((after, j) => {
                const [, stack, , , options] = batch[j];
                plans[i + j] = plan(options?.refreshFirst ? refreshedAfterEc2Run(bases[stack]) : bases[stack], after);
            });
        }
    });

    it("models refresh faithfully: a self-terminating instance (the old behaviour) would be launched again", () => {
        const terminating = bases.prod.map((r) =>
            r.type === EC2_INSTANCE ? { ...r, inputs: { ...r.inputs, instanceInitiatedShutdownBehavior: "terminate" } } : r);
        expect(plan(refreshedAfterEc2Run(terminating), terminating).newJob).to.equal(true);
    });

    it("docs/lifecycle.md's table has a row for each of these changes and no other", () => {
        const table = lifecyclePage.slice(lifecyclePage.indexOf("| change | replaced | updated in place |"));
        const lines = table.split("\n").slice(2);
        const rows = lines.slice(0, lines.findIndex((line) => !line.startsWith("| "))).map((line) => line.split(" | ")[0].slice(2));
        expect(rows).to.deep.equal(changes.map(([change]) => change));
    });

    changes.forEach(([change, , , check], i) => {
        it(`${change}: as the provider's replace rules say, and as docs/lifecycle.md's table says`, () => {
            check(plans[i]);
            const expected = row(change, plans[i]);
            expect(lifecyclePage.includes(expected), `docs/lifecycle.md's table lacks this row (replace the row for this change with it):\n${expected}\n`).to.equal(true);
        });
    });
});
