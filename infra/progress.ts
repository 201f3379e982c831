/**
 * How far a tuning job, a training job or an endpoint has got, from SageMaker's Describe* answers, and one line
 * saying so. Shared by the tuning waiter (which prints it during `pulumi up`) and `npm run status`, so both
 * speak the same words. Pure functions of the answer and the current time: the waiter's provider is
 * serialized into the stack state, so nothing here may hold a client or read the environment.
 */
import type {
    DescribeEndpointCommandOutput,
    DescribeHyperParameterTuningJobCommandOutput,
    DescribeTrainingJobCommandOutput,
} from "@aws-sdk/client-sagemaker";

export interface TuningProgress {
    kind: "tuning";
    name: string;
    status: string;
    /** Training jobs that ended, however they ended. */
    finished: number;
    failed: number;
    running: number;
    maxJobs?: number;
    best?: { trainingJobName?: string; metricName?: string; value: number };
    objectiveType?: string;
    elapsedSeconds: number;
    /** At the rate jobs have finished so far; unknown until one has. */
    remainingSeconds?: number;
    failureReason?: string;
}

export interface TrainingProgress {
    kind: "training";
    name: string;
    status: string;
    secondaryStatus?: string;
    elapsedSeconds: number;
    /** Until the stopping condition ends the job at the latest. */
    remainingAtMostSeconds?: number;
    failureReason?: string;
}

export interface VariantProgress {
    variantName: string;
    currentInstanceCount?: number;
    desiredInstanceCount?: number;
    serverlessMaxConcurrency?: number;
}

export interface EndpointProgress {
    kind: "endpoint";
    name: string;
    status: string;
    variants: VariantProgress[];
    failureReason?: string;
}

type Tuning = Pick<DescribeHyperParameterTuningJobCommandOutput,
    "HyperParameterTuningJobName" | "HyperParameterTuningJobStatus" | "CreationTime" | "HyperParameterTuningEndTime" |
    "TrainingJobStatusCounters" | "HyperParameterTuningJobConfig" | "BestTrainingJob" | "FailureReason">;

export function tuningProgress(job: Tuning, nowMs: number): TuningProgress {
    const counters = job.TrainingJobStatusCounters ?? {};
    const failed = (counters.NonRetryableError ?? 0) + (counters.RetryableError ?? 0);
    const finished = (counters.Completed ?? 0) + (counters.Stopped ?? 0) + failed;
    const running = counters.InProgress ?? 0;
    const maxJobs = job.HyperParameterTuningJobConfig?.ResourceLimits?.MaxNumberOfTrainingJobs;
    const elapsedSeconds = secondsBetween(job.CreationTime, job.HyperParameterTuningEndTime, nowMs);
    const status = job.HyperParameterTuningJobStatus ?? "Unknown";
    const metric = job.BestTrainingJob?.FinalHyperParameterTuningJobObjectiveMetric;
    let remainingSeconds: number | undefined;
    if (status !== "InProgress") remainingSeconds = 0;
    else if (finished > 0 && maxJobs !== undefined) remainingSeconds = Math.max(0, Math.round(elapsedSeconds * (maxJobs - finished) / finished));
    return {
        kind: "tuning",
        name: job.HyperParameterTuningJobName ?? "",
        status,
        finished,
        failed,
        running,
        maxJobs,
        best: metric?.Value === undefined ? undefined : {
            trainingJobName: job.BestTrainingJob?.TrainingJobName,
            metricName: metric.MetricName,
            value: metric.Value,
        },
        objectiveType: job.HyperParameterTuningJobConfig?.HyperParameterTuningJobObjective?.Type,
        elapsedSeconds,
        remainingSeconds,
        failureReason: job.FailureReason,
    };
}

type Training = Pick<DescribeTrainingJobCommandOutput,
    "TrainingJobName" | "TrainingJobStatus" | "SecondaryStatus" | "CreationTime" | "TrainingStartTime" | "TrainingEndTime" |
    "StoppingCondition" | "FailureReason">;

export function trainingProgress(job: Training, nowMs: number): TrainingProgress {
    const status = job.TrainingJobStatus ?? "Unknown";
    const elapsedSeconds = secondsBetween(job.CreationTime, job.TrainingEndTime, nowMs);
    const maxRuntime = job.StoppingCondition?.MaxRuntimeInSeconds;
    let remainingAtMostSeconds: number | undefined;
    if (status !== "InProgress") remainingAtMostSeconds = 0;
    else if (maxRuntime !== undefined) {
        // The stopping condition counts training time, which starts after the instances are provisioned.
        const trained = job.TrainingStartTime ? secondsBetween(job.TrainingStartTime, undefined, nowMs) : 0;
        remainingAtMostSeconds = Math.max(0, maxRuntime - trained);
    }
    return {
        kind: "training",
        name: job.TrainingJobName ?? "",
        status,
        secondaryStatus: job.SecondaryStatus,
        elapsedSeconds,
        remainingAtMostSeconds,
        failureReason: job.FailureReason,
    };
}

type Endpoint = Pick<DescribeEndpointCommandOutput, "EndpointName" | "EndpointStatus" | "ProductionVariants" | "FailureReason">;

export function endpointProgress(endpoint: Endpoint): EndpointProgress {
    return {
        kind: "endpoint",
        name: endpoint.EndpointName ?? "",
        status: endpoint.EndpointStatus ?? "Unknown",
        variants: (endpoint.ProductionVariants ?? []).map((v) => ({
            variantName: v.VariantName ?? "",
            currentInstanceCount: v.CurrentInstanceCount,
            desiredInstanceCount: v.DesiredInstanceCount,
            serverlessMaxConcurrency: v.CurrentServerlessConfig?.MaxConcurrency,
        })),
        failureReason: endpoint.FailureReason,
    };
}

/** `1h 05m`, `12m 30s`, `45s`. */
export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = s % 60;
    if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
    if (m > 0) return `${m}m ${String(rest).padStart(2, "0")}s`;
    return `${rest}s`;
}

export function formatTuningProgress(p: TuningProgress): string {
    const parts = [`tuning job ${p.name}: ${p.status}`];
    const of = p.maxJobs === undefined ? "" : ` of ${p.maxJobs}`;
    parts.push(`${p.finished}${of} training jobs done${p.failed > 0 ? ` (${p.failed} failed)` : ""}, ${p.running} running`);
    if (p.best) {
        const goal = p.objectiveType ? ` (${p.objectiveType.toLowerCase()})` : "";
        parts.push(`best ${p.best.metricName ?? "objective"}${goal} ${formatNumber(p.best.value)}${p.best.trainingJobName ? ` from ${p.best.trainingJobName}` : ""}`);
    } else {
        parts.push("no objective value yet");
    }
    parts.push(`elapsed ${formatDuration(p.elapsedSeconds)}`);
    if (p.status === "InProgress") {
        parts.push(p.remainingSeconds === undefined ? "time left unknown until a job finishes" : `about ${formatDuration(p.remainingSeconds)} left`);
    }
    if (p.failureReason) parts.push(`reason: ${p.failureReason}`);
    return parts.join("; ");
}

export function formatTrainingProgress(p: TrainingProgress): string {
    const parts = [`training job ${p.name}: ${p.status}${p.secondaryStatus && p.secondaryStatus !== p.status ? ` (${p.secondaryStatus})` : ""}`];
    parts.push(`elapsed ${formatDuration(p.elapsedSeconds)}`);
    if (p.status === "InProgress" && p.remainingAtMostSeconds !== undefined) {
        parts.push(`at most ${formatDuration(p.remainingAtMostSeconds)} left (stopping condition)`);
    }
    if (p.failureReason) parts.push(`reason: ${p.failureReason}`);
    return parts.join("; ");
}

export function formatEndpointProgress(p: EndpointProgress): string {
    const variants = p.variants.map((v) => {
        if (v.serverlessMaxConcurrency !== undefined) return `${v.variantName} serverless, max concurrency ${v.serverlessMaxConcurrency}`;
        const moving = v.desiredInstanceCount !== undefined && v.desiredInstanceCount !== v.currentInstanceCount ? ` (scaling to ${v.desiredInstanceCount})` : "";
        return `${v.variantName} ${v.currentInstanceCount ?? "?"} instance${v.currentInstanceCount === 1 ? "" : "s"}${moving}`;
    });
    const parts = [`endpoint ${p.name}: ${p.status}`, ...variants];
    if (p.failureReason) parts.push(`reason: ${p.failureReason}`);
    return parts.join("; ");
}

function formatNumber(value: number): string {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function secondsBetween(start: Date | undefined, end: Date | undefined, nowMs: number): number {
    if (!start) return 0;
    const endMs = end ? new Date(end).getTime() : nowMs;
    return Math.max(0, Math.round((endMs - new Date(start).getTime()) / 1000));
}
