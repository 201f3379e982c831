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
import { TrainingConfig } from "../config";
import { Hyperparameters, hyperparameterWireValues, TrainingMetrics, wireName } from "../contract";
import { BestTuningResult } from "./tuning-waiter";

export interface SageMakerTrainingArgs {
    /** Short prefix for job names: training job names allow 63 characters, tuning job names only 32. */
    jobPrefix: string;
    training: TrainingConfig & { mode: "single" | "tuning" };
    metrics: TrainingMetrics;
    roleArn: pulumi.Input<string>;
    trainingImage: pulumi.Input<string>;
    region: pulumi.Input<string>;
    datasetUri: string;
    sourceUri: pulumi.Input<string>;
    /** Identifies the code: new code means a new job name, since SageMaker job names are never reused. */
    sourceSha256: string;
    outputUri: pulumi.Input<string>;
    tags: Record<string, string>;
}

/** Hyperparameters as SageMaker passes them to train.py, every value a string: `--epochs 2 --lr 0.001 ...`. */
export function scriptHyperparameters(hp: Hyperparameters): Record<string, string> {
    return Object.fromEntries(Object.entries(hyperparameterWireValues(hp)).map(([name, value]) => [name, String(value)]));
}

export class SageMakerTraining extends pulumi.ComponentResource {
    /** The training job (single) or tuning job (tuning) name. */
    readonly jobName: string;
    /** The training job whose model is deployed: the job itself, or the tuning job's best. */
    readonly trainingJobName: pulumi.Output<string>;
    readonly modelArtifactUri: pulumi.Output<string>;
    readonly objectiveValue?: pulumi.Output<number>;

    constructor(name: string, args: SageMakerTrainingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:training:SageMakerTraining", name, {}, opts);
        const { training, metrics } = args;

        const scriptMode = pulumi.all([args.sourceUri, args.region]).apply(([sourceUri, region]) => ({
            sagemaker_program: "train.py",
            sagemaker_submit_directory: sourceUri,
            sagemaker_region: region,
            sagemaker_container_log_level: "20",
        }));
        const inputDataConfigs = [{
            channelName: "training",
            inputMode: "File",
            dataSource: { s3DataSource: { s3DataType: "S3Prefix", s3Uri: args.datasetUri, s3DataDistributionType: "FullyReplicated" } },
        }];
        const resourceConfig = { instanceType: training.instanceType, instanceCount: 1, volumeSizeInGb: training.volumeSizeGb };
        const stoppingCondition = { maxRuntimeInSeconds: training.maxRuntimeSeconds };
        const algorithmSpecification = {
            trainingImage: args.trainingImage,
            trainingInputMode: "File",
            metricDefinitions: metrics.metricDefinitions,
        };

        // Job names must be unique for ever in an account and region, and a job cannot change: the name is a
        // digest of everything the job is made of, so any change is a new job and an unchanged stack no diff.
        const digest = crypto
            .createHash("sha256")
            .update(JSON.stringify({ training, datasetUri: args.datasetUri, code: args.sourceSha256, metrics }))
            .digest("hex")
            .slice(0, 10);
        this.jobName = `${args.jobPrefix}-${digest}`;

        if (training.mode === "single") {
            const job = new aws.sagemaker.TrainingJob(`${name}-job`, {
                trainingJobName: this.jobName,
                roleArn: args.roleArn,
                algorithmSpecification: { ...algorithmSpecification, enableSagemakerMetricsTimeSeries: true },
                hyperParameters: scriptMode.apply((sm) => ({ ...sm, ...scriptHyperparameters(training.hyperparameters) })),
                inputDataConfigs,
                outputDataConfig: { s3OutputPath: args.outputUri },
                resourceConfig,
                stoppingCondition,
                // The provider waits for the job; allow its whole runtime plus time to provision and upload.
                timeouts: { create: `${Math.ceil(training.maxRuntimeSeconds / 60) + 30}m` },
                tags: args.tags,
            }, { parent: this });
            this.trainingJobName = job.trainingJobName;
            this.modelArtifactUri = pulumi.interpolate`${args.outputUri}/${job.trainingJobName}/output/model.tar.gz`;
        } else {
            const { tuning } = training;
            const fixed = scriptHyperparameters(training.hyperparameters);
            const learningRate = wireName("learningRate");
            const batchSize = wireName("batchSize");
            delete fixed[learningRate];
            delete fixed[batchSize];
            const tuningJob = new aws.sagemaker.HyperParameterTuningJob(`${name}-tuning`, {
                name: this.jobName,
                config: {
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
                },
                trainingJobDefinition: {
                    roleArn: args.roleArn,
                    algorithmSpecification,
                    staticHyperParameters: scriptMode.apply((sm) => ({ ...sm, ...fixed })),
                    inputDataConfigs,
                    outputDataConfig: { s3OutputPath: args.outputUri },
                    resourceConfig,
                    stoppingCondition,
                },
                tags: args.tags,
            }, { parent: this });
            const best = new BestTuningResult(`${name}-best`, {
                tuningJobName: tuningJob.name,
                region: args.region,
                timeoutSeconds: tuning.waitTimeoutMinutes * 60,
            }, { parent: this });
            this.trainingJobName = best.bestTrainingJobName;
            this.modelArtifactUri = best.modelArtifactUri;
            this.objectiveValue = best.objectiveValue;
        }

        this.registerOutputs({ trainingJobName: this.trainingJobName, modelArtifactUri: this.modelArtifactUri });
    }
}
