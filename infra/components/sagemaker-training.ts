/**
 * SageMaker training in script mode, as the SageMaker Python SDK's PyTorch estimator sets it up: the PyTorch
 * training container, the code as `sagemaker_submit_directory`, the entry point as `sagemaker_program`, the
 * dataset as the `training` channel. `single` runs one training job; `tuning` runs a hyperparameter tuning
 * job over the course's search space and waits for its best job. Either way the component outputs the
 * model artifact the endpoint deploys.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { AwsSdkSettings } from "../aws-sdk-settings";
import { TrainingConfig } from "../config";
import { Hyperparameters, hyperparameterWireValues, Quantization, quantizationWireValues, TrainingMetrics, wireName } from "../contract";
import { TrainingJobNameCheck, TrainingJobResult } from "./training-job-checks";
import { BestTuningResult } from "./tuning-waiter";

export interface SageMakerTrainingArgs {
    /** Short prefix for job names: training job names allow 63 characters, tuning job names only 32. */
    jobPrefix: string;
    /** Project and stack: in the job name's digest, so two stacks in one account and region never collide. */
    project: string;
    stack: string;
    training: TrainingConfig & { mode: "single" | "tuning" };
    metrics: TrainingMetrics;
    roleArn: pulumi.Input<string>;
    trainingImage: pulumi.Input<string>;
    /** The tag `trainingImage` was resolved from: the image's identity, known before any invoke resolves. */
    trainingImageTag: string;
    region: pulumi.Input<string>;
    sdk: pulumi.Input<AwsSdkSettings>;
    datasetUri: string;
    sourceUri: pulumi.Input<string>;
    /** Identifies the code: new code means a new job name, since SageMaker job names are never reused. */
    sourceSha256: string;
    outputUri: pulumi.Input<string>;
    tags: Record<string, string>;
}

/**
 * A job name's digest: SageMaker never reuses a job name and a job cannot change, so the name is a digest of
 * exactly what the job receives (plus project, stack and `training.attempt`): a change to it is a new job, and
 * anything else (the wait timeout, tags, settings the job does not receive) leaves the job alone.
 */
export function jobNameDigest(parts: { project: string; stack: string; attempt: number; job: unknown }): string {
    return crypto.createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 10);
}

/**
 * Hyperparameters as SageMaker passes them to train.py, every value a string: `--epochs 2 --lr 0.001 ... --quantize true
 * --quantization-min-agreement 0.99 ...`.
 */
export function scriptHyperparameters(hp: Hyperparameters, quantization: Quantization): Record<string, string> {
    const wire = { ...hyperparameterWireValues(hp), ...quantizationWireValues(quantization) };
    return Object.fromEntries(Object.entries(wire).map(([name, value]) => [name, String(value)]));
}

export class SageMakerTraining extends pulumi.ComponentResource {
    /** The training job (single) or tuning job (tuning) name. */
    readonly jobName: string;
    /** The training job whose model is deployed: the job itself, or the tuning job's best. */
    readonly trainingJobName: pulumi.Output<string>;
    readonly modelArtifactUri: pulumi.Output<string>;
    readonly objectiveValue?: pulumi.Output<number>;
    /** The deployed job's final metrics (test loss and accuracy, ...), by name: what the model registry records. */
    readonly finalMetrics: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: SageMakerTrainingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:training:SageMakerTraining", name, {}, opts);
        const { training, metrics } = args;

        const scriptMode = pulumi.all([args.sourceUri, args.region]).apply(([sourceUri, region]) => ({
            sagemaker_program: "train.py",
            sagemaker_submit_directory: sourceUri,
            sagemaker_region: region,
            sagemaker_container_log_level: "20",
        }));
        // Every instance gets the whole dataset: with several instances train.py gives each its share itself.
        const inputDataConfigs = [{
            channelName: "training",
            inputMode: training.inputMode,
            dataSource: { s3DataSource: { s3DataType: "S3Prefix", s3Uri: args.datasetUri, s3DataDistributionType: "FullyReplicated" } },
        }];
        const resourceConfig = { instanceType: training.instanceType, instanceCount: training.instanceCount, volumeSizeInGb: training.volumeSizeGb };
        // Instances of a distributed job exchange gradients and data over the network: encrypted, as the policy pack requires.
        const interContainer = training.instanceCount > 1 ? { enableInterContainerTrafficEncryption: true } : {};
        const stoppingCondition = { maxRuntimeInSeconds: training.maxRuntimeSeconds };
        const algorithmSpecification = { trainingInputMode: training.inputMode, metricDefinitions: metrics.metricDefinitions };
        // What the job receives besides the role, image and S3 locations the program computes: the code's digest
        // stands for the submit directory, the image tag for the image (the same tag is the same image in a region).
        const received = {
            code: args.sourceSha256,
            image: { repository: "pytorch-training", tag: args.trainingImageTag },
            algorithmSpecification,
            inputDataConfigs,
            resourceConfig,
            stoppingCondition,
            ...interContainer,
        };
        const digestOf = (job: unknown) => jobNameDigest({ project: args.project, stack: args.stack, attempt: training.attempt, job });

        if (training.mode === "single") {
            const hyperParameters = scriptHyperparameters(training.hyperparameters, training.quantization);
            const timeSeries = { enableSagemakerMetricsTimeSeries: true };
            this.jobName = `${args.jobPrefix}-${digestOf({ ...received, timeSeries, hyperParameters })}`;
            const jobRef = { trainingJobName: this.jobName, sdk: args.sdk, attempt: training.attempt };
            const nameCheck = new TrainingJobNameCheck(`${name}-name-check`, jobRef, { parent: this });
            const job = new aws.sagemaker.TrainingJob(`${name}-job`, {
                trainingJobName: this.jobName,
                roleArn: args.roleArn,
                algorithmSpecification: { ...algorithmSpecification, ...timeSeries, trainingImage: args.trainingImage },
                hyperParameters: scriptMode.apply((sm) => ({ ...sm, ...hyperParameters })),
                inputDataConfigs,
                outputDataConfig: { s3OutputPath: args.outputUri },
                resourceConfig,
                stoppingCondition,
                ...interContainer,
                // The provider waits for the job; allow its whole runtime plus time to provision and upload.
                timeouts: { create: `${Math.ceil(training.maxRuntimeSeconds / 60) + 30}m` },
                tags: args.tags,
            }, { parent: this, dependsOn: [nameCheck] });
            const result = new TrainingJobResult(`${name}-result`, { ...jobRef, trainingJobName: job.trainingJobName }, { parent: this });
            this.trainingJobName = job.trainingJobName;
            this.modelArtifactUri = result.modelArtifactUri;
            this.finalMetrics = result.finalMetrics;
        } else {
            const { tuning } = training;
            // The tuned hyperparameters come from the search space, so the fixed ones leave them out.
            const fixed = scriptHyperparameters(training.hyperparameters, training.quantization);
            const learningRate = wireName("learningRate");
            const batchSize = wireName("batchSize");
            delete fixed[learningRate];
            delete fixed[batchSize];
            const config = {
                strategy: tuning.strategy,
                objective: metrics.objective,
                resourceLimits: { maxNumberOfTrainingJobs: tuning.maxJobs, maxParallelTrainingJobs: tuning.maxParallelJobs },
                parameterRanges: {
                    continuousParameterRanges: [{
                        name: learningRate,
                        minValue: String(tuning.learningRate.min),
                        maxValue: String(tuning.learningRate.max),
                        scalingType: tuning.learningRate.scaling,
                    }],
                    categoricalParameterRanges: [{ name: batchSize, values: tuning.batchSizes.map(String) }],
                },
                trainingJobEarlyStoppingType: "Off",
            };
            this.jobName = `${args.jobPrefix}-${digestOf({ ...received, config, staticHyperParameters: fixed })}`;
            const tuningJob = new aws.sagemaker.HyperParameterTuningJob(`${name}-tuning`, {
                name: this.jobName,
                config,
                trainingJobDefinition: {
                    roleArn: args.roleArn,
                    algorithmSpecification: { ...algorithmSpecification, trainingImage: args.trainingImage },
                    staticHyperParameters: scriptMode.apply((sm) => ({ ...sm, ...fixed })),
                    inputDataConfigs,
                    outputDataConfig: { s3OutputPath: args.outputUri },
                    resourceConfig,
                    stoppingCondition,
                    ...interContainer,
                },
                tags: args.tags,
            }, { parent: this });
            const best = new BestTuningResult(`${name}-best`, {
                tuningJobName: tuningJob.name,
                sdk: args.sdk,
                attempt: training.attempt,
                stackJobs: { jobPrefix: args.jobPrefix, project: args.project, stack: args.stack },
                timeoutSeconds: tuning.waitTimeoutMinutes * 60,
            }, { parent: this });
            this.trainingJobName = best.bestTrainingJobName;
            this.modelArtifactUri = best.modelArtifactUri;
            this.objectiveValue = best.objectiveValue;
            this.finalMetrics = best.finalMetrics;
        }

        this.registerOutputs({ trainingJobName: this.trainingJobName, modelArtifactUri: this.modelArtifactUri });
    }
}
