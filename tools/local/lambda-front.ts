/**
 * A small HTTP front for a Lambda handler: each request becomes the event a Lambda Function URL sends
 * (payload format 2.0) and the handler's answer becomes the HTTP response, as the Function URL service maps it.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** The Function URL request payload limit. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
const URL_ID = "local0000000000000000000000000000";

export type LambdaHandler = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

export interface FunctionUrlRequest {
    method: string;
    /** Path and query string, as in an HTTP request line. */
    target: string;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
    sourceIp: string;
    requestId: string;
    now?: Date;
}

// Function URLs pass these bodies as text and base64-encode every other one.
function isTextual(contentType: string | undefined): boolean {
    const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
    return (
        type.startsWith("text/") ||
        /^application\/([\w.-]+\+)?(json|xml)$/.test(type) ||
        type === "application/javascript" ||
        type === "application/x-www-form-urlencoded"
    );
}

function clfTime(date: Date): string {
    // "12/Mar/2020:19:03:58 +0000", the requestContext.time format.
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export function functionUrlEvent(request: FunctionUrlRequest): Record<string, unknown> {
    const now = request.now ?? new Date();
    const url = new URL(request.target, "http://front.invalid");
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined) continue;
        if (name === "cookie") cookies.push(...String(value).split(/;\s*/));
        else headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
    const text = isTextual(headers["content-type"]);
    return {
        version: "2.0",
        routeKey: "$default",
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        ...(cookies.length > 0 ? { cookies } : {}),
        headers,
        ...(url.search ? { queryStringParameters: query } : {}),
        requestContext: {
            accountId: "anonymous",
            apiId: URL_ID,
            domainName: `${URL_ID}.lambda-url.local.on.aws`,
            domainPrefix: URL_ID,
            http: {
                method: request.method,
                path: url.pathname,
                protocol: "HTTP/1.1",
                sourceIp: request.sourceIp,
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: request.requestId,
            routeKey: "$default",
            stage: "$default",
            time: clfTime(now),
            timeEpoch: now.getTime(),
        },
        ...(request.body.length > 0 ? { body: text ? request.body.toString("utf8") : request.body.toString("base64") } : {}),
        isBase64Encoded: request.body.length > 0 && !text,
    };
}

interface HandlerResult {
    statusCode: number;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
    cookies?: string[];
}

function isHandlerResult(value: unknown): value is HandlerResult {
    return typeof value === "object" && value !== null && typeof (value as { statusCode?: unknown }).statusCode === "number";
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer): void {
    res.writeHead(status, { ...headers, "Content-Length": body.length });
    res.end(body);
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
    // The Function URL service's own errors, e.g. a handler that throws.
    send(res, status, { "Content-Type": "application/json" }, Buffer.from(JSON.stringify({ Message: message })));
}

export interface LambdaFront {
    url: string;
    close(): Promise<void>;
}

export function startLambdaFront(handler: LambdaHandler, options: { host?: string; port: number }): Promise<LambdaFront> {
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        req.on("end", () => {
            if (size > MAX_BODY_BYTES) return sendError(res, 413, "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
            const requestId = randomUUID();
            const event = functionUrlEvent({
                method: req.method ?? "GET",
                target: req.url ?? "/",
                headers: req.headers,
                body: Buffer.concat(chunks),
                sourceIp: req.socket.remoteAddress ?? "",
                requestId,
            });
            handler(event, { awsRequestId: requestId }).then(
                (result) => {
                    if (!isHandlerResult(result)) {
                        // A bare value is sent as a JSON document with status 200.
                        return send(res, 200, { "Content-Type": "application/json" }, Buffer.from(JSON.stringify(result ?? null)));
                    }
                    const body = Buffer.from(result.body ?? "", result.isBase64Encoded ? "base64" : "utf8");
                    const headers: Record<string, string | string[]> = { ...result.headers, "x-amzn-RequestId": requestId };
                    if (result.cookies && result.cookies.length > 0) headers["Set-Cookie"] = result.cookies;
                    send(res, result.statusCode, headers, body);
                },
                (error: unknown) => {
                    console.error(`lambda handler threw: ${error instanceof Error ? error.stack : String(error)}`);
                    sendError(res, 502, "Internal Server Error");
                },
            );
        });
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, options.host ?? "127.0.0.1", () => {
            server.off("error", reject);
            const { address, port } = server.address() as AddressInfo;
            resolve({
                url: `http://${address}:${port}`,
                close: () =>
                    new Promise<void>((done) => {
                        server.close(() => done());
                        server.closeAllConnections();
                    }),
            });
        });
    });
}
