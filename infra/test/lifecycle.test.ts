/**
 * The second `pulumi up`: the real program under mocks, once with a stack's config and once with one change,
 * and what the user's next `pulumi up` would do about it.
 */
import { expect } from "chai";
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
