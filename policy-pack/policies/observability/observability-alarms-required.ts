import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { invokesEndpoint } from "../../lib/invokes-endpoint";
import { label } from "../../lib/label";
import { RoleGraph } from "../../lib/roles";
import { link, StackIndex, T } from "../../lib/stack";
import { get, list, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "observability-alarms-required";
const metricAlarm = "aws:cloudwatch/metricAlarm:MetricAlarm";

const metricList = (description: string, defaults: string[]) => ({
    type: "array" as const,
    items: { type: "string" as const, minLength: 1 },
    minItems: 1,
    description,
    default: defaults,
});

const configSchema = {
    properties: {
        endpointErrorMetrics: metricList("AWS/SageMaker metrics that count a variant's failed invocations.", ["Invocation5XXErrors", "Invocation4XXErrors"]),
        endpointLatencyMetrics: metricList("AWS/SageMaker metrics of a variant's latency.", ["ModelLatency", "OverheadLatency"]),
        functionErrorMetrics: metricList("AWS/Lambda metrics that count a function's failures.", ["Errors"]),
        functionLatencyMetrics: metricList("AWS/Lambda metrics of a function's latency.", ["Duration"]),
    },
};

interface Config {
    endpointErrorMetrics: string[];
    endpointLatencyMetrics: string[];
    functionErrorMetrics: string[];
    functionLatencyMetrics: string[];
}

/** One metric an alarm reads (its own, or one of its metric-math queries), with the resources its dimensions came from. */
interface Watched {
    alarm: PolicyResource;
    namespace: unknown;
    metricName: unknown;
    dimensions: Record<string, unknown> | typeof UNKNOWN;
    /** The alarm notifies someone: at least one alarm action. */
    acts: boolean | typeof UNKNOWN;
    sources: PolicyResource[];
}

function watchedMetrics(alarm: PolicyResource): Watched[] {
    const actions = list(alarm.props, "alarmActions");
    const acts: Watched["acts"] = actions === UNKNOWN ? UNKNOWN : Array.isArray(actions) && actions.length > 0;
    const sources = [
        ...(alarm.propertyDependencies?.dimensions ?? []),
        ...(alarm.propertyDependencies?.metricQueries ?? []),
        ...(alarm.dependencies ?? []),
    ];
    const dims = (value: unknown): Watched["dimensions"] => (value === UNKNOWN ? UNKNOWN : (value ?? {}) as Record<string, unknown>);
    const own: Pick<Watched, "alarm" | "acts" | "sources"> = { alarm, acts, sources };
    if (str(alarm.props, "metricName") !== undefined) {
        return [{ ...own, namespace: str(alarm.props, "namespace"), metricName: str(alarm.props, "metricName"), dimensions: dims(get(alarm.props, "dimensions")) }];
    }
    const queries = list(alarm.props, "metricQueries");
    if (!Array.isArray(queries)) return [];
    return queries
        .filter((q) => q !== UNKNOWN && get(q, "metric") !== undefined)
        .map((q) => ({ ...own, namespace: str(q, "metric.namespace"), metricName: str(q, "metric.metricName"), dimensions: dims(get(q, "metric.dimensions")) }));
}

type Match = "yes" | "no" | "unknown";

/** Whether a watched metric is `metricNames` in `namespace` for the resource, by dimension values or, unknown, by dependency. */
function matches(w: Watched, namespace: string, metricNames: string[], wanted: Record<string, string | typeof UNKNOWN | undefined>, resource: PolicyResource): Match {
    if (w.namespace === UNKNOWN || w.metricName === UNKNOWN) return "unknown";
    if (w.namespace !== namespace || !metricNames.includes(w.metricName as string)) return "no";
    if (w.dimensions === UNKNOWN) return w.sources.includes(resource) ? "unknown" : "no";
    let verdict: Match = "yes";
    for (const [key, want] of Object.entries(wanted)) {
        const have = str(w.dimensions, key);
        if (have === UNKNOWN || want === UNKNOWN || want === undefined) {
            if (!w.sources.includes(resource)) return "no";
            verdict = "unknown";
        } else if (have !== want) return "no";
    }
    return verdict;
}

interface Requirement {
    what: string;
    namespace: string;
    metrics: string[];
}

export const observabilityAlarmsRequired: StackValidationPolicy & Implements = {
    name,
    description:
        "Every SageMaker endpoint variant and every Lambda function that invokes an endpoint has CloudWatch alarms on its errors and on its " +
        "latency, on the metrics as the services emit them (AWS/SageMaker by EndpointName and VariantName, AWS/Lambda by FunctionName), " +
        "each with an alarm action, so a failing or slow API pages someone.",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const index = new StackIndex(args.resources);
        // Indexed by namespace, metric and the value of the dimension naming the resource, so each endpoint or
        // function looks only at its own alarms and the stack is judged in linear time.
        const byKey = new Map<string, Watched[]>();
        const unresolved: Watched[] = [];
        for (const w of index.of(metricAlarm).flatMap(watchedMetrics)) {
            const primary = w.dimensions === UNKNOWN ? UNKNOWN : str(w.dimensions, w.namespace === "AWS/Lambda" ? "FunctionName" : "EndpointName");
            if (typeof w.namespace !== "string" || typeof w.metricName !== "string" || typeof primary !== "string") unresolved.push(w);
            else byKey.set(`${w.namespace}|${w.metricName}|${primary}`, [...(byKey.get(`${w.namespace}|${w.metricName}|${primary}`) ?? []), w]);
        }
        const alarmsFor = (namespace: string, metrics: string[], primary: unknown) => [
            ...(typeof primary === "string" ? metrics.flatMap((m) => byKey.get(`${namespace}|${m}|${primary}`) ?? []) : [...byKey.values()].flat()),
            ...unresolved,
        ];
        const unchecked = new Unchecked();

        const require = (subject: string, resource: PolicyResource, wanted: Record<string, string | typeof UNKNOWN | undefined>, requirements: Requirement[], fix: string) => {
            const primary = Object.values(wanted)[0];
            for (const r of requirements) {
                const candidates = alarmsFor(r.namespace, r.metrics, primary).map((w) => ({ w, m: matches(w, r.namespace, r.metrics, wanted, resource) })).filter((c) => c.m !== "no");
                const acting = candidates.filter((c) => c.w.acts === true);
                if (acting.some((c) => c.m === "yes")) continue;
                if (acting.length > 0 || candidates.some((c) => c.w.acts === UNKNOWN)) {
                    unchecked.add(`the ${r.what} alarm of ${subject} (${candidates.map((c) => label(c.w.alarm)).join(", ")})`);
                    continue;
                }
                const silent = candidates.map((c) => label(c.w.alarm));
                reportViolation(
                    `${subject} has no CloudWatch alarm on its ${r.what} (${r.namespace} ${r.metrics.join(" or ")}) with an alarm action` +
                        `${silent.length > 0 ? `: ${silent.join(", ")} notif${silent.length === 1 ? "ies" : "y"} nobody` : ""}, so nobody learns when it ${r.what === "errors" ? "fails" : "slows down"}. ${fix}`,
                    resource.urn,
                );
            }
        };

        for (const endpoint of index.of(T.endpoint)) {
            const endpointName = str(endpoint.props, "name");
            const configLink = link(index, endpoint, "endpointConfigName", T.endpointConfiguration);
            if (configLink.kind !== "linked") {
                unchecked.undecidable(`the production variants of ${label(endpoint)} are not in this stack (its endpoint configuration is not), so their alarms cannot be matched`);
                continue;
            }
            for (const configuration of configLink.targets) {
                const variants = list(configuration.props, "productionVariants");
                if (!Array.isArray(variants)) {
                    unchecked.add(`productionVariants of ${label(configuration)}`);
                    continue;
                }
                for (const variant of variants) {
                    const variantName = variant === UNKNOWN ? UNKNOWN : str(variant, "variantName");
                    const shown = `${label(endpoint)} variant '${typeof variantName === "string" ? variantName : "?"}'`;
                    const dims = `EndpointName "${typeof endpointName === "string" ? endpointName : "<endpoint name>"}", VariantName "${typeof variantName === "string" ? variantName : "<variant>"}"`;
                    require(shown, endpoint, { EndpointName: endpointName, VariantName: variantName }, [
                        { what: "errors", namespace: "AWS/SageMaker", metrics: config.endpointErrorMetrics },
                        { what: "latency", namespace: "AWS/SageMaker", metrics: config.endpointLatencyMetrics },
                    ], `Add aws.cloudwatch.MetricAlarm resources on namespace AWS/SageMaker, dimensions ${dims}, metrics ${config.endpointErrorMetrics[0]} and ${config.endpointLatencyMetrics[0]} (p99, in microseconds), with alarmActions naming an SNS topic.`);
                }
            }
        }

        const functions = index.of(T.lambdaFunction);
        if (functions.length > 0) {
            const graph = new RoleGraph(index);
            const endpointNames = new Set(index.of(T.endpoint).map((e) => str(e.props, "name")).filter((n): n is string => typeof n === "string"));
            for (const fn of functions) {
                const invokes = invokesEndpoint(index, graph, fn, endpointNames);
                if (invokes.kind === "no") continue;
                if (invokes.kind === "unknown") {
                    unchecked.add(`whether ${label(fn)} invokes a SageMaker endpoint (${[...invokes.pending, ...invokes.undecidable].join("; ")})`);
                    continue;
                }
                const functionName = str(fn.props, "name");
                require(label(fn), fn, { FunctionName: functionName }, [
                    { what: "errors", namespace: "AWS/Lambda", metrics: config.functionErrorMetrics },
                    { what: "latency", namespace: "AWS/Lambda", metrics: config.functionLatencyMetrics },
                ], `Add aws.cloudwatch.MetricAlarm resources on namespace AWS/Lambda, dimensions FunctionName "${typeof functionName === "string" ? functionName : "<function name>"}" ` +
                    `(and Resource "<function>:<alias>" for the alias clients call), metrics ${config.functionErrorMetrics[0]} and ${config.functionLatencyMetrics[0]} (p99), with alarmActions naming an SNS topic.`);
            }
        }
        unchecked.finish();
    },
};
