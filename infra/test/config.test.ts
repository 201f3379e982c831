import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError, parseConfig, RawConfig } from "../config";

const repoRoot = path.resolve(__dirname, "..", "..");

/** The project's keys of a committed stack file, as the program receives them. */
function stackFile(stack: string): RawConfig {
    const doc = parse(fs.readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config)) {
        if (key.startsWith("sagemaker-classifier:")) raw[key.slice("sagemaker-classifier:".length)] = value;
    }
    return raw as RawConfig;
}

function problemsOf(raw: RawConfig, stack = "dev"): string[] {
    try {
        parseConfig(raw, stack);
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
    throw new Error("expected the configuration to be rejected");
}

const existing = { training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz" } };

describe("stack configuration", () => {
    it("reads the committed dev stack: existing model, small endpoint, one warm Lambda", () => {
        const config = parseConfig(stackFile("dev"), "dev");
        expect(config.training.mode).to.equal("existing");
        expect(config.training.modelDataUrl).to.match(/^s3:\/\/.+\/model\.tar\.gz$/);
        expect(config.ec2Training.enabled).to.equal(false);
        expect(config.endpoint.instanceType).to.equal("ml.m5.large");
        expect(config.autoscaling).to.deep.equal({
            minCapacity: 1, maxCapacity: 2, targetInvocationsPerInstance: 10, scaleInCooldownSeconds: 30, scaleOutCooldownSeconds: 30,
        });
        expect(config.api.provisionedConcurrency).to.equal(1);
    });

    it("reads the committed prod stack: the course's tuning search space and three warm Lambdas", () => {
        const config = parseConfig(stackFile("prod"), "prod");
        expect(config.training.mode).to.equal("tuning");
        expect(config.training.instanceType).to.equal("ml.m5.xlarge");
        expect(config.training.tuning.learningRate).to.include({ min: 0.001, max: 0.1 });
        expect(config.training.tuning.batchSizes).to.deep.equal([32, 64, 128, 256, 512]);
        expect(config.ec2Training).to.include({ enabled: true, instanceType: "m5.xlarge" });
        expect(config.autoscaling.maxCapacity).to.be.greaterThan(config.autoscaling.minCapacity);
        expect(config.api.provisionedConcurrency).to.equal(3);
        expect(config.api.reservedConcurrency).to.be.at.least(3);
    });

    it("fills the documented defaults", () => {
        const config = parseConfig(existing, "staging");
        expect(config.environment).to.equal("staging");
        expect(config.training.instanceType).to.equal("ml.m5.xlarge");
        expect(config.endpoint).to.include({ instanceType: "ml.m5.large", initialInstanceCount: 1, variantName: "AllTraffic" });
        expect(config.autoscaling.targetInvocationsPerInstance).to.equal(10);
        expect(config.api).to.include({ provisionedConcurrency: 3, allowHttpImageUrls: false });
    });

    const invalid: Array<[string, RawConfig, RegExp]> = [
        ["an unknown endpoint instance type", { ...existing, endpoint: { instanceType: "ml.m5.huge" } }, /endpoint\.instanceType must be a SageMaker instance type.*"ml\.m5\.huge"/],
        ["an EC2 type given for SageMaker", { ...existing, endpoint: { instanceType: "m5.large" } }, /endpoint\.instanceType/],
        ["a SageMaker type given for EC2", { ...existing, data: { s3Uri: "s3://datasets/dog" }, ec2Training: { enabled: true, instanceType: "ml.m5.xlarge" } }, /ec2Training\.instanceType must be an EC2 instance type/],
        ["max below min", { ...existing, autoscaling: { minCapacity: 3, maxCapacity: 2 } }, /autoscaling\.maxCapacity \(2\) must be at least autoscaling\.minCapacity \(3\)/],
        ["a negative cooldown", { ...existing, autoscaling: { scaleInCooldownSeconds: -30 } }, /autoscaling\.scaleInCooldownSeconds must be an integer from 0 to 3600, got -30/],
        ["a missing modelDataUrl in existing mode", { training: { mode: "existing" } }, /training\.modelDataUrl is required when training\.mode is existing/],
        ["a modelDataUrl that is no archive", { training: { mode: "existing", modelDataUrl: "s3://models/model.pth" } }, /must point to a model\.tar\.gz/],
        ["an unknown training mode", { training: { mode: "notebook" } }, /training\.mode must be one of existing, single, tuning, got "notebook"/],
        ["tuning without a dataset", { training: { mode: "tuning" } }, /data\.s3Uri is required when training\.mode is tuning/],
        ["a dataset that is not in S3", { data: { s3Uri: "https://example.com/dogImages.zip" }, training: { mode: "single" } }, /data\.s3Uri must be an S3 URI/],
        ["a misspelt setting", { ...existing, api: { provisionedConcurency: 3 } }, /api\.provisionedConcurency is not a known setting/],
        ["reserved below provisioned concurrency", { ...existing, api: { provisionedConcurrency: 5, reservedConcurrency: 3 } }, /api\.reservedConcurrency \(3\) must be at least api\.provisionedConcurrency \(5\)/],
        ["zero provisioned concurrency", { ...existing, api: { provisionedConcurrency: 0 } }, /api\.provisionedConcurrency must be an integer from 1 to 1000, got 0/],
        ["a learning-rate range upside down", { data: { s3Uri: "s3://datasets/dog" }, training: { mode: "tuning", tuning: { learningRate: { min: 0.1, max: 0.01 } } } }, /learningRate\.min \(0\.1\) must be below/],
        ["an empty batch-size list", { data: { s3Uri: "s3://datasets/dog" }, training: { mode: "tuning", tuning: { batchSizes: [] } } }, /training\.tuning\.batchSizes must be a list/],
        ["more parallel jobs than jobs", { data: { s3Uri: "s3://datasets/dog" }, training: { mode: "tuning", tuning: { maxJobs: 2, maxParallelJobs: 4 } } }, /maxParallelJobs \(4\) must not exceed training\.tuning\.maxJobs \(2\)/],
        ["a string where a number belongs", { ...existing, autoscaling: { maxCapacity: "four" } }, /autoscaling\.maxCapacity must be an integer from 1 to 100, got "four"/],
        ["a log retention CloudWatch does not offer", { ...existing, api: { logRetentionDays: 10 } }, /api\.logRetentionDays must be one of 1, 3, 5, 7, 14/],
        ["an initial count outside the scaling range", { ...existing, endpoint: { initialInstanceCount: 5 }, autoscaling: { maxCapacity: 2 } }, /endpoint\.initialInstanceCount \(5\) must be within/],
        ["an invoke timeout longer than the function's", { ...existing, api: { timeoutSeconds: 10, invokeTimeoutMs: 10000 } }, /api\.imageFetchTimeoutMs \(5000\) plus api\.invokeTimeoutMs \(10000\) must be below api\.timeoutSeconds \(10 s\)/],
        ["an image fetch and an invoke that outlast the function", { ...existing, api: { timeoutSeconds: 30, invokeTimeoutMs: 20000, imageFetchTimeoutMs: 10000 } }, /api\.imageFetchTimeoutMs \(10000\) plus api\.invokeTimeoutMs \(20000\) must be below api\.timeoutSeconds \(30 s\)/],
        ["an image fetch deadline beyond 30 s", { ...existing, api: { imageFetchTimeoutMs: 60000 } }, /api\.imageFetchTimeoutMs must be an integer from 100 to 30000, got 60000/],
        ["URL input on a network-isolated model", { ...existing, endpoint: { networkIsolation: true, urlInput: true } }, /endpoint\.urlInput cannot be true while endpoint\.networkIsolation is true: a network-isolated model cannot fetch image URLs/],
        ["an invoke deadline beyond SageMaker's 60 s", { ...existing, api: { timeoutSeconds: 120, invokeTimeoutMs: 90000 } }, /api\.invokeTimeoutMs must be an integer from 100 to 60000, got 90000/],
        ["a KMS key that is not an ARN", { ...existing, endpoint: { kmsKeyArn: "alias/my-key" } }, /endpoint\.kmsKeyArn must be a KMS key ARN/],
        ["a section that is not an object", { ...existing, autoscaling: 4 }, /autoscaling must be an object/],
        ["a TorchServe batch of zero", { ...existing, endpoint: { modelServer: { batchSize: 0 } } }, /endpoint\.modelServer\.batchSize must be an integer from 1 to 64, got 0/],
        ["a fractional worker count", { ...existing, endpoint: { modelServer: { workers: 1.5 } } }, /endpoint\.modelServer\.workers must be an integer from 1 to 64, got 1\.5/],
        ["an alarm email that is no address", { ...existing, monitoring: { email: "oncall" } }, /monitoring\.email must be an email address, got "oncall"/],
        ["an alarm webhook over plain http", { ...existing, monitoring: { httpsUrl: "http://hooks.example.com/x" } }, /monitoring\.httpsUrl must be an https:\/\/ URL/],
        ["a capture share above 100 %", { ...existing, monitoring: { dataCapturePercent: 150 } }, /monitoring\.dataCapturePercent must be an integer from 0 to 100, got 150/],
        ["data capture on a serverless endpoint", { ...existing, endpoint: { mode: "serverless" }, monitoring: { dataCapturePercent: 20 } }, /monitoring\.dataCapturePercent \(20\) needs endpoint\.mode instances/],
        ["a misspelt TorchServe setting", { ...existing, endpoint: { modelServer: { maxBatchDelay: 50 } } }, /endpoint\.modelServer\.maxBatchDelay is not a known setting/],
    ];
    for (const [what, raw, message] of invalid) {
        it(`rejects ${what}, naming the key`, () => {
            const problems = problemsOf(raw);
            expect(problems.join("\n")).to.match(message);
        });
    }

    it("reports every problem at once, so one edit fixes the file", () => {
        const problems = problemsOf({ training: { mode: "existing" }, autoscaling: { minCapacity: 0, scaleOutCooldownSeconds: -1 } });
        expect(problems).to.have.length(3);
        expect(() => parseConfig({ training: { mode: "existing" } }, "dev")).to.throw(ConfigError)
            .with.property("message").to.match(/^Invalid stack configuration:\n {2}- training\.modelDataUrl is required/);
    });
});
