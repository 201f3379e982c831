/**
 * The alarms, topic, dashboard and data capture of both stacks, from the real program under mocks. Every
 * alarm's metric is checked against what SageMaker and Lambda really publish (namespace, name, the dimension
 * sets they emit it with, the statistics that make sense for it), so an alarm cannot silently watch a metric
 * that never exists.
 */
import { expect } from "chai";
import * as path from "node:path";
import { CapturedResource, captureProgram, readStackConfig } from "../../tools/preview/capture";

const repoRoot = path.resolve(__dirname, "..", "..");
const program = path.join(repoRoot, "infra", "index.ts");

interface MetricFacts {
    /** The dimension sets the service emits the metric with. */
    dimensionSets: string[][];
    /** Statistics that mean something for it (percentiles where it is a latency). */
    statistics: RegExp;
}

// From the SageMaker developer guide ("SageMaker AI endpoint invocation metrics": AWS/SageMaker, dimensions
// EndpointName + VariantName; ModelLatency in microseconds) and the Lambda developer guide ("Lambda function
// metrics": AWS/Lambda, by FunctionName or by FunctionName + Resource for a version or alias).
const EMITTED: Record<string, Record<string, MetricFacts>> = {
    "AWS/SageMaker": {
        Invocations: { dimensionSets: [["EndpointName", "VariantName"]], statistics: /^(Sum|SampleCount)$/ },
        Invocation4XXErrors: { dimensionSets: [["EndpointName", "VariantName"]], statistics: /^(Sum|Average)$/ },
        Invocation5XXErrors: { dimensionSets: [["EndpointName", "VariantName"]], statistics: /^(Sum|Average)$/ },
        InvocationsPerInstance: { dimensionSets: [["EndpointName", "VariantName"]], statistics: /^Sum$/ },
        ModelLatency: { dimensionSets: [["EndpointName", "VariantName"]], statistics: /^(Average|Sum|Minimum|Maximum|SampleCount|p\d+(\.\d+)?)$/ },
    },
    "AWS/Lambda": {
        Errors: { dimensionSets: [["FunctionName"], ["FunctionName", "Resource"]], statistics: /^Sum$/ },
        Throttles: { dimensionSets: [["FunctionName"], ["FunctionName", "Resource"]], statistics: /^Sum$/ },
        Invocations: { dimensionSets: [["FunctionName"], ["FunctionName", "Resource"]], statistics: /^Sum$/ },
        ProvisionedConcurrencySpilloverInvocations: { dimensionSets: [["FunctionName", "Resource"]], statistics: /^Sum$/ },
        ProvisionedConcurrentExecutions: { dimensionSets: [["FunctionName", "Resource"]], statistics: /^Maximum$/ },
        ConcurrentExecutions: { dimensionSets: [["FunctionName"], ["FunctionName", "Resource"]], statistics: /^Maximum$/ },
        Duration: { dimensionSets: [["FunctionName"], ["FunctionName", "Resource"]], statistics: /^(Average|Minimum|Maximum|p\d+(\.\d+)?)$/ },
    },
};

interface WatchedMetric {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    stat: string;
}

/** The metrics an alarm reads: its own, or those of its metric math. */
function watched(alarm: CapturedResource): WatchedMetric[] {
    const i = alarm.inputs;
    if (i.metricName) {
        return [{ namespace: i.namespace as string, metricName: i.metricName as string, dimensions: i.dimensions as Record<string, string>, stat: (i.extendedStatistic ?? i.statistic) as string }];
    }
    return (i.metricQueries as Array<{ metric?: WatchedMetric & { stat: string } }>).filter((q) => q.metric).map((q) => q.metric as WatchedMetric);
}

async function capture(stack: string, overrides: Record<string, unknown> = {}) {
    const config = await readStackConfig(path.join(repoRoot, `Pulumi.${stack}.yaml`));
    for (const [key, value] of Object.entries(overrides)) config[`sagemaker-classifier:${key}`] = JSON.stringify(value);
    // As after `pulumi up`: outputs known, so the alarms' dimensions and actions can be compared.
    const result = await captureProgram({ program, stack, config, dryRun: false });
    const all = (type: string) => result.resources.filter((r) => r.type === type);
    const one = (type: string) => {
        const found = all(type);
        expect(found, type).to.have.length(1);
        return found[0];
    };
    return { ...result, all, one };
}

describe("monitoring: alarms, topic, dashboard, data capture (program under mocks)", function () {
    this.timeout(180_000);
    let prod: Awaited<ReturnType<typeof capture>>;
    let dev: Awaited<ReturnType<typeof capture>>;
    let devTuned: Awaited<ReturnType<typeof capture>>;

    before(async () => {
        [prod, dev, devTuned] = await Promise.all([
            capture("prod"),
            capture("dev"),
            capture("dev", {
                monitoring: { email: "oncall@example.com", httpsUrl: "https://hooks.example.com/alarms", modelLatencyP99Ms: 750, dataCapturePercent: 50 },
                // Serverless Inference captures no data: capture needs instances.
                endpoint: { mode: "instances", instanceType: "ml.m5.large", initialInstanceCount: 1 },
            }),
        ]);
    });

    it("every alarm watches a metric the service really emits, with its real dimensions and a statistic that fits", () => {
        for (const stack of [prod, dev, devTuned]) {
            const alarms = stack.all("aws:cloudwatch/metricAlarm:MetricAlarm");
            // A serverless variant (dev) has no instances to be pinned at a maximum.
            expect(alarms).to.have.length(stack === dev ? 7 : 8);
            const fn = stack.one("aws:lambda/function:Function");
            const endpoint = stack.one("aws:sagemaker/endpoint:Endpoint");
            for (const alarm of alarms) {
                for (const m of watched(alarm)) {
                    const facts = EMITTED[m.namespace]?.[m.metricName];
                    expect(facts, `${alarm.name}: ${m.namespace} ${m.metricName} is not a metric the service emits`).to.exist;
                    expect(facts.dimensionSets.map((s) => s.join(",")), `${alarm.name}: dimensions of ${m.metricName}`).to.include(Object.keys(m.dimensions).sort().join(","));
                    expect(m.stat, `${alarm.name}: statistic of ${m.metricName}`).to.match(facts.statistics);
                    if (m.namespace === "AWS/SageMaker") {
                        expect(m.dimensions).to.deep.equal({ EndpointName: endpoint.inputs.name, VariantName: "AllTraffic" });
                    } else {
                        expect(m.dimensions).to.deep.equal({ FunctionName: fn.outputs.name, Resource: `${fn.outputs.name}:live` });
                    }
                }
            }
        }
    });

    it("alarms on what the issue names, with prod's thresholds, missing data never alarming, the topic on alarm and on OK", () => {
        const topic = prod.one("aws:sns/topic:Topic");
        const byName = Object.fromEntries(prod.all("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name.replace(/^monitoring-/, ""), a.inputs]));
        expect(Object.keys(byName)).to.have.members([
            "AllTraffic-5xx", "AllTraffic-4xx-rate", "AllTraffic-latency-p99", "AllTraffic-at-max-capacity",
            "lambda-errors", "lambda-throttles", "lambda-spillover", "lambda-duration-p99",
        ]);
        for (const alarm of Object.values(byName)) {
            expect(alarm.treatMissingData).to.equal("notBreaching");
            expect(alarm.alarmActions).to.deep.equal([topic.outputs.arn]);
            expect(alarm.okActions).to.deep.equal([topic.outputs.arn]);
            expect(alarm.alarmDescription).to.be.a("string").and.not.empty;
        }
        expect(byName["AllTraffic-5xx"]).to.include({ metricName: "Invocation5XXErrors", statistic: "Sum", period: 300, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold" });
        // ModelLatency is in microseconds: 2000 ms.
        expect(byName["AllTraffic-latency-p99"]).to.include({ metricName: "ModelLatency", extendedStatistic: "p99", threshold: 2_000_000, evaluationPeriods: 3 });
        expect(byName["AllTraffic-latency-p99"]).to.not.have.property("statistic");
        const rate = byName["AllTraffic-4xx-rate"].metricQueries as Array<Record<string, unknown>>;
        expect(rate.find((q) => q.returnData)).to.include({ expression: "IF(invocations > 0, 100 * errors4xx / invocations, 0)" });
        expect(byName["AllTraffic-4xx-rate"]).to.include({ threshold: 5 });
        // prod scales to 4 instances: pinned there for 15 one-minute periods.
        const capacity = byName["AllTraffic-at-max-capacity"];
        expect((capacity.metricQueries as Array<Record<string, unknown>>).find((q) => q.returnData)).to.include({ expression: "invocations / invocationsPerInstance" });
        expect(capacity).to.include({ threshold: 3.5, evaluationPeriods: 15, datapointsToAlarm: 15, comparisonOperator: "GreaterThanOrEqualToThreshold" });
        expect(byName["lambda-spillover"]).to.include({ metricName: "ProvisionedConcurrencySpilloverInvocations", statistic: "Sum", threshold: 1 });
        // 80 % of prod's 30 s timeout.
        expect(byName["lambda-duration-p99"]).to.include({ metricName: "Duration", extendedStatistic: "p99", threshold: 24000 });
    });

    it("dev takes its own defaults, and the config's keys override them", () => {
        const threshold = (s: typeof dev, name: string) => s.all("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === `monitoring-${name}`)?.inputs.threshold;
        expect(threshold(dev, "AllTraffic-5xx")).to.equal(5);
        expect(threshold(dev, "AllTraffic-latency-p99")).to.equal(5_000_000);
        expect(threshold(dev, "AllTraffic-at-max-capacity")).to.equal(undefined);
        expect(threshold(devTuned, "AllTraffic-at-max-capacity")).to.equal(1.5);
        expect(threshold(devTuned, "AllTraffic-latency-p99")).to.equal(750_000);
        expect(dev.all("aws:sns/topicSubscription:TopicSubscription")).to.have.length(0);
        const subscriptions = devTuned.all("aws:sns/topicSubscription:TopicSubscription").map((s) => [s.inputs.protocol, s.inputs.endpoint]);
        expect(subscriptions).to.have.deep.members([["email", "oncall@example.com"], ["https", "https://hooks.example.com/alarms"]]);
    });

    it("the topic is encrypted with a key CloudWatch may use, and only CloudWatch alarms of this account may publish", () => {
        const key = prod.all("aws:kms/key:Key").find((k) => k.name === "monitoring-topic-key") as CapturedResource;
        const topic = prod.one("aws:sns/topic:Topic");
        expect(topic.inputs.kmsMasterKeyId).to.equal(key.outputs.arn);
        expect(key.inputs.enableKeyRotation).to.equal(true);
        const keyPolicy = JSON.parse(key.inputs.policy as string) as { Statement: Array<Record<string, unknown>> };
        const forCloudWatch = keyPolicy.Statement.find((s) => (s.Principal as Record<string, string>).Service === "cloudwatch.amazonaws.com");
        expect(forCloudWatch).to.deep.include({ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"] });
        expect(forCloudWatch?.Condition).to.deep.equal({
            StringEquals: { "aws:SourceAccount": "123456789012" },
            ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" },
        });
        const topicPolicy = JSON.parse(prod.one("aws:sns/topicPolicy:TopicPolicy").inputs.policy as string) as { Statement: Array<Record<string, unknown>> };
        const [allow, deny] = topicPolicy.Statement;
        expect(allow).to.deep.include({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["sns:Publish"], Resource: topic.outputs.arn });
        expect(allow.Condition).to.deep.equal(forCloudWatch?.Condition);
        expect(deny).to.deep.include({ Effect: "Deny", Principal: { AWS: "*" }, Action: ["sns:Publish"], Condition: { Bool: { "aws:PrincipalIsAWSService": "false" } } });
        expect(topicPolicy.Statement).to.have.length(2);
    });

    it("the dashboard shows traffic, latency, errors, instances against their bounds and the API's concurrency; its URL is a stack output", () => {
        const dashboard = prod.one("aws:cloudwatch/dashboard:Dashboard");
        const body = JSON.parse(dashboard.inputs.dashboardBody as string) as { widgets: Array<{ type: string; properties: { title: string; metrics?: unknown[][]; annotations?: { horizontal: Array<{ value: number }> }; alarms?: string[] } }> };
        const titles = body.widgets.map((w) => w.properties.title);
        expect(titles).to.deep.equal(["Invocations", "Model latency (ms)", "Errors", "Instances serving (against the scaling bounds)", "API concurrency and spillover", "Alarms"]);
        const instances = body.widgets[3].properties;
        expect(instances.annotations?.horizontal.map((a) => a.value)).to.deep.equal([1, 4]);
        const latency = body.widgets[1].properties.metrics as unknown[][];
        expect(latency.filter((m) => m[1] === "ModelLatency").map((m) => (m[6] as { stat: string }).stat)).to.deep.equal(["p50", "p99"]);
        // Every metric line names a metric the service emits, with its dimensions.
        for (const widget of body.widgets.filter((w) => w.type === "metric")) {
            for (const line of widget.properties.metrics ?? []) {
                if (typeof line[0] !== "string") continue;
                const [namespace, metricName, ...rest] = line as [string, string, ...unknown[]];
                const dims = rest.filter((x) => typeof x === "string").filter((_, i) => i % 2 === 0) as string[];
                expect(EMITTED[namespace]?.[metricName]?.dimensionSets.map((s) => s.join(",")), `${widget.properties.title}: ${metricName}`).to.include(dims.sort().join(","));
            }
        }
        expect(body.widgets[5].properties.alarms).to.have.length(8);
        expect(prod.stackOutputs.dashboardUrl).to.equal(`https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/${dashboard.outputs.dashboardName}`);
    });

    it("prod captures a share of requests and responses under its own prefix, and the SageMaker role may write exactly there", () => {
        const bucket = prod.one("aws:s3/bucket:Bucket").outputs.bucket;
        const capture = prod.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.dataCaptureConfig as Record<string, unknown>;
        expect(capture).to.deep.include({
            enableCapture: true,
            initialSamplingPercentage: 10,
            destinationS3Uri: `s3://${bucket}/data-capture/endpoint`,
            captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
        });
        const statements = prod.all("aws:iam/rolePolicy:RolePolicy")
            .flatMap((p) => (JSON.parse(p.inputs.policy as string) as { Statement: Array<{ Sid: string; Action: string[]; Resource: string }> }).Statement);
        const writes = statements.filter((s) => s.Resource === `arn:aws:s3:::${bucket}/data-capture/endpoint/*`);
        expect(writes).to.deep.equal([{ Sid: "WriteDataCapture", Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::${bucket}/data-capture/endpoint/*` }]);
        expect(dev.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.dataCaptureConfig).to.equal(undefined);
        expect(dev.all("aws:iam/rolePolicy:RolePolicy").map((p) => p.inputs.policy as string).join()).to.not.include("data-capture");
        expect((devTuned.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.dataCaptureConfig as Record<string, unknown>).initialSamplingPercentage).to.equal(50);
    });
});
