/**
 * What tells the team the API is failing: CloudWatch alarms on the endpoint variant and on the Lambda alias,
 * one encrypted SNS topic they notify (on alarm and on recovery), and a dashboard of what a person looks at
 * first. Every alarm watches a metric by the namespace, name, statistic and dimensions the service really
 * emits; an idle endpoint or function emits nothing, which is not an incident, so missing data never alarms.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsContext } from "../aws-context";
import { MonitoringConfig } from "../config";
import { policyDocument } from "../iam";
import { accountAdministeredKey } from "./log-group-key";

/** The thresholds of one environment, every key of `monitoring` resolved. */
export interface MonitoringThresholds {
    endpoint5xxErrors: number;
    endpoint4xxRatePercent: number;
    modelLatencyP99Ms: number;
    maxCapacityMinutes: number;
    lambdaErrors: number;
    lambdaThrottles: number;
    lambdaSpillovers: number;
    lambdaDurationP99Percent: number;
    dataCapturePercent: number;
}

const PROD_DEFAULTS: MonitoringThresholds = {
    endpoint5xxErrors: 1,
    endpoint4xxRatePercent: 5,
    modelLatencyP99Ms: 2000,
    maxCapacityMinutes: 15,
    lambdaErrors: 1,
    lambdaThrottles: 1,
    lambdaSpillovers: 1,
    lambdaDurationP99Percent: 80,
    dataCapturePercent: 10,
};

const OTHER_DEFAULTS: MonitoringThresholds = {
    endpoint5xxErrors: 5,
    endpoint4xxRatePercent: 20,
    modelLatencyP99Ms: 5000,
    maxCapacityMinutes: 60,
    lambdaErrors: 5,
    lambdaThrottles: 10,
    lambdaSpillovers: 20,
    lambdaDurationP99Percent: 90,
    dataCapturePercent: 0,
};

/** The stack's thresholds: what its config sets, the environment's defaults for the rest. */
export function monitoringThresholds(environment: string, config: MonitoringConfig): MonitoringThresholds {
    const defaults = environment === "prod" ? PROD_DEFAULTS : OTHER_DEFAULTS;
    const set = Object.fromEntries(Object.entries(config).filter(([key, value]) => value !== undefined && key in defaults));
    return { ...defaults, ...set };
}

export interface MonitoredVariant {
    variantName: string;
    /** Instance bounds of the variant's scalable target; absent for a serverless variant, which has no instances. */
    capacity?: { min: number; max: number };
}

export interface MonitoringArgs {
    context: AwsContext;
    /** Names the topic, the key alias and the dashboard. */
    baseName: string;
    endpointName: pulumi.Input<string>;
    variants: MonitoredVariant[];
    functionName: pulumi.Input<string>;
    aliasName: pulumi.Input<string>;
    functionTimeoutSeconds: number;
    provisionedConcurrency: number;
    thresholds: MonitoringThresholds;
    email?: string;
    httpsUrl?: string;
    tags: Record<string, string>;
}

type Dimensions = Record<string, pulumi.Input<string>>;

/** One alarm's metric: either a single metric with a statistic, or metric math over named metrics. */
type AlarmMetric =
    | { namespace: string; metricName: string; dimensions: Dimensions; statistic?: "Sum" | "Average" | "Maximum"; extendedStatistic?: string; period: number }
    | { expression: string; label: string; metrics: Record<string, { namespace: string; metricName: string; dimensions: Dimensions; stat: string }>; period: number };

/**
 * The alarms whose ALARM state rolls a guarded endpoint update back (EndpointRollout): the variant's 5xx and
 * p99 latency alarms. Their names are fixed strings, known before they exist, so the rollout can name them.
 */
export function rollbackAlarmNames(baseName: string, variantName: string): string[] {
    return [`${baseName}-${variantName}-5xx`, `${baseName}-${variantName}-latency-p99`];
}

export const SAGEMAKER_NAMESPACE = "AWS/SageMaker";
export const LAMBDA_NAMESPACE = "AWS/Lambda";
const FIVE_MINUTES = 300;

export class Monitoring extends pulumi.ComponentResource {
    readonly topicArn: pulumi.Output<string>;
    readonly alarmArns: pulumi.Output<string>[];
    private readonly alarmsByName: Map<string, aws.cloudwatch.MetricAlarm>;
    readonly dashboardName: pulumi.Output<string>;
    readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:monitoring:Monitoring", name, {}, opts);
        const { context, thresholds: t } = args;
        const { partition, region, accountId } = context;
        const child = { parent: this };
        const alarmArnPattern = pulumi.interpolate`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:*`;

        // CloudWatch publishes to an encrypted topic only with a customer managed key whose policy lets it:
        // the AWS managed alias/aws/sns key's policy cannot be changed to allow cloudwatch.amazonaws.com.
        const key = accountAdministeredKey(`${name}-topic-key`, `Encrypts the ${args.baseName} alarm topic; CloudWatch alarms in this account may use it`, [
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": alarmArnPattern } },
            },
        ], context, args.tags, child);
        new aws.kms.Alias(`${name}-topic-key-alias`, { name: `alias/${args.baseName}-alarms`, targetKeyId: key.keyId }, child);

        const topic = new aws.sns.Topic(`${name}-alarms`, {
            name: `${args.baseName}-alarms`,
            displayName: `${args.baseName} alarms`,
            kmsMasterKeyId: key.arn,
            tags: args.tags,
        }, child);
        new aws.sns.TopicPolicy(`${name}-alarms-policy`, {
            arn: topic.arn,
            policy: policyDocument([
                {
                    Sid: "CloudWatchAlarmsOfThisAccountPublish",
                    Effect: "Allow",
                    Principal: { Service: "cloudwatch.amazonaws.com" },
                    Action: ["sns:Publish"],
                    Resource: topic.arn,
                    Condition: { StringEquals: { "aws:SourceAccount": accountId }, ArnLike: { "aws:SourceArn": alarmArnPattern } },
                },
                {
                    // An IAM principal's own policy would otherwise be enough to publish a fake alarm here.
                    Sid: "NobodyElsePublishes",
                    Effect: "Deny",
                    Principal: { AWS: "*" },
                    Action: ["sns:Publish"],
                    Resource: topic.arn,
                    Condition: { Bool: { "aws:PrincipalIsAWSService": "false" } },
                },
            ]),
        }, child);
        if (args.email) new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: args.email }, child);
        if (args.httpsUrl) new aws.sns.TopicSubscription(`${name}-https`, { topic: topic.arn, protocol: "https", endpoint: args.httpsUrl }, child);

        const alarms: aws.cloudwatch.MetricAlarm[] = [];
        const alarmNames = new Map<string, aws.cloudwatch.MetricAlarm>();
        const alarm = (id: string, description: string, metric: AlarmMetric, rule: {
            comparison: string;
            threshold: number;
            evaluationPeriods: number;
        }) => {
            const single = "metricName" in metric;
            const created = new aws.cloudwatch.MetricAlarm(`${name}-${id}`, {
                name: `${args.baseName}-${id}`,
                alarmDescription: description,
                comparisonOperator: rule.comparison,
                threshold: rule.threshold,
                evaluationPeriods: rule.evaluationPeriods,
                datapointsToAlarm: rule.evaluationPeriods,
                // No data means no traffic: an idle endpoint or function is not failing.
                treatMissingData: "notBreaching",
                ...(single
                    ? {
                        namespace: metric.namespace,
                        metricName: metric.metricName,
                        dimensions: metric.dimensions,
                        period: metric.period,
                        ...(metric.extendedStatistic ? { extendedStatistic: metric.extendedStatistic } : { statistic: metric.statistic }),
                    }
                    : {
                        metricQueries: [
                            { id: "result", expression: metric.expression, label: metric.label, returnData: true },
                            ...Object.entries(metric.metrics).map(([queryId, m]) => ({
                                id: queryId,
                                returnData: false,
                                metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, stat: m.stat, period: metric.period },
                            })),
                        ],
                    }),
                alarmActions: [topic.arn],
                okActions: [topic.arn],
                tags: args.tags,
            }, child);
            alarms.push(created);
            alarmNames.set(`${args.baseName}-${id}`, created);
        };

        for (const variant of args.variants) {
            const dims: Dimensions = { EndpointName: args.endpointName, VariantName: variant.variantName };
            const v = variant.variantName;
            const sagemaker = (metricName: string, stat = "Sum") => ({ namespace: SAGEMAKER_NAMESPACE, metricName, dimensions: dims, stat });
            alarm(`${v}-5xx`, `The model answered 5xx ${t.endpoint5xxErrors}+ times in 5 minutes: check the endpoint's logs (/aws/sagemaker/Endpoints/<endpoint>)`, {
                namespace: SAGEMAKER_NAMESPACE, metricName: "Invocation5XXErrors", dimensions: dims, statistic: "Sum", period: FIVE_MINUTES,
            }, { comparison: "GreaterThanOrEqualToThreshold", threshold: t.endpoint5xxErrors, evaluationPeriods: 1 });
            alarm(`${v}-4xx-rate`, `Over ${t.endpoint4xxRatePercent} % of invocations got 4xx in 5 minutes: clients send what the model refuses, or a deploy broke the request format`, {
                expression: "IF(invocations > 0, 100 * errors4xx / invocations, 0)",
                label: "4xx share of invocations (%)",
                metrics: { errors4xx: sagemaker("Invocation4XXErrors"), invocations: sagemaker("Invocations") },
                period: FIVE_MINUTES,
            }, { comparison: "GreaterThanThreshold", threshold: t.endpoint4xxRatePercent, evaluationPeriods: 1 });
            alarm(`${v}-latency-p99`, `The model's p99 latency stayed above ${t.modelLatencyP99Ms} ms for 15 minutes: the variant is overloaded or the model slowed down`, {
                // ModelLatency is reported in microseconds.
                namespace: SAGEMAKER_NAMESPACE, metricName: "ModelLatency", dimensions: dims, extendedStatistic: "p99", period: FIVE_MINUTES,
            }, { comparison: "GreaterThanThreshold", threshold: t.modelLatencyP99Ms * 1000, evaluationPeriods: 3 });
            if (variant.capacity) {
                // SageMaker publishes no instance count; every request adds 1/instances to InvocationsPerInstance,
                // so Invocations / InvocationsPerInstance over a minute is the number of instances serving.
                alarm(`${v}-at-max-capacity`, `The variant ran at its maximum of ${variant.capacity.max} instances for ${t.maxCapacityMinutes} minutes: it cannot scale further; raise autoscaling.maxCapacity or the instance type`, {
                    expression: "invocations / invocationsPerInstance",
                    label: "instances serving",
                    metrics: { invocations: sagemaker("Invocations"), invocationsPerInstance: sagemaker("InvocationsPerInstance") },
                    period: 60,
                }, { comparison: "GreaterThanOrEqualToThreshold", threshold: variant.capacity.max - 0.5, evaluationPeriods: t.maxCapacityMinutes });
            }
        }

        const aliasResource = pulumi.interpolate`${args.functionName}:${args.aliasName}`;
        const lambdaDims: Dimensions = { FunctionName: args.functionName, Resource: aliasResource };
        const lambda = (metricName: string) => ({ namespace: LAMBDA_NAMESPACE, metricName, dimensions: lambdaDims, period: FIVE_MINUTES });
        alarm("lambda-errors", `The API's function failed ${t.lambdaErrors}+ times in 5 minutes (unhandled errors, timeouts): check its log group`, {
            ...lambda("Errors"), statistic: "Sum",
        }, { comparison: "GreaterThanOrEqualToThreshold", threshold: t.lambdaErrors, evaluationPeriods: 1 });
        alarm("lambda-throttles", `${t.lambdaThrottles}+ API invocations were throttled in 5 minutes: raise api.reservedConcurrency`, {
            ...lambda("Throttles"), statistic: "Sum",
        }, { comparison: "GreaterThanOrEqualToThreshold", threshold: t.lambdaThrottles, evaluationPeriods: 1 });
        alarm("lambda-spillover", `${t.lambdaSpillovers}+ API invocations in 5 minutes ran beyond provisioned concurrency (cold starts): raise api.provisionedConcurrency`, {
            ...lambda("ProvisionedConcurrencySpilloverInvocations"), statistic: "Sum",
        }, { comparison: "GreaterThanOrEqualToThreshold", threshold: t.lambdaSpillovers, evaluationPeriods: 1 });
        const durationThresholdMs = Math.round(args.functionTimeoutSeconds * 1000 * t.lambdaDurationP99Percent / 100);
        alarm("lambda-duration-p99", `The API's p99 duration stayed above ${durationThresholdMs} ms (${t.lambdaDurationP99Percent} % of its timeout) for 10 minutes: requests are about to time out`, {
            ...lambda("Duration"), extendedStatistic: "p99",
        }, { comparison: "GreaterThanThreshold", threshold: durationThresholdMs, evaluationPeriods: 2 });

        const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
            dashboardName: args.baseName,
            dashboardBody: pulumi
                .all([region, args.endpointName, args.functionName, aliasResource, pulumi.all(alarms.map((a) => a.arn))])
                .apply(([region, endpointName, functionName, resource, alarmArns]) => JSON.stringify(dashboardBody({
                    region, endpointName, functionName, aliasResource: resource, variants: args.variants,
                    provisionedConcurrency: args.provisionedConcurrency, alarmArns,
                }))),
        }, child);

        this.topicArn = topic.arn;
        this.alarmArns = alarms.map((a) => a.arn);
        this.alarmsByName = alarmNames;
        this.dashboardName = dashboard.dashboardName;
        this.dashboardUrl = pulumi.interpolate`${pulumi.all([partition, region]).apply(([p, r]) => consoleOrigin(p, r))}/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboard.dashboardName}`;
        this.registerOutputs({ topicArn: this.topicArn, dashboardUrl: this.dashboardUrl });
    }

    alarm(name: string): aws.cloudwatch.MetricAlarm | undefined {
        return this.alarmsByName.get(name);
    }
}

/** Monitoring's alarms with these names; each must be one of them. */
export function alarmsNamed(monitoring: Monitoring, names: string[]): aws.cloudwatch.MetricAlarm[] {
    return names.map((name) => {
        const alarm = monitoring.alarm(name);
        if (!alarm) throw new Error(`the stack has no alarm named ${name}`);
        return alarm;
    });
}

function consoleOrigin(partition: string, region: string): string {
    if (partition === "aws-cn") return "https://console.amazonaws.cn";
    if (partition === "aws-us-gov") return "https://console.amazonaws-us-gov.com";
    return `https://${region}.console.aws.amazon.com`;
}

interface DashboardInputs {
    region: string;
    endpointName: string;
    functionName: string;
    aliasResource: string;
    variants: MonitoredVariant[];
    provisionedConcurrency: number;
    alarmArns: string[];
}

/** The dashboard: traffic, latency, errors, capacity against its bounds, the function's concurrency, the alarms. */
export function dashboardBody(d: DashboardInputs): { widgets: unknown[] } {
    const variantMetric = (v: string, metricName: string, options: Record<string, unknown>) =>
        [SAGEMAKER_NAMESPACE, metricName, "EndpointName", d.endpointName, "VariantName", v, options];
    const lambdaMetric = (metricName: string, options: Record<string, unknown>) =>
        [LAMBDA_NAMESPACE, metricName, "FunctionName", d.functionName, "Resource", d.aliasResource, options];
    const widget = (title: string, metrics: unknown[], extra: Record<string, unknown> = {}, x = 0, y = 0) => ({
        type: "metric", x, y, width: 12, height: 6,
        properties: { title, region: d.region, view: "timeSeries", period: 60, stacked: false, metrics, ...extra },
    });
    const vs = d.variants.map((v) => v.variantName);
    const bounds = d.variants.find((v) => v.capacity)?.capacity;
    return {
        widgets: [
            widget("Invocations", [
                ...vs.map((v) => variantMetric(v, "Invocations", { stat: "Sum", label: `endpoint ${v}` })),
                lambdaMetric("Invocations", { stat: "Sum", label: "API (live alias)" }),
            ], {}, 0, 0),
            widget("Model latency (ms)", vs.flatMap((v, i) => [
                variantMetric(v, "ModelLatency", { stat: "p50", id: `p50_${i}`, visible: false }),
                variantMetric(v, "ModelLatency", { stat: "p99", id: `p99_${i}`, visible: false }),
                // ModelLatency is in microseconds.
                [{ expression: `p50_${i} / 1000`, label: `${v} p50`, id: `p50ms_${i}` }],
                [{ expression: `p99_${i} / 1000`, label: `${v} p99`, id: `p99ms_${i}` }],
            ]), {}, 12, 0),
            widget("Errors", [
                ...vs.flatMap((v) => [
                    variantMetric(v, "Invocation4XXErrors", { stat: "Sum", label: `endpoint ${v} 4xx` }),
                    variantMetric(v, "Invocation5XXErrors", { stat: "Sum", label: `endpoint ${v} 5xx` }),
                ]),
                lambdaMetric("Errors", { stat: "Sum", label: "API errors" }),
                lambdaMetric("Throttles", { stat: "Sum", label: "API throttles" }),
            ], {}, 0, 6),
            widget("Instances serving (against the scaling bounds)", vs.flatMap((v, i) => [
                variantMetric(v, "Invocations", { stat: "Sum", id: `inv_${i}`, visible: false }),
                variantMetric(v, "InvocationsPerInstance", { stat: "Sum", id: `ipi_${i}`, visible: false }),
                [{ expression: `inv_${i} / ipi_${i}`, label: `${v} instances`, id: `instances_${i}` }],
            ]), bounds ? {
                annotations: { horizontal: [{ label: "minCapacity", value: bounds.min }, { label: "maxCapacity", value: bounds.max }] },
                yAxis: { left: { min: 0 } },
            } : {}, 12, 6),
            widget("API concurrency and spillover", [
                lambdaMetric("ProvisionedConcurrentExecutions", { stat: "Maximum", label: "provisioned executions in use" }),
                lambdaMetric("ProvisionedConcurrencySpilloverInvocations", { stat: "Sum", label: "spillover invocations (cold)" }),
                [LAMBDA_NAMESPACE, "ConcurrentExecutions", "FunctionName", d.functionName, { stat: "Maximum", label: "concurrent executions (function)" }],
            ], { annotations: { horizontal: [{ label: "provisioned concurrency", value: d.provisionedConcurrency }] } }, 0, 12),
            {
                type: "alarm", x: 12, y: 12, width: 12, height: 6,
                properties: { title: "Alarms", alarms: d.alarmArns, sortBy: "stateUpdatedTimestamp" },
            },
        ],
    };
}
