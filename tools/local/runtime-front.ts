/**
 * What SageMaker's front door does in front of the container, and the container does not: the Runtime API path
 * (POST /endpoints/<name>/invocations, SigV4 for service "sagemaker"), the 6 MB payload limit, the 60 s invocation
 * limit, and a container's non-2xx answer turned into ModelError (HTTP 424) carrying OriginalStatusCode and
 * OriginalMessage. Everything else is the real model server behind it (tools/local/model-server.ts).
 */
import {
    replies,
    startSageMakerRuntimeServer,
    type Invocation,
    type Reply,
    type RuntimeCredentials,
    type SageMakerRuntimeServer,
} from "../../lambda-src/test/support/sagemaker-runtime-server";

/** InvokeEndpoint's request payload limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** How long SageMaker waits for a real-time container's answer. */
export const INVOCATION_TIMEOUT_MS = 60_000;
export const DEFAULT_VARIANT = "AllTraffic";

export interface RuntimeFrontOptions {
    /** The model server's base URL (its POST /invocations). */
    containerUrl: string;
    endpointName: string;
    /** The credentials callers sign with; the local handler's dummies. */
    credentials: RuntimeCredentials;
    port?: number;
    variantName?: string;
    invocationTimeoutMs?: number;
}

function header(invocation: Invocation, name: string): string | undefined {
    const value = invocation.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
}

async function forward(invocation: Invocation, options: RuntimeFrontOptions): Promise<Reply> {
    if (invocation.body.length > MAX_PAYLOAD_BYTES) {
        return replies.validationError(`Request payload is ${invocation.body.length} bytes; the maximum is ${MAX_PAYLOAD_BYTES} bytes (6 MB).`);
    }
    const headers: Record<string, string> = {};
    const contentType = header(invocation, "content-type");
    const accept = header(invocation, "accept");
    if (contentType !== undefined) headers["Content-Type"] = contentType;
    if (accept !== undefined) headers.Accept = accept;
    const timeoutMs = options.invocationTimeoutMs ?? INVOCATION_TIMEOUT_MS;
    let response: Response;
    try {
        response = await fetch(`${options.containerUrl}/invocations`, {
            method: "POST",
            headers,
            body: invocation.body,
            signal: AbortSignal.timeout(timeoutMs),
        });
    } catch (error) {
        const name = (error as Error).name;
        if (name === "TimeoutError") {
            return replies.modelError(0, `Your invocation timed out while waiting for a response from container primary (${timeoutMs / 1000} s).`, options.endpointName);
        }
        return replies.serviceUnavailable();
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status >= 200 && response.status < 300) {
        return replies.ok(body, options.variantName ?? DEFAULT_VARIANT, response.headers.get("content-type") ?? "application/octet-stream");
    }
    return replies.modelError(response.status, body.toString("utf8"), options.endpointName);
}

export function startRuntimeFront(options: RuntimeFrontOptions): Promise<SageMakerRuntimeServer> {
    return startSageMakerRuntimeServer({
        credentials: options.credentials,
        endpoints: [options.endpointName],
        port: options.port ?? 0,
        record: false,
        responder: (invocation) => forward(invocation, options),
    });
}
