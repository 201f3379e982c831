/**
 * CloudWatch embedded metric format: the request's one log line also declares which of its own fields are
 * metrics, so CloudWatch Logs extracts them (latency per endpoint and per error code, the image fetch's time, the
 * top prediction's probability) with no PutMetricData call, no extra permission and no added latency. The top label stays a
 * plain field: as a dimension it would make up to 133 custom metrics; Logs Insights counts it per label.
 *
 * Dimensions and metrics name fields already in the line, so nothing is logged twice.
 */
import type { LogEntry } from "./index";

export const METRICS_NAMESPACE = "sagemaker-classifier/InferenceApi";

interface MetricDirective {
    Namespace: string;
    Dimensions: string[][];
    Metrics: Array<{ Name: string; Unit: string }>;
}

const present = (entry: LogEntry, key: string, type: "string" | "number") => typeof entry[key] === type && (type === "number" ? Number.isFinite(entry[key]) : entry[key] !== "");

/** The entry with its `_aws` metadata; an entry without an endpoint (a function that cannot read its config) has no metrics. */
export function withEmbeddedMetrics(entry: LogEntry, timestampMs: number): LogEntry {
    if (!present(entry, "endpoint", "string") || !present(entry, "latencyMs", "number")) return entry;
    const dimensions = [["endpoint"]];
    // Error codes are a short fixed list, fine as a dimension; on success there is none and no such series.
    if (present(entry, "errorCode", "string")) dimensions.push(["endpoint", "errorCode"]);
    const metrics = [{ Name: "latencyMs", Unit: "Milliseconds" }];
    // How long image hosts take, apart from the model: a slow host shows here, not in the endpoint's latency.
    if (present(entry, "fetchMs", "number")) metrics.push({ Name: "fetchMs", Unit: "Milliseconds" });
    if (present(entry, "topProbability", "number")) metrics.push({ Name: "topProbability", Unit: "None" });
    const directive: MetricDirective = { Namespace: METRICS_NAMESPACE, Dimensions: dimensions, Metrics: metrics };
    return { ...entry, _aws: { Timestamp: Math.round(timestampMs), CloudWatchMetrics: [directive] } };
}
