/**
 * Two dynamic resources around the provider's `aws.sagemaker.TrainingJob`, for the failures its create cannot
 * recover from:
 * - `TrainingJobNameCheck`, before the job: the provider saves no state when the job fails or its wait times
 *   out, yet the job stays in SageMaker under its name, so the next `pulumi up` would be refused with an opaque
 *   "name must be unique". On every preview and update (in Check) it looks the name up and, if a job of that
 *   name already ended Failed or Stopped or is still running, fails early saying what happened and how to retry.
 * - `TrainingJobResult`, after the job: the provider's create also succeeds for a job that ended `Stopped` (its
 *   runtime limit), whose model is incomplete or missing. It reads the job and outputs its model artifact only
 *   if the job Completed, so a stopped or failed job never deploys.
 */
import * as pulumi from "@pulumi/pulumi";
import { DescribeTrainingJobCommand, DescribeTrainingJobCommandOutput } from "@aws-sdk/client-sagemaker";
import { AwsDynamicProvider, AwsSdkSettings } from "../aws-sdk-settings";
import { defaultSageMakerClient, finalMetrics, retryAdvice, SageMakerApi, SageMakerClientFactory } from "./tuning-waiter";

export interface TrainingJobRef {
    trainingJobName: string;
    sdk: AwsSdkSettings;
    /** `training.attempt`, for the advice. */
    attempt: number;
}

async function describeTrainingJob(client: SageMakerApi, name: string): Promise<DescribeTrainingJobCommandOutput | undefined> {
    try {
        return await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    } catch (error) {
        const err = error as { name?: string; message?: string };
        if (err?.name === "ResourceNotFound" || /requested resource not found|could not find|does not exist/i.test(err?.message ?? "")) return undefined;
        throw error;
    }
}

function why(job: DescribeTrainingJobCommandOutput): string {
    const secondary = job.SecondaryStatus && job.SecondaryStatus !== job.TrainingJobStatus ? ` (${job.SecondaryStatus})` : "";
    return `${job.TrainingJobStatus}${secondary}${job.FailureReason ? `: ${job.FailureReason}` : ""}`;
}

export class TrainingJobNameCheckProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: SageMakerClientFactory = defaultSageMakerClient) {
        super();
    }

    async check(_olds: TrainingJobRef, news: TrainingJobRef): Promise<pulumi.dynamic.CheckResult<TrainingJobRef>> {
        // A completed job of this name is this stack's own (the provider saved it); any other state is a leftover.
        const job = await describeTrainingJob(this.clientFactory(news.sdk, this.identity), news.trainingJobName);
        if (job && job.TrainingJobStatus === "InProgress") {
            throw new Error(
                `training job ${news.trainingJobName} is still running from an earlier pulumi up whose wait ended. Wait for it to finish ` +
                    `and import it into the stack (docs/operations.md, "When training fails or times out"), ` +
                    `or stop it and start over: ${retryAdvice(news.attempt)}`,
            );
        }
        if (job && job.TrainingJobStatus !== "Completed") {
            throw new Error(`training job ${news.trainingJobName} already ran and ended ${why(job)}. ${retryAdvice(news.attempt)}`);
        }
        return { inputs: news };
    }

    async create(inputs: TrainingJobRef): Promise<pulumi.dynamic.CreateResult<TrainingJobRef>> {
        return { id: inputs.trainingJobName, outs: inputs };
    }

    async diff(_id: string, olds: TrainingJobRef, news: TrainingJobRef): Promise<pulumi.dynamic.DiffResult> {
        const changes = JSON.stringify(olds) !== JSON.stringify(news);
        return { changes, replaces: olds.trainingJobName !== news.trainingJobName ? ["trainingJobName"] : [], deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: TrainingJobRef, news: TrainingJobRef): Promise<pulumi.dynamic.UpdateResult<TrainingJobRef>> {
        return { outs: news };
    }
}

export interface TrainingJobResultOutputs extends TrainingJobRef {
    status: string;
    modelArtifactUri: string;
    /** The job's final metrics (FinalMetricDataList), by name. */
    finalMetrics: Record<string, number>;
}

export class TrainingJobResultProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: SageMakerClientFactory = defaultSageMakerClient) {
        super();
    }

    async create(inputs: TrainingJobRef): Promise<pulumi.dynamic.CreateResult<TrainingJobResultOutputs>> {
        const job = await describeTrainingJob(this.clientFactory(inputs.sdk, this.identity), inputs.trainingJobName);
        if (!job) throw new Error(`training job ${inputs.trainingJobName} does not exist in ${inputs.sdk.region}`);
        if (job.TrainingJobStatus !== "Completed") {
            const runtime = job.SecondaryStatus === "MaxRuntimeExceeded" ? " Raise training.maxRuntimeSeconds, then:" : "";
            throw new Error(`training job ${inputs.trainingJobName} ended ${why(job)}, so its model is not deployed.${runtime} ${retryAdvice(inputs.attempt)}`);
        }
        const modelArtifactUri = job.ModelArtifacts?.S3ModelArtifacts;
        if (!modelArtifactUri) throw new Error(`training job ${inputs.trainingJobName} completed without a model artifact`);
        return { id: inputs.trainingJobName, outs: { ...inputs, status: job.TrainingJobStatus, modelArtifactUri, finalMetrics: finalMetrics(job.FinalMetricDataList) } };
    }

    async diff(_id: string, olds: TrainingJobResultOutputs, news: TrainingJobRef): Promise<pulumi.dynamic.DiffResult> {
        const replaces = olds.trainingJobName !== news.trainingJobName ? ["trainingJobName"] : [];
        const changes = replaces.length > 0 || olds.attempt !== news.attempt || JSON.stringify(olds.sdk) !== JSON.stringify(news.sdk);
        return { changes, replaces, deleteBeforeReplace: false };
    }

    /** A finished job's result does not change; only the settings used to read it do. */
    async update(_id: string, olds: TrainingJobResultOutputs, news: TrainingJobRef): Promise<pulumi.dynamic.UpdateResult<TrainingJobResultOutputs>> {
        return { outs: { ...olds, ...news } };
    }
}

export interface TrainingJobRefArgs {
    trainingJobName: pulumi.Input<string>;
    sdk: pulumi.Input<AwsSdkSettings>;
    attempt: number;
}

export class TrainingJobNameCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: TrainingJobRefArgs, opts?: pulumi.CustomResourceOptions) {
        super(new TrainingJobNameCheckProvider(), name, { ...args }, opts, "sagemaker-classifier", "TrainingJobNameCheck");
    }
}

export class TrainingJobResult extends pulumi.dynamic.Resource {
    declare readonly status: pulumi.Output<string>;
    declare readonly modelArtifactUri: pulumi.Output<string>;
    declare readonly finalMetrics: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: TrainingJobRefArgs, opts?: pulumi.CustomResourceOptions) {
        super(new TrainingJobResultProvider(), name, { ...args, status: undefined, modelArtifactUri: undefined, finalMetrics: undefined }, opts, "sagemaker-classifier", "TrainingJobResult");
    }
}
