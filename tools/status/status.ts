/**
 * One look at a stack through the SageMaker API: its tuning or training job and its endpoint, each as the
 * progress record infra/progress.ts makes (the same words the tuning waiter prints during `pulumi up`); and,
 * when the stack outputs name one, its EC2 training run (ec2-run.ts).
 */
import {
    DescribeEndpointCommand,
    DescribeHyperParameterTuningJobCommand,
    DescribeModelPackageCommand,
    DescribeTrainingJobCommand,
    ListHyperParameterTuningJobsCommand,
    ListModelPackagesCommand,
    ListTrainingJobsCommand,
    SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { approveCommand, isStackJobName } from "../../infra/names";
import {
    EndpointProgress,
    endpointProgress,
    formatEndpointProgress,
    formatTrainingProgress,
    formatTuningProgress,
    TrainingProgress,
    trainingProgress,
    TuningProgress,
    tuningProgress,
} from "../../infra/progress";
import { Ec2RunApis, Ec2RunProgress, ec2RunProgress, formatEc2Run } from "./ec2-run";
import { StackTargets } from "./targets";

export interface Missing {
    kind: "missing";
    what: string;
    detail: string;
}

/** One version of the stack's model package group, as the approval gate sees it. */
export interface ModelVersion {
    version: number;
    arn: string;
    approval: string;
    metrics: Record<string, string>;
    trainingJob?: string;
}

export interface ModelRegistryStatus {
    kind: "registry";
    group: string;
    /** Newest first, at most MAX_VERSIONS_SHOWN. */
    versions: ModelVersion[];
}

export const MAX_VERSIONS_SHOWN = 10;

export interface StackStatus {
    targets: StackTargets;
    job?: TuningProgress | TrainingProgress | Missing;
    endpoint: EndpointProgress | Missing;
    ec2Run?: Ec2RunProgress | Missing;
    /** Present once the stack's model package group has versions. */
    registry?: ModelRegistryStatus;
}

export type SageMakerApi = Pick<SageMakerClient, "send">;

export async function collectStatus(client: SageMakerApi, targets: StackTargets, nowMs: number, ec2?: Ec2RunApis): Promise<StackStatus> {
    const [job, endpoint, ec2Run, registry] = await Promise.all([
        collectJob(client, targets, nowMs),
        collectEndpoint(client, targets.endpointName),
        ec2 ? collectEc2Run(ec2, targets) : undefined,
        // Only a stack that trains registers versions.
        targets.trainingMode === "existing" ? undefined : collectRegistry(client, targets.modelPackageGroup),
    ]);
    return { targets, job, endpoint, ...(ec2Run ? { ec2Run } : {}), ...(registry ? { registry } : {}) };
}

/** The group's newest versions with their approval status and the metrics registered with them. */
async function collectRegistry(client: SageMakerApi, group: string): Promise<ModelRegistryStatus | undefined> {
    let summaries;
    try {
        summaries = (await client.send(new ListModelPackagesCommand({ ModelPackageGroupName: group, SortBy: "CreationTime", SortOrder: "Descending", MaxResults: MAX_VERSIONS_SHOWN })))
            .ModelPackageSummaryList ?? [];
    } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
    }
    if (summaries.length === 0) return undefined;
    const versions = await Promise.all(summaries.filter((s) => s.ModelPackageArn).map(async (summary) => {
        const arn = summary.ModelPackageArn as string;
        const described = await client.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
        const metadata = described.CustomerMetadataProperties ?? {};
        return {
            version: described.ModelPackageVersion ?? summary.ModelPackageVersion ?? Number(arn.split("/").pop()),
            arn,
            approval: described.ModelApprovalStatus ?? summary.ModelApprovalStatus ?? "Unknown",
            metrics: Object.fromEntries(Object.entries(metadata).filter(([k]) => k.startsWith("metric:")).map(([k, v]) => [k.slice("metric:".length), v])),
            trainingJob: metadata.trainingJob,
        };
    }));
    return { kind: "registry", group, versions };
}

async function collectEc2Run(apis: Ec2RunApis, t: StackTargets): Promise<StackStatus["ec2Run"]> {
    if (!t.ec2InstanceId || !t.ec2ModelArtifact) return undefined;
    try {
        return await ec2RunProgress(apis, t.ec2InstanceId, t.ec2ModelArtifact);
    } catch (error) {
        // A terminated instance disappears from DescribeInstances after a while; the id in the outputs is stale then.
        if ((error as { name?: string }).name === "InvalidInstanceID.NotFound") {
            return { kind: "missing", what: "EC2 run", detail: `instance ${t.ec2InstanceId} not found in ${t.region} (deleted; pulumi up creates the run's instance again if it is enabled)` };
        }
        throw error;
    }
}

async function collectJob(client: SageMakerApi, t: StackTargets, nowMs: number): Promise<StackStatus["job"]> {
    if (t.trainingMode === "existing") return undefined;
    const kind = t.trainingMode === "tuning" ? "tuning" : "training";
    const what = `${kind} job`;
    const name = (kind === "tuning" ? t.tuningJobName : t.trainingJobName) ?? (await newestJob(client, kind, t));
    if (!name) return { kind: "missing", what, detail: `no ${what} named ${t.jobPrefix}-<digest> in ${t.region} yet` };
    try {
        return kind === "tuning"
            ? tuningProgress(await client.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name })), nowMs)
            : trainingProgress(await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name })), nowMs);
    } catch (error) {
        if (isNotFound(error)) return { kind: "missing", what, detail: `${what} ${name} not found in ${t.region}` };
        throw error;
    }
}

/** The stack's most recent job: its names are `<prefix>-<digest>`, and each change of code or config is a new one. */
async function newestJob(client: SageMakerApi, kind: "tuning" | "training", t: StackTargets): Promise<string | undefined> {
    const query = { NameContains: t.jobPrefix, SortBy: "CreationTime" as const, SortOrder: "Descending" as const, MaxResults: 100 };
    const names = kind === "tuning"
        ? ((await client.send(new ListHyperParameterTuningJobsCommand(query))).HyperParameterTuningJobSummaries ?? []).map((j) => j.HyperParameterTuningJobName)
        : ((await client.send(new ListTrainingJobsCommand(query))).TrainingJobSummaries ?? []).map((j) => j.TrainingJobName);
    return names.find((name): name is string => !!name && isStackJobName(name, t.environment));
}

async function collectEndpoint(client: SageMakerApi, name: string): Promise<EndpointProgress | Missing> {
    try {
        return endpointProgress(await client.send(new DescribeEndpointCommand({ EndpointName: name })));
    } catch (error) {
        if (isNotFound(error)) return { kind: "missing", what: "endpoint", detail: `endpoint ${name} does not exist (yet)` };
        throw error;
    }
}

/** SageMaker says "not found" as ResourceNotFound or as a ValidationException whose message says so. */
function isNotFound(error: unknown): boolean {
    const err = error as { name?: string; message?: string };
    return err?.name === "ResourceNotFound" || (err?.name === "ValidationException" && /could not find|not found|does not exist/i.test(err.message ?? ""));
}

const TRANSITIONAL_ENDPOINT = new Set(["Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"]);
const FAILED = new Set(["Failed", "Stopped", "OutOfService", "UpdateRollbackFailed"]);

/** Nothing is still moving: every job has ended and the endpoint is not being created or updated. */
export function isSettled(s: StackStatus): boolean {
    const jobMoving = s.job && s.job.kind !== "missing" && ["InProgress", "Stopping"].includes(s.job.status);
    const endpointMoving = s.endpoint.kind !== "missing" && TRANSITIONAL_ENDPOINT.has(s.endpoint.status);
    const ec2Moving = s.ec2Run?.kind === "ec2" && s.ec2Run.status === "InProgress";
    // A missing job or endpoint may be about to appear: only the explicit end states settle a watch.
    const missing = (s.job?.kind === "missing") || s.endpoint.kind === "missing";
    return !jobMoving && !endpointMoving && !ec2Moving && !missing;
}

export function hasFailed(s: StackStatus): boolean {
    return [s.job, s.endpoint, s.ec2Run].some((p) => p !== undefined && p.kind !== "missing" && FAILED.has(p.status));
}

export function formatStatus(s: StackStatus): string {
    const lines = [`stack ${s.targets.stack} (${s.targets.region}, ${s.targets.trainingMode} training; ${s.targets.source})`];
    if (s.job) lines.push(formatPart(s.job));
    lines.push(formatPart(s.endpoint));
    if (s.ec2Run) lines.push(formatPart(s.ec2Run));
    if (s.registry) lines.push(...formatRegistry(s.registry, s.targets));
    return lines.join("\n");
}

function formatRegistry(r: ModelRegistryStatus, t: StackTargets): string[] {
    return [
        `  model package group ${r.group}, newest first:`,
        ...r.versions.map((v) => {
            const served = t.servedModelPackage === v.arn ? ", served" : "";
            const metrics = Object.entries(v.metrics).map(([k, value]) => `${k} ${value}`).join(", ") || "no metrics";
            const approve = v.approval === "PendingManualApproval" ? `; approve: ${approveCommand(v.arn, t.region)}` : "";
            return `    version ${v.version}: ${v.approval}${served}; ${metrics}${v.trainingJob ? `; trained by ${v.trainingJob}` : ""}${approve}`;
        }),
    ];
}

function formatPart(p: TuningProgress | TrainingProgress | EndpointProgress | Ec2RunProgress | Missing): string {
    switch (p.kind) {
        case "tuning": return `  ${formatTuningProgress(p)}`;
        case "training": return `  ${formatTrainingProgress(p)}`;
        case "endpoint": return `  ${formatEndpointProgress(p)}`;
        case "ec2": return `  ${formatEc2Run(p)}`;
        case "missing": return `  ${p.what}: ${p.detail}`;
    }
}
