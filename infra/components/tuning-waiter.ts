/**
 * `aws.sagemaker.HyperParameterTuningJob` returns as soon as the job is created and exposes no best training
 * job. This dynamic resource closes that gap: it waits for the tuning job (bounded by a timeout), fails with
 * SageMaker's own failure reason, and outputs the best training job, its objective value and its model
 * artifact, so the endpoint can deploy the best model in the same `pulumi up`.
 *
 * Before it waits, it stops this stack's other tuning jobs that are still running. Such a job is one the stack
 * no longer wants: its wait timed out in an earlier `pulumi up` (so no waiter of it is in the state) and the
 * config has changed since, which named a new job. Pulumi deletes the replaced tuning job only when the whole
 * `up` ends, hours later, and the provider's delete is the only other thing that would stop it; until then it
 * would keep training, and billing, for nothing. A job is this stack's when its name has the stack's job prefix
 * and its `project` and `stack` tags are this stack's (two stacks may share an environment name).
 *
 * The waiter's state exists only once its job completed, so deleting it has nothing to stop.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    DescribeHyperParameterTuningJobCommand,
    DescribeTrainingJobCommand,
    ListHyperParameterTuningJobsCommand,
    ListTagsCommand,
    SageMakerClient,
    StopHyperParameterTuningJobCommand,
} from "@aws-sdk/client-sagemaker";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";
import { isJobNameWithPrefix } from "../names";
import { formatTuningProgress, tuningProgress } from "../progress";

export interface TuningWaiterInputs {
    tuningJobName: string;
    /** Where the job runs; who to call SageMaker as comes from the stack config of each run (see aws-sdk-settings). */
    sdk: AwsSdkSettings;
    timeoutSeconds: number;
    pollSeconds: number;
    /** `training.attempt`, for the advice when the job failed. */
    attempt: number;
    /** Which other tuning jobs are this stack's: their name prefix and the stack's `project` and `stack` tags. */
    stackJobs: { jobPrefix: string; project: string; stack: string };
}

export interface TuningWaiterOutputs extends TuningWaiterInputs {
    status: string;
    bestTrainingJobName: string;
    objectiveMetricName: string;
    objectiveValue: number;
    modelArtifactUri: string;
    /** The best training job's final metrics (FinalMetricDataList), by name. */
    finalMetrics: Record<string, number>;
}

/** The one method of the SDK client the provider uses, so tests can hand it a fake. */
export interface SageMakerApi {
    send: SageMakerClient["send"];
}

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export type SageMakerClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => SageMakerApi;

export const defaultSageMakerClient: SageMakerClientFactory = (sdk, identity) => new SageMakerClient(sdkClientConfig(sdk, identity));

/** What to do when a job name cannot be used again: SageMaker never reuses one. */
export function retryAdvice(attempt: number): string {
    return `SageMaker never reuses a job name, so a new run needs a new one: set training.attempt to ${attempt + 1} ` +
        `(pulumi config set --path training.attempt ${attempt + 1}) and run pulumi up again`;
}

/**
 * Where progress lines go. The dynamic provider host is not connected to the engine, so `pulumi.log` never
 * reaches the CLI from here (pulumi/pulumi#6065, #18249); since CLI 3.146 the provider's stdout lines are shown
 * as info diagnostics (pulumi/pulumi#18253), so plain stdout is what works.
 */
export type ProgressReporter = (line: string) => void;

/** A line whenever the counts or the best objective change, and at least this often while nothing does. */
export const PROGRESS_HEARTBEAT_MS = 10 * 60 * 1000;

export class TuningJobWaiterProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(
        private readonly clientFactory: SageMakerClientFactory = defaultSageMakerClient,
        private readonly clock: Clock = {
            now: () => Date.now(),
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
        private readonly report: ProgressReporter = (line) => console.log(line),
    ) {
        super();
    }

    async create(inputs: TuningWaiterInputs): Promise<pulumi.dynamic.CreateResult<TuningWaiterOutputs>> {
        const client = this.clientFactory(inputs.sdk, this.identity);
        await this.stopSupersededJobs(client, inputs);
        const outs = await this.waitForBestJob(client, inputs);
        return { id: inputs.tuningJobName, outs };
    }

    /** Refresh: the job's status as SageMaker reports it now; a job SageMaker no longer knows keeps its result. */
    async read(id: string, props: TuningWaiterOutputs): Promise<pulumi.dynamic.ReadResult<TuningWaiterOutputs>> {
        try {
            const job = await this.clientFactory(props.sdk, this.identity).send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: props.tuningJobName }));
            return { id, props: { ...props, status: job.HyperParameterTuningJobStatus ?? props.status } };
        } catch (error) {
            if (isNotFound(error)) return { id, props };
            throw error;
        }
    }

    async diff(_id: string, olds: TuningWaiterOutputs, news: TuningWaiterInputs): Promise<pulumi.dynamic.DiffResult> {
        // State written before the waiter took the provider's settings has a bare `region`.
        const oldRegion = olds.sdk?.region ?? (olds as unknown as { region?: string }).region;
        const replaces = [
            ...(olds.tuningJobName !== news.tuningJobName ? ["tuningJobName"] : []),
            ...(oldRegion !== news.sdk.region ? ["sdk"] : []),
        ];
        const changes = replaces.length > 0 || (["timeoutSeconds", "pollSeconds", "attempt", "sdk", "stackJobs"] as const)
            .some((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
        return { changes, replaces, deleteBeforeReplace: false };
    }

    /** Only how to wait can change in place; the result of a finished job stays as it is. */
    async update(_id: string, olds: TuningWaiterOutputs, news: TuningWaiterInputs): Promise<pulumi.dynamic.UpdateResult<TuningWaiterOutputs>> {
        return { outs: { ...olds, ...news } };
    }

    /** This stack's tuning jobs still running under another name than the one it waits for: stop them. */
    private async stopSupersededJobs(client: SageMakerApi, inputs: TuningWaiterInputs): Promise<void> {
        const { jobPrefix, project, stack } = inputs.stackJobs;
        let nextToken: string | undefined;
        do {
            const page = await client.send(new ListHyperParameterTuningJobsCommand({
                NameContains: jobPrefix, StatusEquals: "InProgress", MaxResults: 100, NextToken: nextToken,
            }));
            for (const summary of page.HyperParameterTuningJobSummaries ?? []) {
                const name = summary.HyperParameterTuningJobName;
                if (!name || name === inputs.tuningJobName || !isJobNameWithPrefix(name, jobPrefix) || !summary.HyperParameterTuningJobArn) continue;
                const tags = await client.send(new ListTagsCommand({ ResourceArn: summary.HyperParameterTuningJobArn, MaxResults: 100 }));
                const tag = (key: string) => tags.Tags?.find((t) => t.Key === key)?.Value;
                if (tag("project") !== project || tag("stack") !== stack) continue;
                await client.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }));
                this.report(`tuning job ${name}: stopped; this stack's config no longer names it (it now trains ${inputs.tuningJobName})`);
            }
            nextToken = page.NextToken;
        } while (nextToken);
    }

    private async waitForBestJob(client: SageMakerApi, inputs: TuningWaiterInputs): Promise<TuningWaiterOutputs> {
        const deadline = this.clock.now() + inputs.timeoutSeconds * 1000;
        const name = inputs.tuningJobName;
        let lastReported = { state: "", at: -Infinity };
        for (;;) {
            const job = await client.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }));
            const status = job.HyperParameterTuningJobStatus ?? "Unknown";
            const progress = tuningProgress(job, this.clock.now());
            const state = JSON.stringify([progress.status, progress.finished, progress.failed, progress.running, progress.best]);
            if (state !== lastReported.state || this.clock.now() - lastReported.at >= PROGRESS_HEARTBEAT_MS) {
                this.report(formatTuningProgress(progress));
                lastReported = { state, at: this.clock.now() };
            }
            if (status === "Completed") {
                const best = job.BestTrainingJob;
                const metric = best?.FinalHyperParameterTuningJobObjectiveMetric;
                if (!best?.TrainingJobName || metric?.Value === undefined) {
                    const failed = job.TrainingJobStatusCounters?.NonRetryableError ?? 0;
                    throw new Error(
                        `tuning job ${name} completed without a best training job (${failed} training jobs failed): ` +
                            `check the training jobs' logs in CloudWatch under /aws/sagemaker/TrainingJobs. ${retryAdvice(inputs.attempt)}`,
                    );
                }
                const training = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: best.TrainingJobName }));
                const modelArtifactUri = training.ModelArtifacts?.S3ModelArtifacts;
                if (!modelArtifactUri) {
                    throw new Error(`best training job ${best.TrainingJobName} of tuning job ${name} has no model artifact`);
                }
                return {
                    ...inputs,
                    status,
                    bestTrainingJobName: best.TrainingJobName,
                    objectiveMetricName: metric.MetricName ?? "",
                    objectiveValue: metric.Value,
                    modelArtifactUri,
                    finalMetrics: finalMetrics(training.FinalMetricDataList),
                };
            }
            if (status !== "InProgress") {
                const reason = job.FailureReason ? `: ${job.FailureReason}` : "";
                throw new Error(`tuning job ${name} ended with status ${status}${reason}. ${retryAdvice(inputs.attempt)}`);
            }
            const remaining = deadline - this.clock.now();
            if (remaining <= 0) {
                throw new Error(
                    `tuning job ${name} still InProgress after ${inputs.timeoutSeconds} s; it keeps running. ` +
                        `Raise training.tuning.waitTimeoutMinutes and run pulumi up again to wait for it`,
                );
            }
            await this.clock.sleep(Math.min(inputs.pollSeconds * 1000, remaining));
        }
    }
}

/** A training job's final metrics by name, as DescribeTrainingJob reports them. */
export function finalMetrics(list: Array<{ MetricName?: string; Value?: number }> | undefined): Record<string, number> {
    return Object.fromEntries((list ?? []).filter((m) => m.MetricName && m.Value !== undefined).map((m) => [m.MetricName as string, m.Value as number]));
}

function isNotFound(error: unknown): boolean {
    const err = error as { name?: string; message?: string };
    return err?.name === "ResourceNotFound" || /could not find|does not exist/i.test(err?.message ?? "");
}

export interface BestTuningResultArgs {
    tuningJobName: pulumi.Input<string>;
    sdk: pulumi.Input<AwsSdkSettings>;
    attempt: number;
    stackJobs: TuningWaiterInputs["stackJobs"];
    timeoutSeconds: pulumi.Input<number>;
    pollSeconds?: pulumi.Input<number>;
}

export class BestTuningResult extends pulumi.dynamic.Resource {
    declare readonly bestTrainingJobName: pulumi.Output<string>;
    declare readonly objectiveMetricName: pulumi.Output<string>;
    declare readonly objectiveValue: pulumi.Output<number>;
    declare readonly modelArtifactUri: pulumi.Output<string>;
    declare readonly finalMetrics: pulumi.Output<Record<string, number>>;
    declare readonly status: pulumi.Output<string>;

    constructor(name: string, args: BestTuningResultArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            new TuningJobWaiterProvider(),
            name,
            {
                pollSeconds: 60,
                ...args,
                status: undefined,
                bestTrainingJobName: undefined,
                objectiveMetricName: undefined,
                objectiveValue: undefined,
                modelArtifactUri: undefined,
                finalMetrics: undefined,
            },
            opts,
            "sagemaker-classifier",
            "BestTuningResult",
        );
    }
}
