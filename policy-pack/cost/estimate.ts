/**
 * What a stack costs, from its resources' inputs as the engine plans them: steady state per hour at minimum
 * and at maximum scale, and one-off jobs at their upper bound. The same function prices for `npm run cost`
 * (resources captured from the program) and for the stack-cost-budget policy (the policy's resources), so
 * the tool, the policy and docs/cost.md's table always agree.
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { HOURS_PER_MONTH, MissingPriceError, PriceBook, priceKey, type UsedPrice } from "./prices";

/** A resource as both the capture and a policy see it: its type, name and (planned) input properties. */
export interface CostResource {
    type: string;
    name: string;
    urn?: string;
    props: Record<string, unknown>;
}

export interface Traffic {
    /** Requests per hour a serverless endpoint serves (default 0: idle). */
    requestsPerHour: number;
    /** Billed inference time per request (default 1 s). */
    secondsPerRequest: number;
}

export interface EstimateOptions {
    traffic?: Partial<Traffic>;
    /** How long a self-stopping or self-terminating EC2 training instance runs (default: the stack's longest SageMaker max runtime, else 4 h). */
    ec2TrainingHours?: number;
}

export interface ResourceCost {
    name: string;
    type: string;
    urn?: string;
    /** Per hour when the stack idles at its minimum scale. */
    hourlyUsdAtMin: number;
    /** Per hour at maximum scale (every instance, every serverless slot busy). */
    hourlyUsdAtMax: number;
    /** Upper bound of a job that runs once (training, tuning, an EC2 run that stops or terminates itself). */
    oneOffUsd: number;
    /** How the number was reached, in words and prices. */
    basis: string;
}

export interface Estimate {
    region: string;
    currency: "USD";
    resources: ResourceCost[];
    /** Resources that cost money but could not be priced, with why. */
    unpriced: { name: string; type: string; urn?: string; reason: string }[];
    totals: { hourlyUsdAtMin: number; hourlyUsdAtMax: number; monthlyUsdAtMin: number; monthlyUsdAtMax: number; oneOffUsdMax: number };
    /** Every price the estimate used. */
    prices: UsedPrice[];
}

export const TYPES = {
    endpoint: "aws:sagemaker/endpoint:Endpoint",
    endpointConfiguration: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    scalableTarget: "aws:appautoscaling/target:Target",
    trainingJob: "aws:sagemaker/trainingJob:TrainingJob",
    tuningJob: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
    instance: "aws:ec2/instance:Instance",
    lambdaFunction: "aws:lambda/function:Function",
    provisionedConcurrency: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    kmsKey: "aws:kms/key:Key",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
    apiV2Stage: "aws:apigatewayv2/stage:Stage",
} as const;

/** A value the estimate cannot do without is unknown until deployment. */
class Unpriceable extends Error {}

function read(props: unknown, path: string): unknown {
    let current: unknown = props;
    for (const segment of path.split(".")) {
        if (current === unknownValue) throw new Unpriceable(`${path} is unknown until deployed`);
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string, unknown>)[segment];
    }
    if (current === unknownValue) throw new Unpriceable(`${path} is unknown until deployed`);
    return current;
}

function num(props: unknown, path: string, fallback?: number): number {
    const value = read(props, path);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Unpriceable(`${path} is ${value === undefined ? "not set" : JSON.stringify(value)}`);
    return value;
}

function str(props: unknown, path: string): string {
    const value = read(props, path);
    if (typeof value !== "string") throw new Unpriceable(`${path} is ${value === undefined ? "not set" : JSON.stringify(value)}`);
    return value;
}

const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : value >= 0.01 ? `$${value.toFixed(3)}` : `$${Number(value.toPrecision(3))}`);
const hours = (seconds: number) => `${Number((seconds / 3600).toFixed(2))} h`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function estimateStack(resources: CostResource[], book: PriceBook, options: EstimateOptions = {}): Estimate {
    const traffic: Traffic = { requestsPerHour: 0, secondsPerRequest: 1, ...options.traffic };
    const byType = (type: string) => resources.filter((r) => r.type === type);
    const costs: ResourceCost[] = [];
    const unpriced: Estimate["unpriced"] = [];
    const price = (key: string) => book.get(key);

    const maxJobRuntimeSeconds = Math.max(
        0,
        ...byType(TYPES.trainingJob).map((r) => optionalNumber(r.props, "stoppingCondition.maxRuntimeInSeconds")),
        ...byType(TYPES.tuningJob).map((r) => optionalNumber(r.props, "trainingJobDefinition.stoppingCondition.maxRuntimeInSeconds")),
    );
    const ec2Hours = options.ec2TrainingHours ?? (maxJobRuntimeSeconds > 0 ? maxJobRuntimeSeconds / 3600 : 4);

    const pricers: Record<string, (r: CostResource) => Omit<ResourceCost, "name" | "type" | "urn">> = {
        [TYPES.endpoint]: (endpoint) => priceEndpoint(endpoint, resources, price, traffic),
        [TYPES.provisionedConcurrency]: (config) => {
            const count = num(config.props, "provisionedConcurrentExecutions");
            const functionName = str(config.props, "functionName");
            const fn = byType(TYPES.lambdaFunction).find((f) => f.props.name === functionName || f.props.arn === functionName);
            if (!fn) throw new Unpriceable(`its function ${functionName} is not in this stack, so its memory and architecture are unknown`);
            const memoryMb = num(fn.props, "memorySize", 128);
            const architectures = read(fn.props, "architectures");
            const architecture = Array.isArray(architectures) && architectures[0] === "arm64" ? "arm64" : "x86_64";
            const p = price(priceKey.lambdaProvisionedConcurrency(architecture));
            const hourly = count * (memoryMb / 1024) * 3600 * p.usd;
            const basis = `${plural(count, "warm environment")} x ${memoryMb / 1024} GB x 3600 s at ${usd(p.usd)}/GB-s (${architecture})`;
            return { hourlyUsdAtMin: hourly, hourlyUsdAtMax: hourly, oneOffUsd: 0, basis };
        },
        [TYPES.kmsKey]: () => {
            const p = price(priceKey.kmsKey());
            return { hourlyUsdAtMin: p.usd / HOURS_PER_MONTH, hourlyUsdAtMax: p.usd / HOURS_PER_MONTH, oneOffUsd: 0, basis: `1 customer managed key at ${usd(p.usd)}/month` };
        },
        [TYPES.metricAlarm]: (alarm) => {
            // Billed per metric the alarm evaluates: one, or each metric of a metric-math expression.
            const queries = read(alarm.props, "metricQueries");
            const metrics = Array.isArray(queries) ? Math.max(1, queries.filter((q) => q !== null && typeof q === "object" && "metric" in q).length) : 1;
            const periods = Array.isArray(queries) ? queries.map((q) => optionalNumber(q, "metric.period")).filter((p) => p > 0) : [optionalNumber(alarm.props, "period")];
            const resolution = periods.some((p) => p > 0 && p < 60) ? "high-resolution" : "standard";
            const p = price(priceKey.cloudwatchAlarm(resolution));
            const hourly = (metrics * p.usd) / HOURS_PER_MONTH;
            return { hourlyUsdAtMin: hourly, hourlyUsdAtMax: hourly, oneOffUsd: 0, basis: `${plural(metrics, `${resolution} alarm metric`)} at ${usd(p.usd)}/month` };
        },
        [TYPES.apiV2Stage]: (stage) => {
            // Billed per request; the stage's throttle bounds how many an hour can bring.
            const p = price(priceKey.apigatewayHttpRequest());
            const rate = num(stage.props, "defaultRouteSettings.throttlingRateLimit", 10_000);
            const atMin = traffic.requestsPerHour * p.usd;
            const atMax = rate * 3600 * p.usd;
            return {
                hourlyUsdAtMin: atMin,
                hourlyUsdAtMax: atMax,
                oneOffUsd: 0,
                basis: `${usd(p.usd * 1e6)} per million requests; ${traffic.requestsPerHour} requests/h = ${usd(atMin)}/h; throttled at ${rate} requests/s = ${usd(atMax)}/h at max`,
            };
        },
        [TYPES.dashboard]: () => {
            const p = price(priceKey.cloudwatchDashboard());
            return { hourlyUsdAtMin: p.usd / HOURS_PER_MONTH, hourlyUsdAtMax: p.usd / HOURS_PER_MONTH, oneOffUsd: 0, basis: `${usd(p.usd)}/month (an account's first 3 dashboards are free)` };
        },
        [TYPES.logGroup]: (group) => {
            const ingestion = price(priceKey.logsIngestion());
            const storage = price(priceKey.logsStorage());
            const retention = optionalNumber(group.props, "retentionInDays");
            return {
                hourlyUsdAtMin: 0,
                hourlyUsdAtMax: 0,
                oneOffUsd: 0,
                basis: `per use: ${usd(ingestion.usd)}/GB ingested, ${usd(storage.usd)}/GB-month stored (${retention ? `kept ${retention} days` : "kept forever"}); nothing at rest`,
            };
        },
        [TYPES.trainingJob]: (job) => {
            const type = str(job.props, "resourceConfig.instanceType");
            const count = num(job.props, "resourceConfig.instanceCount", 1);
            const runtime = num(job.props, "stoppingCondition.maxRuntimeInSeconds", 86_400);
            const p = price(priceKey.sagemakerTraining(type));
            return { hourlyUsdAtMin: 0, hourlyUsdAtMax: 0, oneOffUsd: count * (runtime / 3600) * p.usd, basis: `${count} x ${type} x ${hours(runtime)} max runtime at ${usd(p.usd)}/h` };
        },
        [TYPES.tuningJob]: (job) => {
            const definition = "trainingJobDefinition";
            const type = str(job.props, `${definition}.resourceConfig.instanceType`);
            const count = num(job.props, `${definition}.resourceConfig.instanceCount`, 1);
            const runtime = num(job.props, `${definition}.stoppingCondition.maxRuntimeInSeconds`, 86_400);
            const maxJobs = num(job.props, "config.resourceLimits.maxNumberOfTrainingJobs");
            const parallel = Math.min(maxJobs, num(job.props, "config.resourceLimits.maxParallelTrainingJobs", 1));
            const p = price(priceKey.sagemakerTraining(type));
            const perJob = count * (runtime / 3600) * p.usd;
            const wall = Math.ceil(maxJobs / parallel) * runtime;
            return {
                hourlyUsdAtMin: 0,
                hourlyUsdAtMax: 0,
                oneOffUsd: maxJobs * perJob,
                basis: `${plural(maxJobs, "job")} x ${count} x ${type} x ${hours(runtime)} max runtime at ${usd(p.usd)}/h; ${parallel} at a time: up to ${hours(wall)} wall time at ${usd(parallel * count * p.usd)}/h`,
            };
        },
        [TYPES.instance]: (instance) => {
            const type = str(instance.props, "instanceType");
            const p = price(priceKey.ec2Instance(type));
            const volumeType = typeof instance.props.rootBlockDevice === "object" ? (optionalString(instance.props, "rootBlockDevice.volumeType") ?? "gp3") : "gp3";
            const volumeGb = optionalNumber(instance.props, "rootBlockDevice.volumeSize");
            const volume = volumeGb > 0 && book.has(priceKey.ebsVolume(volumeType)) ? price(priceKey.ebsVolume(volumeType)) : undefined;
            const volumeHourly = volume ? (volumeGb * volume.usd) / HOURS_PER_MONTH : 0;
            const hourly = p.usd + volumeHourly;
            const volumeBasis = volume ? ` + ${volumeGb} GB ${volumeType} at ${usd(volume.usd)}/GB-month` : "";
            const shutdown = optionalString(instance.props, "instanceInitiatedShutdownBehavior");
            const run = `for ${Number(ec2Hours.toFixed(2))} h (assumed as long as the longest SageMaker job may run)`;
            if (shutdown === "terminate") {
                return { hourlyUsdAtMin: 0, hourlyUsdAtMax: 0, oneOffUsd: hourly * ec2Hours, basis: `${type} at ${usd(p.usd)}/h${volumeBasis}, ${run}; it terminates itself when training ends` };
            }
            if (shutdown === "stop") {
                const afterwards = volume ? `then stopped: ${volumeGb} GB ${volumeType} at ${usd(volume.usd)}/GB-month until deleted` : "then stopped: nothing";
                // A stopped instance bills only its volumes, until it is deleted.
                return { hourlyUsdAtMin: volumeHourly, hourlyUsdAtMax: volumeHourly, oneOffUsd: p.usd * ec2Hours, basis: `${type} at ${usd(p.usd)}/h ${run}; it stops itself when training ends, ${afterwards}` };
            }
            return { hourlyUsdAtMin: hourly, hourlyUsdAtMax: hourly, oneOffUsd: 0, basis: `${type} at ${usd(p.usd)}/h${volumeBasis}, running` };
        },
    };
    for (const type of [TYPES.bucket, TYPES.bucketV2]) {
        pricers[type] = () => {
            const p = price(priceKey.s3Standard());
            return { hourlyUsdAtMin: 0, hourlyUsdAtMax: 0, oneOffUsd: 0, basis: `per use: ${usd(p.usd)}/GB-month (Standard); its size is not known before objects are uploaded` };
        };
    }

    for (const resource of resources) {
        const pricer = pricers[resource.type];
        if (!pricer) continue;
        const id = { name: resource.name, type: resource.type, ...(resource.urn ? { urn: resource.urn } : {}) };
        try {
            costs.push({ ...id, ...pricer(resource) });
        } catch (err) {
            if (err instanceof Unpriceable || err instanceof MissingPriceError) unpriced.push({ ...id, reason: err.message });
            else throw err;
        }
    }

    const sum = (pick: (c: ResourceCost) => number) => costs.reduce((total, c) => total + pick(c), 0);
    const hourlyUsdAtMin = sum((c) => c.hourlyUsdAtMin);
    const hourlyUsdAtMax = sum((c) => c.hourlyUsdAtMax);
    return {
        region: book.region,
        currency: "USD",
        resources: costs,
        unpriced,
        totals: {
            hourlyUsdAtMin,
            hourlyUsdAtMax,
            monthlyUsdAtMin: hourlyUsdAtMin * HOURS_PER_MONTH,
            monthlyUsdAtMax: hourlyUsdAtMax * HOURS_PER_MONTH,
            oneOffUsdMax: sum((c) => c.oneOffUsd),
        },
        prices: book.usedPrices(),
    };
}

function optionalNumber(props: unknown, path: string): number {
    try {
        const value = read(props, path);
        return typeof value === "number" ? value : 0;
    } catch {
        return 0;
    }
}

function optionalString(props: unknown, path: string): string | undefined {
    try {
        const value = read(props, path);
        return typeof value === "string" ? value : undefined;
    } catch {
        return undefined;
    }
}

function priceEndpoint(endpoint: CostResource, resources: CostResource[], price: (key: string) => UsedPrice, traffic: Traffic): Omit<ResourceCost, "name" | "type" | "urn"> {
    const configurations = resources.filter((r) => r.type === TYPES.endpointConfiguration);
    const configName = endpoint.props.endpointConfigName;
    // Unknown during preview when the configuration's name is: a stack's only configuration is the endpoint's.
    const configuration = configName === unknownValue && configurations.length === 1 ? configurations[0] : configurations.find((c) => c.props.name === configName);
    if (!configuration) throw new Unpriceable(configName === unknownValue ? "endpointConfigName is unknown until deployed" : `its endpoint configuration ${String(configName)} is not in this stack`);
    const variants = read(configuration.props, "productionVariants");
    if (!Array.isArray(variants) || variants.length === 0) throw new Unpriceable(`${configuration.name} has no productionVariants`);
    const endpointName = optionalString(endpoint.props, "name");
    let atMin = 0;
    let atMax = 0;
    const parts: string[] = [];
    for (const variant of variants) {
        const variantName = optionalString(variant, "variantName") ?? "?";
        if (read(variant, "serverlessConfig") !== undefined) {
            const memoryMb = num(variant, "serverlessConfig.memorySizeInMb");
            const maxConcurrency = num(variant, "serverlessConfig.maxConcurrency");
            const provisioned = num(variant, "serverlessConfig.provisionedConcurrency", 0);
            const perSecond = price(priceKey.sagemakerServerless(memoryMb));
            const warm = provisioned > 0 ? price(priceKey.sagemakerServerlessProvisioned(memoryMb)) : undefined;
            const warmHourly = warm ? provisioned * warm.usd * 3600 : 0;
            const trafficHourly = traffic.requestsPerHour * traffic.secondsPerRequest * perSecond.usd;
            atMin += warmHourly + trafficHourly;
            atMax += warmHourly + maxConcurrency * 3600 * perSecond.usd;
            parts.push(
                `${variantName}: serverless ${memoryMb} MB at ${usd(perSecond.usd)}/s of inference; ` +
                    `${traffic.requestsPerHour} requests/h x ${traffic.secondsPerRequest} s = ${usd(trafficHourly)}/h` +
                    (warm ? `, ${provisioned} provisioned at ${usd(warm.usd)}/s each` : "") +
                    `; all ${maxConcurrency} concurrent slots busy = ${usd(warmHourly + maxConcurrency * 3600 * perSecond.usd)}/h`,
            );
            continue;
        }
        const instanceType = str(variant, "instanceType");
        const initial = num(variant, "initialInstanceCount", 1);
        const target = resources.find(
            (r) => r.type === TYPES.scalableTarget && r.props.serviceNamespace === "sagemaker" && endpointName !== undefined && r.props.resourceId === `endpoint/${endpointName}/variant/${variantName}`,
        );
        const min = target ? num(target.props, "minCapacity") : initial;
        const max = target ? num(target.props, "maxCapacity") : initial;
        const p = price(priceKey.sagemakerHosting(instanceType));
        atMin += min * p.usd;
        atMax += max * p.usd;
        parts.push(
            `${variantName}: ${min} x ${instanceType} at ${usd(p.usd)}/h` + (max !== min ? `, up to ${max} = ${usd(max * p.usd)}/h at max scale` : target ? "" : " (no auto-scaling)"),
        );
    }
    return { hourlyUsdAtMin: atMin, hourlyUsdAtMax: atMax, oneOffUsd: 0, basis: parts.join("; ") };
}
