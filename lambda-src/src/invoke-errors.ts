/**
 * What a failed invocation means to the caller: the SDK's errors, the model container's own status and our
 * deadline, mapped to the status, code and fixed message the caller sees, and the upstream details that go
 * to the log instead, scrubbed of URL secrets.
 */
import { ModelResponseError } from "./predictions";
import { scrubSecrets } from "./redact";

export interface Failure {
    statusCode: number;
    code: string;
    message: string;
    headers?: Record<string, string>;
}

const THROTTLING = new Set(["ThrottlingException", "ThrottledException", "TooManyRequestsException", "ModelNotReadyException"]);
const UNAVAILABLE = new Set(["ServiceUnavailable", "ValidationError"]);
const UPSTREAM_FAULT = new Set(["InternalFailure", "InternalDependencyException"]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

// A 4xx from the model container means it refused the caller's input: the image URL was refused, unreachable or
// not an image, the image too large, or topK above the model's classes. Not these, which the caller cannot cause:
// the handler always sends the same Content-Type (415) and Accept (406), and 429 is the container's load.
const NOT_THE_CALLERS_INPUT = new Set([406, 415, 429]);
const IMAGE_REJECTED =
    "the endpoint could not use the image at this URL: it must be a reachable public https JPEG or PNG within the size limits " +
    "(and topK, if given, at most the model's number of classes)";
const IMAGE_TOO_LARGE = "the image at this URL is too large for the endpoint: send a smaller JPEG or PNG";

/**
 * A ModelError by the model container's own status (OriginalStatusCode). The body gets a fixed message: the
 * container's text can quote internals (paths, addresses it resolved, stack traces) and goes to the log only.
 */
function modelFailure(originalStatus: unknown): Failure {
    if (typeof originalStatus === "number" && originalStatus >= 400 && originalStatus < 500 && !NOT_THE_CALLERS_INPUT.has(originalStatus)) {
        return originalStatus === 413
            ? { statusCode: 413, code: "ImageRejected", message: IMAGE_TOO_LARGE }
            : { statusCode: 400, code: "ImageRejected", message: IMAGE_REJECTED };
    }
    return { statusCode: 502, code: "ModelError", message: "the model failed while classifying the image" };
}

/**
 * Maps whatever the invocation threw to the answer the caller sees. Upstream messages never reach the body:
 * they can hold the account id, ARNs or, for ModelError, the model container's stack trace.
 */
export function classify(error: unknown, timedOut: boolean, timeoutMs: number): Failure {
    const { name, code, $metadata } = (error ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    if (timedOut || name === "TimeoutError") {
        return { statusCode: 504, code: "Timeout", message: `the model did not answer within ${timeoutMs} ms` };
    }
    if (error instanceof ModelResponseError) {
        return { statusCode: 502, code: "BadModelResponse", message: "the model's answer could not be read" };
    }
    if (name === "ModelError") {
        return modelFailure((error as { OriginalStatusCode?: unknown }).OriginalStatusCode);
    }
    if (name !== undefined && THROTTLING.has(name)) {
        return { statusCode: 503, code: "Throttled", message: "the model is busy, retry shortly", headers: { "Retry-After": "1" } };
    }
    if ((name !== undefined && UNAVAILABLE.has(name)) || (code !== undefined && NETWORK_CODES.has(code))) {
        return { statusCode: 503, code: "ModelUnavailable", message: "the model endpoint is unavailable, retry later", headers: { "Retry-After": "5" } };
    }
    if ((name !== undefined && UPSTREAM_FAULT.has(name)) || ($metadata?.httpStatusCode ?? 0) >= 500) {
        return { statusCode: 502, code: "UpstreamError", message: "the model endpoint failed" };
    }
    // Access denied, bad credentials, missing region: our own misconfiguration, nothing the caller can fix.
    return { statusCode: 500, code: "InternalError", message: "internal error" };
}

/** Upstream messages can quote the image URL; keep its query string (signatures, tokens) out of the logs. */
export function scrubForLog(text: unknown): string | undefined {
    if (typeof text !== "string") return undefined;
    return scrubSecrets(text).slice(0, 1000);
}

export function upstreamDetails(error: unknown): Record<string, unknown> {
    if (error instanceof ModelResponseError) return { errorName: error.name, errorMessage: error.message };
    const e = (error ?? {}) as Record<string, unknown>;
    const metadata = e.$metadata as { httpStatusCode?: number; requestId?: string } | undefined;
    return {
        errorName: e.name,
        systemErrorCode: e.code,
        errorMessage: scrubForLog(e.message),
        upstreamStatus: metadata?.httpStatusCode,
        upstreamRequestId: metadata?.requestId,
        originalStatusCode: e.OriginalStatusCode,
        originalMessage: scrubForLog(e.OriginalMessage),
    };
}
