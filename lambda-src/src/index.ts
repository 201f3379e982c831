/**
 * The inference API: {"url": "https://.../dog.jpg"} in, the top dog breeds out. Works for direct invokes,
 * API Gateway (REST and HTTP APIs) and Function URLs, and always answers an HTTP-style response.
 *
 * The function fetches the image itself (image-fetch.ts) and sends the endpoint its bytes, so the model container
 * needs no network (it runs network-isolated in prod) and a slow image host holds a cheap Lambda environment for
 * its deadline, never a model worker.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { createSageMakerRuntimeClient } from "./client";
import { ConfigError, loadConfig, type HandlerConfig } from "./config";
import { imageFetcher, systemLookup, type FetchedImage, type ImageFetcher, type Lookup } from "./image-fetch";
import { withEmbeddedMetrics } from "./embedded-metrics";
import { classify, scrubForLog, upstreamDetails } from "./invoke-errors";
import { parseModelResponse } from "./predictions";
import { scrubLogEntry } from "./redact";
import { parseEvent, redactUrl, RequestError, type PredictionRequest } from "./request";

export interface HttpResponse {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
    isBase64Encoded: false;
}

export interface LambdaContext {
    awsRequestId?: string;
}

export type LogEntry = Record<string, unknown>;

export interface HandlerOptions {
    env?: NodeJS.ProcessEnv;
    /** Where the one structured log line per request goes; stdout (CloudWatch) by default. */
    log?: (entry: LogEntry) => void;
    /** Resolves image URL host names for the fetcher, which checks every answer; the system resolver by default. */
    lookup?: Lookup;
    /** Fetches the image; the checked fetcher of image-fetch.ts, configured from the environment, by default. */
    fetchImage?: ImageFetcher;
}

export type Handler = (event: unknown, context?: LambdaContext) => Promise<HttpResponse>;

function writeLog(entry: LogEntry): void {
    // A raw JSON line rather than console.log, which prefixes text and breaks JSON log parsing.
    process.stdout.write(JSON.stringify(entry) + "\n");
}

function respond(statusCode: number, body: unknown, requestId: string, headers: Record<string, string> = {}): HttpResponse {
    return {
        statusCode,
        headers: { "Content-Type": "application/json", "Cache-Control": "no-store", "X-Request-Id": requestId, ...headers },
        body: JSON.stringify(body),
        isBase64Encoded: false,
    };
}

/**
 * Ends the invocation at the deadline: the in-flight attempt is destroyed and no retry starts after it. This is
 * the SDK's own minimal signal shape (aborted + onabort), which each SDK step installs its handler on in turn;
 * a DOM AbortSignal would do the same through EventTarget listeners that cost ~30 us on every call.
 */
class DeadlineSignal {
    aborted = false;
    onabort: ((this: unknown, event?: unknown) => unknown) | null = null;
    abort(): void {
        this.aborted = true;
        this.onabort?.();
    }
}

interface Ready {
    config: HandlerConfig;
    client: SageMakerRuntimeClient;
    fetchImage: ImageFetcher;
}

export function createHandler(options: HandlerOptions = {}): Handler {
    const log = options.log ?? writeLog;
    // Built at creation, i.e. during the Lambda init phase, so the first request does not pay for it; a
    // configuration error is kept and reported on every request rather than failing the import.
    let state: Ready | ConfigError;
    try {
        const config = loadConfig(options.env ?? process.env);
        state = {
            config,
            client: createSageMakerRuntimeClient(config.invokeTimeoutMs),
            fetchImage: options.fetchImage ?? imageFetcher({
                allowHttp: config.allowHttpImageUrls,
                allowLocal: config.allowLocalImageHosts,
                lookup: options.lookup ?? systemLookup,
                timeoutMs: config.imageFetchTimeoutMs,
                maxBytes: config.maxImageBytes,
            }),
        };
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        state = error;
    }

    return async (event, context) => {
        const started = performance.now();
        const requestId = context?.awsRequestId ?? "local";
        const finish = (response: HttpResponse, fields: LogEntry): HttpResponse => {
            // Every field scrubbed, not only the ones known to quote URLs: no path may carry a signature to the log.
            log(withEmbeddedMetrics(scrubLogEntry({
                level: response.statusCode >= 500 ? "error" : response.statusCode >= 400 ? "warn" : "info",
                message: "request",
                requestId,
                statusCode: response.statusCode,
                latencyMs: Math.round((performance.now() - started) * 100) / 100,
                ...fields,
            }), Date.now()));
            return response;
        };

        if (state instanceof ConfigError) {
            return finish(respond(500, { error: { code: "ConfigurationError", message: "the function is misconfigured" } }, requestId), {
                errorCode: "ConfigurationError",
                configVariable: state.variable,
                errorMessage: state.message,
            });
        }
        const { config, client, fetchImage } = state;

        let request: PredictionRequest | undefined;
        let image: FetchedImage;
        let fetchMs: number | undefined;
        try {
            request = parseEvent(event, { allowHttp: config.allowHttpImageUrls, allowLocal: config.allowLocalImageHosts });
            const fetchStarted = performance.now();
            image = await fetchImage(request.url);
            fetchMs = Math.round((performance.now() - fetchStarted) * 100) / 100;
        } catch (error) {
            if (!(error instanceof RequestError)) {
                return finish(respond(500, { error: { code: "InternalError", message: "internal error" } }, requestId), {
                    endpoint: config.endpointName,
                    errorCode: "InternalError",
                    errorMessage: scrubForLog(String(error)),
                });
            }
            return finish(respond(error.statusCode, { error: { code: error.code, message: error.message } }, requestId, error.headers), {
                endpoint: config.endpointName,
                errorCode: error.code,
                ...(request ? { imageUrl: redactUrl(request.url) } : {}),
                ...(error.code === "ImageRejected" ? { errorMessage: error.message } : {}),
            });
        }

        const logFields: LogEntry = {
            endpoint: config.endpointName,
            imageUrl: redactUrl(request.url),
            topK: request.topK,
            fetchMs,
            imageBytes: image.bytes.length,
            imageType: image.contentType,
        };
        const signal = new DeadlineSignal();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
                signal.abort();
                reject(new Error("deadline"));
            }, config.invokeTimeoutMs);
        });
        try {
            const output = await Promise.race([
                client.send(
                    new InvokeEndpointCommand({
                        EndpointName: config.endpointName,
                        ContentType: image.contentType,
                        // Without a topK of the caller's, the endpoint applies its own default, capped at its class count.
                        Accept: request.topKRequested ? `application/json; topk=${request.topK}` : "application/json",
                        Body: image.bytes,
                    }),
                    { abortSignal: signal },
                ),
                deadline,
            ]);
            const predictions = parseModelResponse(output.Body ?? new Uint8Array(), request.topK);
            const model = { endpoint: config.endpointName, variant: output.InvokedProductionVariant };
            return finish(respond(200, { predictions, model }, requestId), {
                ...logFields,
                variant: output.InvokedProductionVariant,
                topLabel: predictions[0]?.label,
                topProbability: predictions[0]?.probability,
            });
        } catch (error) {
            const failure = classify(error, signal.aborted, config.invokeTimeoutMs);
            return finish(respond(failure.statusCode, { error: { code: failure.code, message: failure.message } }, requestId, failure.headers), {
                ...logFields,
                errorCode: failure.code,
                ...upstreamDetails(error),
            });
        } finally {
            clearTimeout(timer);
        }
    };
}

export const handler: Handler = createHandler();
