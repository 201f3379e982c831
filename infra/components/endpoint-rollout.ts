/**
 * Moving the endpoint to a new endpoint configuration, and making sure it got there.
 *
 * terraform-provider-aws's `aws_sagemaker_endpoint` update calls UpdateEndpoint and waits only for `InService`
 * (waitEndpointInService, 60 minutes at most). When the new configuration fails (the model does not load, health
 * checks fail, no capacity), SageMaker rolls back and the endpoint returns to `InService` on the *old*
 * configuration, sometimes without a FailureReason; the provider reports success, the state records the new
 * configuration and Pulumi deletes the old one, which is the one still serving (terraform-provider-aws #48997,
 * #46663). So the provider only creates and deletes the endpoint (`ignoreChanges: ["endpointConfigName"]` on it),
 * and this dynamic resource does every move, through the SageMaker SDK:
 *
 * 1. waits until the endpoint is not `Updating` (Application Auto Scaling changing its capacity makes SageMaker
 *    refuse UpdateEndpoint) and retries UpdateEndpoint with backoff when it is refused for that reason;
 * 2. deregisters the variant's scalable target first when the variant changes instance type or becomes
 *    serverless: Application Auto Scaling refuses such an update while the variant is registered, and Pulumi
 *    deletes a target the program no longer declares only when the whole `up` ends, after this update;
 * 3. keeps the live instance count (`RetainAllVariantProperties`, instance count only) when both configurations
 *    use instances, so a model roll at peak does not drop to `initialInstanceCount`;
 * 4. with deployment guardrails (`guardrail`), asks for a blue/green update whose traffic shifting fits the live
 *    fleet (SageMaker allows a canary of at most 50 % of it and linear steps of 10 to 50 %, so one instance can
 *    only move all at once), a baking period, and automatic rollback on the stack's own alarms;
 * 5. waits as long as the rollout needs (`timeoutSeconds`, or longer when the guardrail's own timeout is longer:
 *    the provider would give up after 60 minutes), then requires the endpoint to be `InService` on the
 *    configuration it asked for, and otherwise fails the `up` with SageMaker's reason, or "rolled back", naming
 *    the alarm that made the guardrail roll back.
 *
 * The guardrail is never given to the provider's endpoint resource: terraform-provider-aws marks
 * `deployment_config.auto_rollback_configuration` ForceNew (internal/service/sagemaker/endpoint.go, v6), so
 * adding, removing or renaming a rollback alarm would replace the endpoint, whose fixed name the new one would
 * collide with. Here a change to the guardrail or its alarms is an in-place update of this resource that only
 * the next rollout uses.
 *
 * Why a failed rollout keeps the configuration that serves: the configurations are replaced create-before-delete
 * (Pulumi's default), and the Pulumi engine deletes replaced resources only after every other step of the
 * deployment has succeeded (deploymentExecutor.performPostSteps runs the deletes after the step executor
 * finished without error; a failed step cancels the deployment first). When this rollout fails, the old
 * configuration stays in the state as "pending delete"; the next `up` deletes pending deletes in the same final
 * phase, so again only if its rollout succeeded, i.e. once the endpoint serves another configuration.
 * `deleteBeforeReplace` on the configuration would delete the serving one before the update even starts;
 * `retainOnDelete` would never delete any. The model read grant of `existing` mode (SageMakerExecutionRole) is
 * one resource per model for the same reason: the old grant goes in that final phase too.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    CreateEndpointCommand,
    DescribeEndpointCommand,
    DescribeEndpointCommandOutput,
    DescribeEndpointConfigCommand,
    DescribeEndpointConfigCommandOutput,
    SageMakerClient,
    UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { DeploymentConfig, TrafficRoutingConfig } from "@aws-sdk/client-sagemaker";
import {
    ApplicationAutoScalingClient,
    DeleteScalingPolicyCommand,
    DeregisterScalableTargetCommand,
    DescribeScalableTargetsCommand,
    DescribeScalingPoliciesCommand,
} from "@aws-sdk/client-application-auto-scaling";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";

/** SageMaker's deployment guardrails for an instance variant, as the stack config sets them. */
export interface Guardrail {
    trafficShifting: "canary" | "linear" | "allAtOnce";
    canaryPercent: number;
    linearStepPercent: number;
    waitIntervalSeconds: number;
    bakingPeriodSeconds: number;
    /** CloudWatch alarms whose ALARM state rolls the update back: the stack's own endpoint alarms. */
    alarmNames: string[];
}

/** SageMaker's bounds on MaximumExecutionTimeoutInSeconds, and the allowance for a new fleet to come up. */
const MAX_EXECUTION = { min: 600, max: 14400 };
const PROVISIONING_ALLOWANCE_SECONDS = 1800;
/** What a rollback itself may take after the deployment's own timeout. */
const ROLLBACK_ALLOWANCE_SECONDS = 1800;

/**
 * The traffic shifting SageMaker accepts for a fleet of `instances`: a canary of at most half the fleet, linear
 * steps of 10 to 50 % of it, each at least one instance. Where the wanted mode does not fit, all at once (the
 * baking period and the alarm rollback still apply).
 */
export function trafficRouting(g: Guardrail, instances: number): { routing: TrafficRoutingConfig; waits: number; summary: string } {
    const half = Math.floor(instances / 2);
    if (g.trafficShifting === "canary" && half >= 1) {
        const size = Math.min(Math.max(1, Math.floor((instances * g.canaryPercent) / 100)), half);
        return {
            routing: { Type: "CANARY", CanarySize: { Type: "INSTANCE_COUNT", Value: size }, WaitIntervalInSeconds: g.waitIntervalSeconds },
            waits: 1,
            summary: `canary of ${size} of ${instances} instances, then the rest after ${g.waitIntervalSeconds} s`,
        };
    }
    const smallest = Math.max(1, Math.ceil(instances / 10));
    if (g.trafficShifting === "linear" && smallest <= half) {
        const step = Math.min(Math.max(smallest, Math.round((instances * g.linearStepPercent) / 100)), half);
        const steps = Math.ceil(instances / step);
        return {
            routing: { Type: "LINEAR", LinearStepSize: { Type: "INSTANCE_COUNT", Value: step }, WaitIntervalInSeconds: g.waitIntervalSeconds },
            waits: steps - 1,
            summary: `linear, ${step} of ${instances} instances at a time, ${g.waitIntervalSeconds} s apart`,
        };
    }
    const why = g.trafficShifting === "allAtOnce" ? "" : ` (a fleet of ${instances} cannot take a ${g.trafficShifting} step: SageMaker's canary is at most half the fleet, a linear step 10 to 50 % of it)`;
    return { routing: { Type: "ALL_AT_ONCE", WaitIntervalInSeconds: 0 }, waits: 0, summary: `all at once${why}` };
}

/** The DeploymentConfig of a guarded update of a fleet of `instances`, and how long it may take in all. */
export function guardedDeployment(g: Guardrail, instances: number): { config: DeploymentConfig; maxExecutionSeconds: number; summary: string } {
    const { routing, waits, summary } = trafficRouting(g, instances);
    const waiting = g.bakingPeriodSeconds + waits * g.waitIntervalSeconds;
    const maxExecutionSeconds = Math.min(MAX_EXECUTION.max, Math.max(MAX_EXECUTION.min, waiting + PROVISIONING_ALLOWANCE_SECONDS));
    return {
        config: {
            BlueGreenUpdatePolicy: {
                TrafficRoutingConfiguration: routing,
                TerminationWaitInSeconds: g.bakingPeriodSeconds,
                MaximumExecutionTimeoutInSeconds: maxExecutionSeconds,
            },
            AutoRollbackConfiguration: { Alarms: g.alarmNames.map((AlarmName) => ({ AlarmName })) },
        },
        maxExecutionSeconds,
        summary: `${summary}; ${g.bakingPeriodSeconds} s baking; rolls back when ${g.alarmNames.join(" or ")} goes into ALARM`,
    };
}

export interface EndpointRolloutInputs {
    sdk: AwsSdkSettings;
    endpointName: string;
    /** The configuration the endpoint must serve. */
    endpointConfigName: string;
    /**
     * The variant's instance type (from VariantShape, so a new type's rollout waits until auto-scaling is
     * deregistered) or `serverless`. Informational: the rollout reads both configurations from SageMaker.
     */
    variantShape: string;
    /** Set by FailedEndpointCleanup when it deleted a Failed endpoint: the rollout then creates it again. */
    recreateAfter: string;
    /** Tags of an endpoint the rollout creates again. */
    tags: Record<string, string>;
    /** How long one rollout may take before `pulumi up` stops waiting (SageMaker carries on). */
    timeoutSeconds: number;
    pollSeconds: number;
    /** Deployment guardrails for updates between instance configurations; none for serverless variants. */
    guardrail?: Guardrail;
}

export interface EndpointRolloutOutputs extends EndpointRolloutInputs {
    /** The configuration the endpoint serves, as SageMaker last reported it. */
    servingConfigName: string;
}

export interface SageMakerApi {
    send: SageMakerClient["send"];
}

export interface AutoScalingApi {
    send: ApplicationAutoScalingClient["send"];
}

export interface CloudWatchApi {
    send: CloudWatchClient["send"];
}

export interface RolloutClients {
    sagemaker: SageMakerApi;
    autoscaling: AutoScalingApi;
    cloudwatch: CloudWatchApi;
}

export type RolloutClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => RolloutClients;

export const defaultRolloutClients: RolloutClientFactory = (sdk, identity) => ({
    sagemaker: new SageMakerClient(sdkClientConfig(sdk, identity)),
    autoscaling: new ApplicationAutoScalingClient(sdkClientConfig(sdk, identity)),
    cloudwatch: new CloudWatchClient(sdkClientConfig(sdk, identity)),
});

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

/** Progress lines go to stdout, which the CLI shows as info diagnostics (see tuning-waiter.ts). */
export type ProgressReporter = (line: string) => void;

/** Statuses SageMaker passes through on the way to an end state. */
const MOVING = new Set(["Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"]);
/** UpdateEndpoint attempts while the endpoint keeps being busy (auto-scaling), waiting for it in between. */
export const UPDATE_ATTEMPTS = 5;

/** A rollout that did not end on the configuration it asked for. */
export class RolloutError extends Error {}

function isEndpointNotFound(error: unknown): boolean {
    const err = error as { name?: string; message?: string };
    return err?.name === "ValidationException" && /could not find endpoint/i.test(err.message ?? "");
}

/** SageMaker refuses UpdateEndpoint while the endpoint is being updated, e.g. by Application Auto Scaling. */
export function isEndpointBusy(error: unknown): boolean {
    const err = error as { name?: string; message?: string };
    return err?.name === "ValidationException" && /in-progress|in progress|is (currently )?(being )?updat/i.test(err.message ?? "");
}

interface VariantShape {
    variantName: string;
    /** The instance type, or undefined for a serverless variant. */
    instanceType?: string;
}

function variantShapes(config: DescribeEndpointConfigCommandOutput): VariantShape[] {
    return (config.ProductionVariants ?? []).map((v) => ({ variantName: v.VariantName ?? "", instanceType: v.ServerlessConfig ? undefined : v.InstanceType }));
}

export class EndpointRolloutProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(
        private readonly clientFactory: RolloutClientFactory = defaultRolloutClients,
        private readonly clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
        private readonly report: ProgressReporter = (line) => console.log(line),
    ) {
        super();
    }

    async create(inputs: EndpointRolloutInputs): Promise<pulumi.dynamic.CreateResult<EndpointRolloutOutputs>> {
        return { id: inputs.endpointName, outs: await this.rollOut(inputs) };
    }

    async diff(_id: string, olds: EndpointRolloutOutputs, news: EndpointRolloutInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = [
            ...(olds.endpointName !== news.endpointName ? ["endpointName"] : []),
            ...(olds.sdk?.region !== news.sdk.region ? ["sdk"] : []),
        ];
        const changes = replaces.length > 0 || olds.servingConfigName !== news.endpointConfigName ||
            (["endpointConfigName", "variantShape", "recreateAfter", "tags", "timeoutSeconds", "pollSeconds", "sdk", "guardrail"] as const)
                .some((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
        return { changes, replaces, deleteBeforeReplace: false };
    }

    /** Rolls out when the endpoint should serve another configuration, or was deleted as Failed; else records the settings. */
    async update(_id: string, olds: EndpointRolloutOutputs, news: EndpointRolloutInputs): Promise<pulumi.dynamic.UpdateResult<EndpointRolloutOutputs>> {
        if (olds.servingConfigName === news.endpointConfigName && olds.recreateAfter === news.recreateAfter) {
            return { outs: { ...news, servingConfigName: olds.servingConfigName } };
        }
        return { outs: await this.rollOut(news) };
    }

    /** Refresh: the configuration the endpoint serves now, so the next `up` rolls it back to what the stack wants. */
    async read(id: string, props: EndpointRolloutOutputs): Promise<pulumi.dynamic.ReadResult<EndpointRolloutOutputs>> {
        const endpoint = await this.describe(this.clientFactory(props.sdk, this.identity).sagemaker, props.endpointName);
        return { id, props: { ...props, servingConfigName: endpoint?.EndpointConfigName ?? "" } };
    }

    private async rollOut(inputs: EndpointRolloutInputs): Promise<EndpointRolloutOutputs> {
        const clients = this.clientFactory(inputs.sdk, this.identity);
        const started = this.clock.now();
        let deadline = started + inputs.timeoutSeconds * 1000;
        const name = inputs.endpointName;
        let endpoint = await this.waitUntilSettled(clients.sagemaker, inputs, deadline);
        let guarded = false;
        if (!endpoint) {
            // FailedEndpointCleanup deleted a Failed endpoint the provider still has in its state.
            this.report(`endpoint ${name}: creating it again with endpoint configuration ${inputs.endpointConfigName}`);
            await clients.sagemaker.send(new CreateEndpointCommand({
                EndpointName: name,
                EndpointConfigName: inputs.endpointConfigName,
                Tags: Object.entries(inputs.tags).map(([Key, Value]) => ({ Key, Value })),
            }));
            endpoint = await this.waitUntilSettled(clients.sagemaker, inputs, deadline);
        } else if (endpoint.EndpointStatus === "InService" && endpoint.EndpointConfigName !== inputs.endpointConfigName) {
            const move = await this.moveEndpoint(clients, inputs, endpoint, deadline);
            guarded = move.guarded;
            deadline = Math.max(deadline, started + move.timeoutSeconds * 1000);
            endpoint = await this.waitUntilSettled(clients.sagemaker, { ...inputs, timeoutSeconds: Math.round((deadline - started) / 1000) }, deadline);
        }
        const served = endpoint?.EndpointStatus === "InService" && endpoint.EndpointConfigName === inputs.endpointConfigName;
        const firedAlarms = guarded && !served && inputs.guardrail ? await this.alarmsThatFired(clients.cloudwatch, inputs.guardrail.alarmNames, new Date(started)) : [];
        return { ...inputs, servingConfigName: this.verify(inputs, endpoint, firedAlarms) };
    }

    /** Starts the update; says whether it is guarded and how long it may take in all. */
    private async moveEndpoint(clients: RolloutClients, inputs: EndpointRolloutInputs, endpoint: DescribeEndpointCommandOutput, deadline: number):
        Promise<{ guarded: boolean; timeoutSeconds: number }> {
        const [from, to] = await Promise.all([endpoint.EndpointConfigName as string, inputs.endpointConfigName].map((EndpointConfigName) =>
            clients.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName }))));
        const before = new Map(variantShapes(from).map((v) => [v.variantName, v]));
        const after = variantShapes(to);
        for (const variant of after) {
            const old = before.get(variant.variantName);
            if (old?.instanceType !== undefined && old.instanceType !== variant.instanceType) {
                await this.deregisterScaling(clients.autoscaling, inputs.endpointName, variant.variantName, variant.instanceType ?? "serverless");
            }
        }
        // Both sides on instances: keep the live instance count, take weights and data capture from the new configuration.
        const retainCount = after.every((v) => v.instanceType !== undefined && before.get(v.variantName)?.instanceType !== undefined);
        // The new fleet is as large as the live one (the count is retained); a guardrail's steps are sized on it.
        const liveInstances = Math.min(...(endpoint.ProductionVariants ?? []).map((v) => v.DesiredInstanceCount ?? v.CurrentInstanceCount ?? 1));
        const guard = inputs.guardrail && retainCount ? guardedDeployment(inputs.guardrail, Number.isFinite(liveInstances) ? liveInstances : 1) : undefined;
        if (guard && inputs.guardrail) await this.warnAboutAlarmsAlreadyFiring(clients.cloudwatch, inputs.endpointName, inputs.guardrail.alarmNames);
        const request = new UpdateEndpointCommand({
            EndpointName: inputs.endpointName,
            EndpointConfigName: inputs.endpointConfigName,
            ...(retainCount
                ? { RetainAllVariantProperties: true, ExcludeRetainedVariantProperties: [{ VariantPropertyType: "DesiredWeight" }, { VariantPropertyType: "DataCaptureConfig" }] }
                : {}),
            ...(guard ? { DeploymentConfig: guard.config } : {}),
        });
        this.report(`endpoint ${inputs.endpointName}: moving from endpoint configuration ${endpoint.EndpointConfigName} to ${inputs.endpointConfigName}` +
            (retainCount ? `, keeping its live instance count (${liveInstances})` : "") + (guard ? `; guarded: ${guard.summary}` : ""));
        for (let attempt = 1; ; attempt++) {
            try {
                await clients.sagemaker.send(request);
                const timeoutSeconds = guard ? guard.maxExecutionSeconds + ROLLBACK_ALLOWANCE_SECONDS : inputs.timeoutSeconds;
                return { guarded: guard !== undefined, timeoutSeconds: Math.max(timeoutSeconds, inputs.timeoutSeconds) };
            } catch (error) {
                if (!isEndpointBusy(error) || attempt >= UPDATE_ATTEMPTS) throw error;
                this.report(`endpoint ${inputs.endpointName}: busy (${(error as Error).message}); trying again once it is settled`);
                await this.clock.sleep(Math.min(2 ** attempt * 15_000, Math.max(deadline - this.clock.now(), 0)));
                await this.waitUntilSettled(clients.sagemaker, inputs, deadline);
            }
        }
    }

    /** An alarm already in ALARM makes the guardrail roll the update back as soon as it can: say so first. */
    private async warnAboutAlarmsAlreadyFiring(cloudwatch: CloudWatchApi, endpointName: string, alarmNames: string[]): Promise<void> {
        const alarms = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames, StateValue: "ALARM" }));
        const firing = (alarms.MetricAlarms ?? []).map((a) => a.AlarmName).filter(Boolean);
        if (firing.length > 0) {
            this.report(`endpoint ${endpointName}: ${firing.join(", ")} already in ALARM; the guardrail rolls the update back unless it recovers during the rollout`);
        }
    }

    /** The rollback alarms that went into ALARM since the rollout started, with when and why. */
    private async alarmsThatFired(cloudwatch: CloudWatchApi, alarmNames: string[], since: Date): Promise<string[]> {
        const fired: string[] = [];
        for (const AlarmName of alarmNames) {
            const history = await cloudwatch.send(new DescribeAlarmHistoryCommand({
                AlarmName, HistoryItemType: "StateUpdate", StartDate: since, ScanBy: "TimestampAscending", MaxRecords: 100,
            }));
            for (const item of history.AlarmHistoryItems ?? []) {
                const data = item.HistoryData ? (JSON.parse(item.HistoryData) as { newState?: { stateValue?: string; stateReason?: string } }) : {};
                if (data.newState?.stateValue !== "ALARM") continue;
                fired.push(`${AlarmName} went into ALARM at ${item.Timestamp?.toISOString() ?? "?"}${data.newState.stateReason ? ` (${data.newState.stateReason})` : ""}`);
                break;
            }
        }
        return fired;
    }

    /** Removes the variant's scaling policies and scalable target, as AWS's "update endpoints that use auto scaling" requires. */
    private async deregisterScaling(autoscaling: AutoScalingApi, endpointName: string, variantName: string, newShape: string): Promise<void> {
        const ResourceId = `endpoint/${endpointName}/variant/${variantName}`;
        const key = { ServiceNamespace: "sagemaker" as const, ResourceId, ScalableDimension: "sagemaker:variant:DesiredInstanceCount" as const };
        const targets = await autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "sagemaker", ResourceIds: [ResourceId] }));
        if (!targets.ScalableTargets?.length) return;
        const policies = await autoscaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: "sagemaker", ResourceId }));
        for (const policy of policies.ScalingPolicies ?? []) {
            await autoscaling.send(new DeleteScalingPolicyCommand({ ...key, PolicyName: policy.PolicyName }));
        }
        await autoscaling.send(new DeregisterScalableTargetCommand(key));
        this.report(`endpoint ${endpointName}: deregistered ${ResourceId} from auto-scaling for its move to ${newShape}; ` +
            "this pulumi up registers it again if the stack still scales it");
    }

    private async describe(client: SageMakerApi, name: string): Promise<DescribeEndpointCommandOutput | undefined> {
        try {
            return await client.send(new DescribeEndpointCommand({ EndpointName: name }));
        } catch (error) {
            if (isEndpointNotFound(error)) return undefined;
            throw error;
        }
    }

    /** The endpoint once it has stopped moving (undefined when there is none), reporting its status as it changes. */
    private async waitUntilSettled(client: SageMakerApi, inputs: EndpointRolloutInputs, deadline: number): Promise<DescribeEndpointCommandOutput | undefined> {
        let reported = "";
        for (;;) {
            const endpoint = await this.describe(client, inputs.endpointName);
            const status = endpoint?.EndpointStatus ?? "absent";
            if (!MOVING.has(status)) return endpoint;
            if (status !== reported) {
                this.report(`endpoint ${inputs.endpointName}: ${status}`);
                reported = status;
            }
            const remaining = deadline - this.clock.now();
            if (remaining <= 0) {
                throw new RolloutError(
                    `endpoint ${inputs.endpointName} is still ${status} after ${Math.round(inputs.timeoutSeconds / 60)} minutes; SageMaker carries on. ` +
                        "Run pulumi up again to wait for it (raise endpoint.updateTimeoutMinutes if rollouts take this long)",
                );
            }
            await this.clock.sleep(Math.min(inputs.pollSeconds * 1000, remaining));
        }
    }

    /** The configuration served, if it is the one asked for and the endpoint is InService; else why not. */
    private verify(inputs: EndpointRolloutInputs, endpoint: DescribeEndpointCommandOutput | undefined, firedAlarms: string[]): string {
        const name = inputs.endpointName;
        if (!endpoint) throw new RolloutError(`endpoint ${name} does not exist`);
        const reason = endpoint.FailureReason ? `SageMaker's reason: ${endpoint.FailureReason}` : "SageMaker gave no reason";
        if (endpoint.EndpointStatus === "Failed") {
            throw new RolloutError(
                `endpoint ${name} is Failed (${reason}). Fix the cause and run pulumi up again: it deletes the failed endpoint and creates it again`,
            );
        }
        if (endpoint.EndpointStatus === "InService" && endpoint.EndpointConfigName === inputs.endpointConfigName) {
            return inputs.endpointConfigName;
        }
        if (endpoint.EndpointStatus === "InService") {
            const why = firedAlarms.length > 0
                ? `the deployment guardrail rolled back after ${firedAlarms.join("; ")}`
                : "SageMaker rolled back";
            throw new RolloutError(
                `endpoint ${name} did not move to endpoint configuration ${inputs.endpointConfigName}: ${why}, and the endpoint ` +
                    `serves ${endpoint.EndpointConfigName} again (${reason}). That configuration is kept. Fix the model or configuration and run ` +
                    "pulumi up; running it unchanged tries the same rollout again",
            );
        }
        throw new RolloutError(`endpoint ${name} is ${endpoint.EndpointStatus} on endpoint configuration ${endpoint.EndpointConfigName} (${reason})`);
    }
}

export interface EndpointRolloutArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
    endpointName: pulumi.Input<string>;
    endpointConfigName: pulumi.Input<string>;
    variantShape: pulumi.Input<string>;
    recreateAfter: pulumi.Input<string>;
    tags: Record<string, string>;
    timeoutSeconds: number;
    pollSeconds?: number;
    guardrail?: Guardrail;
}

export class EndpointRollout extends pulumi.dynamic.Resource {
    declare readonly servingConfigName: pulumi.Output<string>;
    /** The configuration asked for: unlike servingConfigName, known already at preview. */
    declare readonly endpointConfigName: pulumi.Output<string>;

    constructor(name: string, args: EndpointRolloutArgs, opts?: pulumi.CustomResourceOptions) {
        super(new EndpointRolloutProvider(), name, { pollSeconds: 30, ...args, servingConfigName: undefined }, opts, "sagemaker-classifier", "EndpointRollout");
    }
}
