/**
 * The endpoint rollout and the failed-endpoint cleanup, through the real SageMaker and Application Auto Scaling
 * SDK clients against a loopback server that speaks their JSON 1.1 protocol: what `pulumi up` asks SageMaker,
 * and what it makes of SageMaker's answers, a rollback above all.
 */
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { expect } from "chai";
import {
    EndpointRolloutInputs, EndpointRolloutOutputs, EndpointRolloutProvider, Guardrail, guardedDeployment, RolloutClientFactory, trafficRouting, UPDATE_ATTEMPTS,
} from "../components/endpoint-rollout";
import { FailedEndpointCleanupInputs, FailedEndpointCleanupProvider } from "../components/failed-endpoint-cleanup";
import { epochSeconds, SageMakerAnswer, SageMakerApiServer, SageMakerCall, startSageMakerApiServer } from "../../tools/status/test/support/sagemaker-api-server";

const credentials = { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback-secret" };
const ENDPOINT = "sagemaker-classifier-prod";
const OLD = "classifier-config-0000001";
const NEW = "classifier-config-0000002";

const inputs: EndpointRolloutInputs = {
    sdk: { region: "us-east-1" },
    endpointName: ENDPOINT,
    endpointConfigName: NEW,
    variantShape: "ml.m5.large",
    recreateAfter: "",
    tags: { stack: "prod" },
    timeoutSeconds: 3600,
    pollSeconds: 30,
};
const serving = (config: string): EndpointRolloutOutputs => ({ ...inputs, endpointConfigName: config, servingConfigName: config });

function fakeClock() {
    let now = 0;
    const sleeps: number[] = [];
    return { sleeps, now: () => now, sleep: async (ms: number) => { sleeps.push(ms); now += ms; } };
}

/** DescribeEndpoint answers in turn; the last one repeats. */
function endpointStates(...states: Array<{ status: string; config: string; reason?: string; instances?: number } | "absent">): SageMakerAnswer {
    let i = 0;
    return () => {
        const state = states[Math.min(i++, states.length - 1)];
        if (state === "absent") return [400, { __type: "ValidationException", message: `Could not find endpoint "${ENDPOINT}".` }];
        return [200, {
            EndpointName: ENDPOINT,
            EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}`,
            EndpointConfigName: state.config,
            EndpointStatus: state.status,
            ...(state.reason ? { FailureReason: state.reason } : {}),
            ProductionVariants: [{ VariantName: "AllTraffic", CurrentInstanceCount: state.instances ?? 3, DesiredInstanceCount: state.instances ?? 3 }],
            CreationTime: epochSeconds(new Date("2026-11-30T12:00:00Z")),
            LastModifiedTime: epochSeconds(new Date("2026-12-01T12:00:00Z")),
        }];
    };
}

const instanceConfig = (type: string) => ({ ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "m", InstanceType: type, InitialInstanceCount: 1 }] });
const serverlessConfig = { ProductionVariants: [{ VariantName: "AllTraffic", ModelName: "m", ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 2 } }] };
const configs = (byName: Record<string, unknown>): SageMakerAnswer => (body) => [200, { EndpointConfigName: body.EndpointConfigName, ...(byName[body.EndpointConfigName as string] as object) }];
const accepted: SageMakerAnswer = () => [200, { EndpointArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}` }];


const guardrail: Guardrail = {
    trafficShifting: "canary", canaryPercent: 25, linearStepPercent: 25, waitIntervalSeconds: 300, bakingPeriodSeconds: 900,
    alarmNames: [`${ENDPOINT}-AllTraffic-5xx`, `${ENDPOINT}-AllTraffic-latency-p99`],
};

describe("deployment guardrails: the traffic shifting a fleet allows", () => {
    const shift = (mode: Guardrail["trafficShifting"], instances: number, percent = 25) =>
        trafficRouting({ ...guardrail, trafficShifting: mode, canaryPercent: percent, linearStepPercent: Math.max(percent, 10) }, instances).routing;

    it("moves a one-instance fleet all at once, whatever was asked, and says why", () => {
        for (const mode of ["canary", "linear", "allAtOnce"] as const) expect(shift(mode, 1)).to.deep.equal({ Type: "ALL_AT_ONCE", WaitIntervalInSeconds: 0 });
        expect(trafficRouting(guardrail, 1).summary).to.equal("all at once (a fleet of 1 cannot take a canary step: SageMaker's canary is at most half the fleet, a linear step 10 to 50 % of it)");
    });

    it("sizes a canary at the wanted share, at least one instance and at most half the fleet", () => {
        expect([2, 4, 10, 20].map((n) => shift("canary", n).CanarySize)).to.deep.equal([
            { Type: "INSTANCE_COUNT", Value: 1 }, { Type: "INSTANCE_COUNT", Value: 1 }, { Type: "INSTANCE_COUNT", Value: 2 }, { Type: "INSTANCE_COUNT", Value: 5 },
        ]);
        expect(shift("canary", 4, 50).CanarySize?.Value).to.equal(2);
        expect(shift("canary", 3, 50).CanarySize?.Value, "never more than half").to.equal(1);
    });

    it("keeps linear steps within 10 to 50 % of the fleet, each at least one instance", () => {
        for (const n of [2, 3, 4, 7, 10, 11, 20, 100]) {
            for (const percent of [10, 25, 50]) {
                const step = shift("linear", n, percent).LinearStepSize?.Value as number;
                expect(step, `${n} instances, ${percent} %`).to.be.at.least(1);
                expect(step / n, `${n} instances, ${percent} %`).to.be.within(0.1, 0.5);
            }
        }
        expect(trafficRouting({ ...guardrail, trafficShifting: "linear" }, 10).waits, "10 instances in steps of 3: 4 steps, 3 waits").to.equal(3);
    });

    it("gives SageMaker a timeout longer than every wait it asked for, within 10 minutes to 4 hours", () => {
        const { config, maxExecutionSeconds } = guardedDeployment({ ...guardrail, trafficShifting: "linear", waitIntervalSeconds: 600 }, 10);
        expect(maxExecutionSeconds).to.equal(900 + 3 * 600 + 1800);
        expect(config.BlueGreenUpdatePolicy?.MaximumExecutionTimeoutInSeconds).to.equal(maxExecutionSeconds);
        expect(guardedDeployment({ ...guardrail, bakingPeriodSeconds: 3600, waitIntervalSeconds: 3600, trafficShifting: "linear" }, 100).maxExecutionSeconds).to.equal(14400);
        expect(config.AutoRollbackConfiguration).to.deep.equal({ Alarms: guardrail.alarmNames.map((AlarmName) => ({ AlarmName })) });
    });
});

describe("endpoint rollout (dynamic provider) against a loopback SageMaker", () => {
    let server: SageMakerApiServer | undefined;
    let lines: string[];
    let clock: ReturnType<typeof fakeClock>;
    afterEach(async () => server?.close());

    /** A provider whose real SDK clients talk to a loopback server with these answers. */
    async function providerFor(answers: Record<string, SageMakerAnswer>): Promise<{ provider: EndpointRolloutProvider; calls: SageMakerCall[] }> {
        server = await startSageMakerApiServer(answers);
        const url = server.url;
        const clients: RolloutClientFactory = (sdk) => ({
            sagemaker: new SageMakerClient({ region: sdk.region, endpoint: url, credentials }),
            autoscaling: new ApplicationAutoScalingClient({ region: sdk.region, endpoint: url, credentials }),
            cloudwatch: new CloudWatchClient({ region: sdk.region, endpoint: url, credentials }),
        });
        lines = [];
        clock = fakeClock();
        return { provider: new EndpointRolloutProvider(clients, clock, (line) => lines.push(line)), calls: server.calls };
    }
    const targets = (calls: SageMakerCall[]) => calls.map((c) => c.target.split(".")[1]);

    it("a rollback SageMaker reports as InService on the old configuration fails the up, keeping the configuration that serves", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "Updating", config: OLD }, { status: "Updating", config: OLD },
                { status: "InService", config: OLD }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        const error = await provider.update(ENDPOINT, serving(OLD), inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            `endpoint ${ENDPOINT} did not move to endpoint configuration ${NEW}: SageMaker rolled back, and the endpoint serves ${OLD} again ` +
                "(SageMaker gave no reason). That configuration is kept. Fix the model or configuration and run pulumi up; running it unchanged tries the same rollout again",
        );
        expect(targets(calls).filter((t) => t === "UpdateEndpoint")).to.have.length(1);
        expect(lines).to.include(`endpoint ${ENDPOINT}: Updating`);
    });

    it("names SageMaker's failure reason when it gives one", async () => {
        const reason = "The primary container for production variant AllTraffic did not pass the ping health check.";
        const { provider } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "Updating", config: OLD }, { status: "InService", config: OLD, reason }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        const error = await provider.update(ENDPOINT, serving(OLD), inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.include(`serves ${OLD} again (SageMaker's reason: ${reason})`);
    });

    it("moves the endpoint keeping its live instance count, and records the configuration it serves", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD, instances: 3 }, { status: "Updating", config: OLD }, { status: "InService", config: NEW, instances: 3 }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        const { outs } = await provider.update(ENDPOINT, serving(OLD), inputs);
        expect(outs?.servingConfigName).to.equal(NEW);
        const update = calls.find((c) => c.target === "SageMaker.UpdateEndpoint");
        expect(update?.body).to.deep.equal({
            EndpointName: ENDPOINT,
            EndpointConfigName: NEW,
            RetainAllVariantProperties: true,
            ExcludeRetainedVariantProperties: [{ VariantPropertyType: "DesiredWeight" }, { VariantPropertyType: "DataCaptureConfig" }],
        });
        expect(update?.authorization).to.match(/Credential=AKIDLOOPBACK\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
        // Polled at the configured interval, never busy-looping.
        expect(clock.sleeps).to.deep.equal([30_000]);
    });

    it("waits out an endpoint that auto-scaling is updating, and retries an UpdateEndpoint refused for it", async () => {
        let updates = 0;
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "Updating", config: OLD }, { status: "InService", config: OLD }, { status: "Updating", config: OLD },
                { status: "InService", config: OLD }, { status: "Updating", config: OLD }, { status: "InService", config: NEW }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": () => (++updates === 1
                ? [400, { __type: "ValidationException", message: `Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${ENDPOINT}".` }]
                : accepted({})),
        });
        const { outs } = await provider.update(ENDPOINT, serving(OLD), inputs);
        expect(outs?.servingConfigName).to.equal(NEW);
        expect(targets(calls).filter((t) => t === "UpdateEndpoint")).to.have.length(2);
        expect(lines.some((l) => l.includes("busy (Cannot update in-progress endpoint"))).to.equal(true);
    });

    it(`gives up after ${UPDATE_ATTEMPTS} refusals, with SageMaker's error`, async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": () => [400, { __type: "ValidationException", message: "Cannot update in-progress endpoint" }],
        });
        const error = await provider.update(ENDPOINT, serving(OLD), inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal("Cannot update in-progress endpoint");
        expect(targets(calls).filter((t) => t === "UpdateEndpoint")).to.have.length(UPDATE_ATTEMPTS);
    });

    it("deregisters auto-scaling before moving an instance variant to serverless, and retains nothing across the switch", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "Updating", config: OLD }, { status: "InService", config: NEW }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: serverlessConfig }),
            "SageMaker.UpdateEndpoint": accepted,
            "AnyScaleFrontendService.DescribeScalableTargets": () => [200, {
                ScalableTargets: [{ ServiceNamespace: "sagemaker", ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`, ScalableDimension: "sagemaker:variant:DesiredInstanceCount", MinCapacity: 1, MaxCapacity: 4, RoleARN: "arn:aws:iam::123456789012:role/aas", CreationTime: 0 }],
            }],
            "AnyScaleFrontendService.DescribeScalingPolicies": () => [200, { ScalingPolicies: [{ PolicyName: "classifier-invocations-1a2b3c4", PolicyARN: "arn:p", ServiceNamespace: "sagemaker", ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`, ScalableDimension: "sagemaker:variant:DesiredInstanceCount", PolicyType: "TargetTrackingScaling", CreationTime: 0 }] }],
            "AnyScaleFrontendService.DeleteScalingPolicy": () => [200, {}],
            "AnyScaleFrontendService.DeregisterScalableTarget": () => [200, {}],
        });
        const { outs } = await provider.update(ENDPOINT, serving(OLD), { ...inputs, variantShape: "serverless" });
        expect(outs?.servingConfigName).to.equal(NEW);
        const order = targets(calls).filter((t) => !t.startsWith("Describe"));
        expect(order).to.deep.equal(["DeleteScalingPolicy", "DeregisterScalableTarget", "UpdateEndpoint"]);
        const key = { ServiceNamespace: "sagemaker", ResourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`, ScalableDimension: "sagemaker:variant:DesiredInstanceCount" };
        expect(calls.find((c) => c.target.endsWith("DeleteScalingPolicy"))?.body).to.deep.equal({ ...key, PolicyName: "classifier-invocations-1a2b3c4" });
        expect(calls.find((c) => c.target.endsWith("DeregisterScalableTarget"))?.body).to.deep.equal(key);
        expect(calls.find((c) => c.target.endsWith("UpdateEndpoint"))?.body).to.deep.equal({ EndpointName: ENDPOINT, EndpointConfigName: NEW });
    });

    it("leaves auto-scaling alone when only the model changes (AWS allows that update)", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "InService", config: NEW }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        await provider.update(ENDPOINT, serving(OLD), inputs);
        expect(targets(calls).filter((t) => /Scal/.test(t))).to.deep.equal([]);
    });

    it("stops waiting at its timeout, saying SageMaker carries on and how to wait again", async () => {
        const { provider } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "Updating", config: OLD }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        const error = await provider.update(ENDPOINT, serving(OLD), { ...inputs, timeoutSeconds: 600 }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(new RegExp(`^endpoint ${ENDPOINT} is still Updating after 10 minutes; SageMaker carries on\\. Run pulumi up again to wait for it`));
        expect(clock.now()).to.equal(600_000);
    });

    it("a created endpoint is checked too: InService on its configuration, or the up fails saying it will be recreated", async () => {
        const ok = await providerFor({ "SageMaker.DescribeEndpoint": endpointStates({ status: "Creating", config: NEW }, { status: "InService", config: NEW }) });
        expect((await ok.provider.create(inputs)).outs?.servingConfigName).to.equal(NEW);
        await server?.close();
        const failed = await providerFor({ "SageMaker.DescribeEndpoint": endpointStates({ status: "Failed", config: NEW, reason: "CapacityError: Unable to provision requested ML compute capacity." }) });
        const error = await failed.provider.create(inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            `endpoint ${ENDPOINT} is Failed (SageMaker's reason: CapacityError: Unable to provision requested ML compute capacity.). ` +
                "Fix the cause and run pulumi up again: it deletes the failed endpoint and creates it again",
        );
    });

    it("creates the endpoint again, with the configuration and tags the stack wants, after the cleanup deleted a failed one", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates("absent", { status: "Creating", config: NEW }, { status: "InService", config: NEW }),
            "SageMaker.CreateEndpoint": accepted,
        });
        const { outs } = await provider.update(ENDPOINT, serving(NEW), { ...inputs, recreateAfter: "2026-11-30T12:00:00.000Z" });
        expect(outs?.servingConfigName).to.equal(NEW);
        expect(calls.find((c) => c.target === "SageMaker.CreateEndpoint")?.body).to.deep.equal({ EndpointName: ENDPOINT, EndpointConfigName: NEW, Tags: [{ Key: "stack", Value: "prod" }] });
    });

    it("changes only what it must: a settings change calls nothing; a new endpoint name or region replaces it", async () => {
        const { provider, calls } = await providerFor({});
        expect(await provider.diff(ENDPOINT, serving(NEW), inputs)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await provider.diff(ENDPOINT, serving(OLD), inputs)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        // A rollout that failed left the old state: the next up tries again.
        expect((await provider.diff(ENDPOINT, { ...serving(OLD), endpointConfigName: OLD }, inputs)).changes).to.equal(true);
        expect((await provider.diff(ENDPOINT, serving(NEW), { ...inputs, endpointName: "other" })).replaces).to.deep.equal(["endpointName"]);
        expect((await provider.diff(ENDPOINT, serving(NEW), { ...inputs, sdk: { region: "eu-west-1" } })).replaces).to.deep.equal(["sdk"]);
        const { outs } = await provider.update(ENDPOINT, serving(NEW), { ...inputs, timeoutSeconds: 7200 });
        expect(outs).to.include({ timeoutSeconds: 7200, servingConfigName: NEW });
        expect(calls).to.deep.equal([]);
    });

    const noAlarmFiring: Record<string, SageMakerAnswer> = { "GraniteServiceVersion20100801.DescribeAlarms": () => [200, { MetricAlarms: [] }] };

    it("a guarded rollout sizes its canary on the live fleet the update keeps, with the baking period and the stack's alarms", async () => {
        const { provider, calls } = await providerFor({
            ...noAlarmFiring,
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD, instances: 4 }, { status: "Updating", config: OLD }, { status: "InService", config: NEW, instances: 4 }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        await provider.update(ENDPOINT, serving(OLD), { ...inputs, guardrail });
        const update = calls.find((c) => c.target === "SageMaker.UpdateEndpoint");
        expect(update?.body).to.deep.include({ RetainAllVariantProperties: true });
        expect(update?.body.DeploymentConfig).to.deep.equal({
            BlueGreenUpdatePolicy: {
                TrafficRoutingConfiguration: { Type: "CANARY", CanarySize: { Type: "INSTANCE_COUNT", Value: 1 }, WaitIntervalInSeconds: 300 },
                TerminationWaitInSeconds: 900,
                MaximumExecutionTimeoutInSeconds: 900 + 300 + 1800,
            },
            AutoRollbackConfiguration: { Alarms: [{ AlarmName: `${ENDPOINT}-AllTraffic-5xx` }, { AlarmName: `${ENDPOINT}-AllTraffic-latency-p99` }] },
        });
        expect(lines.find((l) => l.includes("moving from"))).to.include("keeping its live instance count (4); guarded: canary of 1 of 4 instances");
    });

    it("a guardrail rollback fails the up naming the alarm that fired", async () => {
        const { provider } = await providerFor({
            ...noAlarmFiring,
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD, instances: 2 }, { status: "Updating", config: OLD }, { status: "RollingBack", config: OLD },
                { status: "InService", config: OLD, instances: 2 }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
            "GraniteServiceVersion20100801.DescribeAlarmHistory": (body) => [200, {
                AlarmHistoryItems: body.AlarmName === `${ENDPOINT}-AllTraffic-5xx`
                    ? [{
                        AlarmName: body.AlarmName, AlarmType: "MetricAlarm", HistoryItemType: "StateUpdate", Timestamp: epochSeconds(new Date("2026-12-01T12:20:00Z")),
                        HistorySummary: "Alarm updated from OK to ALARM",
                        HistoryData: JSON.stringify({ oldState: { stateValue: "OK" }, newState: { stateValue: "ALARM", stateReason: "Threshold Crossed: 1 datapoint [7.0] was greater than or equal to the threshold (1.0)." } }),
                    }]
                    : [],
            }],
        });
        const error = await provider.update(ENDPOINT, serving(OLD), { ...inputs, guardrail }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            `endpoint ${ENDPOINT} did not move to endpoint configuration ${NEW}: the deployment guardrail rolled back after ${ENDPOINT}-AllTraffic-5xx went into ALARM ` +
                "at 2026-12-01T12:20:00.000Z (Threshold Crossed: 1 datapoint [7.0] was greater than or equal to the threshold (1.0).), and the endpoint serves " +
                `${OLD} again (SageMaker gave no reason). That configuration is kept. Fix the model or configuration and run pulumi up; running it unchanged tries the same rollout again`,
        );
        expect(lines).to.include(`endpoint ${ENDPOINT}: RollingBack`);
    });

    it("waits past the provider's 60 minutes when the guardrail's deployment may take longer", async () => {
        const slow: Guardrail = { ...guardrail, trafficShifting: "linear", waitIntervalSeconds: 900, bakingPeriodSeconds: 1800 };
        let describes = 0;
        const { provider } = await providerFor({
            ...noAlarmFiring,
            "SageMaker.DescribeEndpoint": (body) => {
                describes++;
                // InService before the update; then Updating for 75 minutes of 30-second polls.
                const state = describes === 1 ? { status: "InService", config: OLD, instances: 4 } : describes < 2 + 150 ? { status: "Updating", config: OLD, instances: 4 } : { status: "InService", config: NEW, instances: 4 };
                return endpointStates(state)(body);
            },
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        const { outs } = await provider.update(ENDPOINT, serving(OLD), { ...inputs, timeoutSeconds: 3600, guardrail: slow });
        expect(outs?.servingConfigName).to.equal(NEW);
        expect(clock.now()).to.equal(150 * 30_000);
    });

    it("says so before the rollout when a rollback alarm is already in ALARM", async () => {
        const { provider } = await providerFor({
            "GraniteServiceVersion20100801.DescribeAlarms": () => [200, { MetricAlarms: [{ AlarmName: `${ENDPOINT}-AllTraffic-latency-p99`, StateValue: "ALARM" }] }],
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD, instances: 1 }, { status: "InService", config: NEW }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: instanceConfig("ml.m5.large"), [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        await provider.update(ENDPOINT, serving(OLD), { ...inputs, guardrail });
        expect(lines).to.include(`endpoint ${ENDPOINT}: ${ENDPOINT}-AllTraffic-latency-p99 already in ALARM; the guardrail rolls the update back unless it recovers during the rollout`);
    });

    it("sends no guardrail for a move to or from a serverless variant (Serverless Inference has none)", async () => {
        const { provider, calls } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }, { status: "InService", config: NEW }),
            "SageMaker.DescribeEndpointConfig": configs({ [OLD]: serverlessConfig, [NEW]: instanceConfig("ml.m5.large") }),
            "SageMaker.UpdateEndpoint": accepted,
        });
        await provider.update(ENDPOINT, serving(OLD), { ...inputs, guardrail });
        expect(calls.find((c) => c.target === "SageMaker.UpdateEndpoint")?.body).to.deep.equal({ EndpointName: ENDPOINT, EndpointConfigName: NEW });
    });

    it("a new guardrail or alarm changes this resource in place and rolls nothing out (the provider would replace the endpoint)", async () => {
        const { provider, calls } = await providerFor({});
        const olds = { ...serving(NEW), guardrail };
        const news = { ...inputs, guardrail: { ...guardrail, alarmNames: [...guardrail.alarmNames, `${ENDPOINT}-AllTraffic-4xx-rate`], bakingPeriodSeconds: 1800 } };
        expect(await provider.diff(ENDPOINT, olds, news)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect((await provider.update(ENDPOINT, olds, news)).outs?.guardrail).to.deep.equal(news.guardrail);
        expect(calls).to.deep.equal([]);
    });

    it("refresh records the configuration the endpoint really serves, so the next up moves it back", async () => {
        const { provider } = await providerFor({ "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: OLD }) });
        const { props } = await provider.read(ENDPOINT, serving(NEW));
        expect(props?.servingConfigName).to.equal(OLD);
        expect((await provider.diff(ENDPOINT, props as EndpointRolloutOutputs, inputs)).changes).to.equal(true);
    });
});

describe("failed endpoint cleanup (dynamic provider) against a loopback SageMaker", () => {
    let server: SageMakerApiServer | undefined;
    afterEach(async () => server?.close());
    const cleanup: FailedEndpointCleanupInputs = { sdk: { region: "us-east-1" }, endpointName: ENDPOINT, failedEndpointCreatedAt: "" };

    async function providerFor(answers: Record<string, SageMakerAnswer>) {
        server = await startSageMakerApiServer(answers);
        const url = server.url;
        const lines: string[] = [];
        const clock = fakeClock();
        const provider = new FailedEndpointCleanupProvider((sdk) => new SageMakerClient({ region: sdk.region, endpoint: url, credentials }), clock, (l) => lines.push(l));
        return { provider, calls: server.calls, lines };
    }

    it("marks a Failed endpoint in check, so preview shows an update; keeps a healthy or missing one unmarked", async () => {
        const failed = await providerFor({ "SageMaker.DescribeEndpoint": endpointStates({ status: "Failed", config: NEW, reason: "no capacity" }) });
        expect((await failed.provider.check(cleanup, cleanup)).inputs?.failedEndpointCreatedAt).to.equal("2026-11-30T12:00:00.000Z");
        await server?.close();
        const healthy = await providerFor({ "SageMaker.DescribeEndpoint": endpointStates({ status: "InService", config: NEW }, "absent") });
        const marked = { ...cleanup, failedEndpointCreatedAt: "2026-11-30T12:00:00.000Z" };
        expect((await healthy.provider.check(marked, cleanup)).inputs, "the last cleanup stays recorded: no diff").to.deep.equal(marked);
        expect((await healthy.provider.check({} as FailedEndpointCleanupInputs, cleanup)).inputs).to.deep.equal(cleanup);
        expect(healthy.calls.every((c) => c.target === "SageMaker.DescribeEndpoint")).to.equal(true);
    });

    it("deletes the Failed endpoint and waits until its name is free, saying why", async () => {
        const { provider, calls, lines } = await providerFor({
            "SageMaker.DescribeEndpoint": endpointStates({ status: "Failed", config: NEW, reason: "no capacity" }, { status: "Deleting", config: NEW }, "absent"),
            "SageMaker.DeleteEndpoint": () => [200, {}],
        });
        await provider.update(ENDPOINT, cleanup, { ...cleanup, failedEndpointCreatedAt: "2026-11-30T12:00:00.000Z" });
        expect(calls.map((c) => c.target.split(".")[1])).to.deep.equal(["DescribeEndpoint", "DeleteEndpoint", "DescribeEndpoint", "DescribeEndpoint"]);
        expect(lines).to.deep.equal([`endpoint ${ENDPOINT} is Failed (no capacity): deleting it, so that this pulumi up creates it again under the same name`]);
    });
});
