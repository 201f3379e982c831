/**
 * A loopback HTTP server speaking the SageMaker Runtime InvokeEndpoint API closely enough for the real SDKs
 * (Node's @aws-sdk/client-sagemaker-runtime, Python's boto3) to be pointed at it with an endpoint URL:
 *
 *   POST /endpoints/<EndpointName>/invocations, SigV4-signed for service "sagemaker"
 *
 * It checks the Authorization header's shape and, by default, recomputes the signature with
 * @smithy/signature-v4 from the known test credentials. Errors use the service's real status codes, bodies and
 * x-amzn-ErrorType headers (ModelError 424, ValidationError 400, ThrottlingException 429,
 * ServiceUnavailable 503, signature failures 403). A reply can be delayed to provoke client timeouts.
 *
 * Reusable: tests and benchmarks start it with startSageMakerRuntimeServer() and choose replies per call; local
 * mode (tools/local/runtime-front.ts) puts it in front of the real model server.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface RuntimeCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

/** Dummy credentials for tests: put them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
export const TEST_CREDENTIALS: RuntimeCredentials = {
    accessKeyId: "AKIALOOPBACKTEST0001",
    secretAccessKey: "loopback/test/secret/key/not/a/real/one00",
    sessionToken: "loopback-session-token",
};
export const TEST_REGION = "us-east-1";
export const TEST_ACCOUNT_ID = "123456789012";

export interface Invocation {
    endpointName: string;
    method: string;
    path: string;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
    /** Region and service from the SigV4 credential scope. */
    region: string;
    service: string;
    /** The client's port: the same port on consecutive calls means a reused keep-alive connection. */
    remotePort: number | undefined;
    /** True when the signature was recomputed and matched; undefined when verification is off. */
    signatureVerified: boolean | undefined;
}

export interface Reply {
    status: number;
    headers?: Record<string, string>;
    /** A Buffer or string is sent as is; anything else as JSON. */
    body?: unknown;
    /** Wait this long before answering, to drive client timeouts. */
    delayMs?: number;
}

export type Responder = (invocation: Invocation) => Reply | Promise<Reply>;

const ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/";

function errorReply(status: number, errorType: string, body: unknown): Reply {
    return { status, headers: { "x-amzn-ErrorType": `${errorType}:${ERROR_NAMESPACE}` }, body };
}

/** Replies as the real service sends them. */
export const replies = {
    /** A successful invocation: the model's body passed through, plus the variant that served it. */
    ok(body: unknown, variant = "AllTraffic", contentType = "application/json"): Reply {
        return { status: 200, headers: { "Content-Type": contentType, "x-Amzn-Invoked-Production-Variant": variant }, body };
    },
    /** The model container answered with a non-2xx status (or crashed): HTTP 424 ModelError. */
    modelError(originalStatusCode = 500, originalMessage = "Traceback (most recent call last):\n  File \"/opt/ml/model/code/inference.py\"", endpointName = "endpoint"): Reply {
        const logGroup = `/aws/sagemaker/Endpoints/${endpointName}`;
        return errorReply(424, "ModelError", {
            ErrorCode: originalStatusCode >= 500 ? "INTERNAL_FAILURE_FROM_MODEL" : "CLIENT_ERROR_FROM_MODEL",
            LogStreamArn: `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT_ID}:log-group:${logGroup}`,
            Message:
                `Received ${originalStatusCode >= 500 ? "server" : "client"} error (${originalStatusCode}) from primary with message "${originalMessage}". ` +
                `See https://${TEST_REGION}.console.aws.amazon.com/cloudwatch/home?region=${TEST_REGION}#logEventViewer:group=${logGroup} in account ${TEST_ACCOUNT_ID} for more information.`,
            OriginalMessage: originalMessage,
            OriginalStatusCode: originalStatusCode,
        });
    },
    validationError(message: string): Reply {
        return errorReply(400, "ValidationError", { message });
    },
    endpointNotFound(endpointName: string): Reply {
        return replies.validationError(`Endpoint ${endpointName} of account ${TEST_ACCOUNT_ID} not found.`);
    },
    throttling(): Reply {
        return errorReply(429, "ThrottlingException", { message: "Rate exceeded" });
    },
    serviceUnavailable(): Reply {
        return errorReply(503, "ServiceUnavailable", { message: "Service Unavailable" });
    },
    internalFailure(): Reply {
        return errorReply(500, "InternalFailure", { message: "An internal error occurred" });
    },
    delayed(reply: Reply, delayMs: number): Reply {
        return { ...reply, delayMs };
    },
};

export interface ServerOptions {
    /** The credentials a request must be signed with; TEST_CREDENTIALS by default. */
    credentials?: RuntimeCredentials;
    /** Recompute every signature (default true). The header's shape is always checked. */
    verifySignatures?: boolean;
    /** Endpoint names that exist; others get the real "not found" ValidationError. Any name when omitted. */
    endpoints?: string[];
    responder?: Responder;
    /** Listen on this port (0, the default, picks a free one); always on 127.0.0.1. */
    port?: number;
    /** Keep every invocation in `invocations` (default true); a long-running server turns it off. */
    record?: boolean;
}

export interface SageMakerRuntimeServer {
    /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME or boto3's endpoint_url. */
    url: string;
    /** Every request that reached the operation (after the signature check), oldest first. */
    invocations: Invocation[];
    /** Requests refused before the operation (bad path or signature), with the reason. */
    rejected: { path: string; errorType: string; message: string }[];
    respondWith(responder: Responder): void;
    close(): Promise<void>;
}

// SigV4 (shared with the other loopback AWS servers): AWS4-HMAC-SHA256 Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<64 hex>
export const AUTHORIZATION =
    /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const INVOCATION_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

/** The hash/HMAC constructor @smithy/signature-v4 expects, on node:crypto. */
class NodeSha256 {
    private hash: Hash | Hmac;
    constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
        this.hash = this.create();
    }
    private create(): Hash | Hmac {
        if (this.secret === undefined) return createHash("sha256");
        const secret = this.secret;
        const key =
            typeof secret === "string" ? secret : ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret);
        return createHmac("sha256", key);
    }
    update(data: Uint8Array): void {
        this.hash.update(data);
    }
    async digest(): Promise<Uint8Array> {
        return this.hash.digest();
    }
    reset(): void {
        this.hash = this.create();
    }
}

function send(res: http.ServerResponse, reply: Reply, requestId: string): void {
    const body =
        reply.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
    const headers: Record<string, string | number> = {
        "x-amzn-RequestId": requestId,
        "Content-Length": body.length,
        "Content-Type": "application/json",
        Date: new Date().toUTCString(),
        ...reply.headers,
    };
    res.writeHead(reply.status, headers);
    res.end(body);
}

export async function verifySignature(
    req: http.IncomingMessage,
    body: Buffer,
    parsed: RegExpExecArray,
    credentials: RuntimeCredentials,
): Promise<boolean> {
    const [, , , region, service, signedHeaderList, signature] = parsed;
    const signedHeaders = signedHeaderList.split(";");
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
        const value = req.headers[name];
        if (value === undefined) return false;
        headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const amzDate = req.headers["x-amz-date"];
    if (typeof amzDate !== "string" || !/^\d{8}T\d{6}Z$/.test(amzDate)) return false;
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const url = new URL(req.url ?? "/", "http://placeholder");
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    // A payload hash the client sent must be the body's, as the real service checks; without one (boto3 sends
    // none) the hash is computed from the body. applyChecksum off: the signer must not add a header to sign.
    const claimedHash = req.headers["x-amz-content-sha256"];
    if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(body).digest("hex")) return false;
    const signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
    const signed = await signer.sign(
        { method: req.method ?? "POST", protocol: "http:", hostname: "placeholder", path: url.pathname, query, headers, body },
        { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
    return expected === signature;
}

export async function startSageMakerRuntimeServer(options: ServerOptions = {}): Promise<SageMakerRuntimeServer> {
    const credentials = options.credentials ?? TEST_CREDENTIALS;
    const verify = options.verifySignatures ?? true;
    const known = options.endpoints ? new Set(options.endpoints) : undefined;
    let responder: Responder = options.responder ?? (() => replies.ok({ predictions: [{ label: "Affenpinscher", index: 0, probability: 1 }] }));
    const invocations: Invocation[] = [];
    const rejected: SageMakerRuntimeServer["rejected"] = [];
    let counter = 0;

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
        const requestId = `loopback-${++counter}`;
        const path = (req.url ?? "/").split("?")[0];
        const refuse = (status: number, errorType: string, message: string) => {
            rejected.push({ path, errorType, message });
            send(res, errorReply(status, errorType, { message }), requestId);
        };

        const match = INVOCATION_PATH.exec(path);
        if (req.method !== "POST" || !match) return refuse(404, "UnknownOperationException", `no operation for ${req.method} ${path}`);
        const authorization = req.headers.authorization;
        if (authorization === undefined) return refuse(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        const parsed = AUTHORIZATION.exec(authorization);
        if (!parsed) return refuse(403, "IncompleteSignatureException", `Authorization header is not SigV4: ${authorization.slice(0, 60)}`);
        const [, accessKeyId, scopeDate, region, service, signedHeaderList] = parsed;
        if (accessKeyId !== credentials.accessKeyId) return refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
        const amzDate = req.headers["x-amz-date"];
        if (typeof amzDate !== "string" || !amzDate.startsWith(scopeDate)) return refuse(403, "IncompleteSignatureException", "X-Amz-Date is missing or does not match the credential scope");
        if (service !== "sagemaker") return refuse(403, "InvalidSignatureException", `Credential should be scoped to correct service: 'sagemaker', not '${service}'.`);
        if (!signedHeaderList.split(";").includes("host")) return refuse(403, "InvalidSignatureException", "'Host' must be a signed header.");
        if (credentials.sessionToken !== undefined && req.headers["x-amz-security-token"] !== credentials.sessionToken) {
            return refuse(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        let signatureVerified: boolean | undefined;
        if (verify) {
            signatureVerified = await verifySignature(req, body, parsed, credentials);
            if (!signatureVerified) {
                return refuse(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
            }
        }

        const endpointName = decodeURIComponent(match[1]);
        const invocation: Invocation = {
            endpointName,
            method: req.method,
            path,
            headers: req.headers,
            body,
            region,
            service,
            remotePort: req.socket.remotePort,
            signatureVerified,
        };
        if (options.record ?? true) invocations.push(invocation);
        const reply = known && !known.has(endpointName) ? replies.endpointNotFound(endpointName) : await responder(invocation);
        if (reply.delayMs) {
            await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
            // The client may have given up meanwhile; writing to its closed socket would only raise.
            if (res.destroyed || req.socket.destroyed) return;
        }
        send(res, reply, requestId);
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
                if (!res.headersSent) send(res, errorReply(500, "InternalFailure", { message: String(error) }), "loopback-error");
            });
        });
    });
    // Keep-alive sockets must outlive a benchmark's pauses, as the real service's do.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;

    return {
        url: `http://127.0.0.1:${port}`,
        invocations,
        rejected,
        respondWith(next: Responder) {
            responder = next;
        },
        close() {
            return new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            });
        },
    };
}
