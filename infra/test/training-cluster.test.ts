/**
 * Multi-instance training: `training.instanceCount`, `training.inputMode` and GPU instance types, from the stack
 * config through the real program under mocks to the TrainingJob and the tuning job's training job definition.
 */
import { expect } from "chai";
import * as path from "node:path";
import { CapturedResource, captureProgram, readStackConfig } from "../../tools/preview/capture";
import { ConfigError, parseConfig, RawConfig } from "../config";

const repoRoot = path.resolve(__dirname, "..", "..");
const program = path.join(repoRoot, "infra", "index.ts");
const TRAINING_KEY = "sagemaker-classifier:training";
const REGISTRY = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training";

/** The prod stack with `training` settings laid over its own. */
async function captureProd(training: Record<string, unknown>): Promise<CapturedResource[]> {
    const config = await readStackConfig(path.join(repoRoot, "Pulumi.prod.yaml"));
    config[TRAINING_KEY] = JSON.stringify({ ...JSON.parse(config[TRAINING_KEY]), ...training });
    const result = await captureProgram({ program, stack: "prod", config, dryRun: false });
    return result.resources;
}

function one(resources: CapturedResource[], type: string): CapturedResource {
    const found = resources.filter((r) => r.type === type);
    expect(found, type).to.have.length(1);
    return found[0];
}

function problemsOf(raw: RawConfig): string {
    try {
        parseConfig(raw, "dev");
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems.join("\n");
    }
    throw new Error("expected the configuration to be rejected");
}

describe("multi-instance training", function () {
    this.timeout(120_000);

    it("a tuning job's every trial runs on instanceCount instances, streaming the data with FastFile", async () => {
        const resources = await captureProd({ instanceCount: 3, inputMode: "FastFile" });
        const tuning = one(resources, "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob");
        const definition = tuning.inputs.trainingJobDefinition as Record<string, Record<string, unknown>>;
        expect(definition.resourceConfig).to.deep.equal({ instanceType: "ml.m5.xlarge", instanceCount: 3, volumeSizeInGb: 30 });
        expect(definition.enableInterContainerTrafficEncryption, "traffic between the trial's instances").to.equal(true);
        expect(definition.algorithmSpecification.trainingInputMode).to.equal("FastFile");
        expect(definition.algorithmSpecification.trainingImage).to.equal(`${REGISTRY}:2.10.0-cpu-py313-ubuntu22.04-sagemaker`);
        const [channel] = definition.inputDataConfigs as unknown as Array<Record<string, unknown>>;
        expect(channel.inputMode).to.equal("FastFile");
        // Every instance sees the whole dataset; train.py gives each its share.
        expect(channel.dataSource).to.deep.nested.include({ "s3DataSource.s3DataDistributionType": "FullyReplicated" });
    });

    it("a single job on GPU instances runs the CUDA build of the training container", async () => {
        const resources = await captureProd({ mode: "single", instanceType: "ml.g5.2xlarge", instanceCount: 2 });
        const job = one(resources, "aws:sagemaker/trainingJob:TrainingJob");
        expect(job.inputs.resourceConfig).to.deep.equal({ instanceType: "ml.g5.2xlarge", instanceCount: 2, volumeSizeInGb: 30 });
        expect(job.inputs.enableInterContainerTrafficEncryption, "traffic between the job's instances").to.equal(true);
        // A single instance exchanges nothing, and its job (and its name) stay as they were.
        const single = one(await captureProd({ mode: "single", instanceCount: 1 }), "aws:sagemaker/trainingJob:TrainingJob");
        expect(single.inputs).not.to.have.property("enableInterContainerTrafficEncryption");
        const algorithm = job.inputs.algorithmSpecification as Record<string, unknown>;
        expect(algorithm.trainingImage).to.equal(`${REGISTRY}:2.10.0-gpu-py313-cu130-ubuntu22.04-sagemaker`);
        expect(algorithm.trainingInputMode).to.equal("File");
        const [channel] = job.inputs.inputDataConfigs as Array<Record<string, unknown>>;
        expect(channel.inputMode).to.equal("File");
    });

    it("one File-mode instance stays the default", () => {
        const config = parseConfig({ data: { s3Uri: "s3://datasets/dog" }, training: { mode: "single" } }, "dev");
        expect(config.training).to.include({ instanceCount: 1, inputMode: "File" });
        expect(config.images.pytorchTrainingGpuTag).to.match(/-gpu-.*-cu\d+-/);
    });

    const single = (training: Record<string, unknown>, images: Record<string, unknown> = {}): RawConfig => ({
        data: { s3Uri: "s3://datasets/dog" }, training: { mode: "single", ...training }, images,
    });
    const invalid: Array<[string, RawConfig, RegExp]> = [
        ["no instances", single({ instanceCount: 0 }), /training\.instanceCount must be an integer from 1 to 100, got 0/],
        ["a fractional count", single({ instanceCount: 1.5 }), /training\.instanceCount must be an integer from 1 to 100, got 1\.5/],
        ["Pipe mode, which train.py cannot read", single({ inputMode: "Pipe" }), /training\.inputMode must be one of File, FastFile, got "Pipe"/],
        ["an Inferentia instance for training", single({ instanceType: "ml.inf2.xlarge" }), /training\.instanceType must be a CPU or NVIDIA GPU instance type.*got "ml\.inf2\.xlarge"/],
        ["a GPU tag for the CPU image", single({}, { pytorchTrainingTag: "2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker" }), /images\.pytorchTrainingTag must be a CPU tag/],
        ["a CPU tag for the GPU image", single({}, { pytorchTrainingGpuTag: "2.6.0-cpu-py312-ubuntu22.04-sagemaker" }), /images\.pytorchTrainingGpuTag must be a GPU container image tag naming its CUDA version/],
    ];
    for (const [what, raw, message] of invalid) {
        it(`rejects ${what}, naming the key`, () => {
            expect(problemsOf(raw)).to.match(message);
        });
    }
});
