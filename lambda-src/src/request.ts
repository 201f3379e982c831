/**
 * Turns a Lambda event (direct invoke, API Gateway REST/HTTP API, Function URL) into a validated prediction
 * request, or a RequestError carrying the 4xx to answer. Everything here runs before any network call, so a
 * malformed or hostile request costs no SageMaker invocation.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { REQUEST_LIMITS } from "../../infra/contract";

export const MAX_BODY_BYTES = 4096;
const { maxUrlLength: MAX_URL_LENGTH, maxTopK: MAX_TOP_K, defaultTopK: DEFAULT_TOP_K } = REQUEST_LIMITS;
const ALLOWED_FIELDS = new Set(["url", "topK"]);

export interface PredictionRequest {
    /** The image URL as the WHATWG parser normalised it: what was validated is exactly what gets fetched. */
    url: URL;
    /** How many predictions to return: the caller's topK, else the default. */
    topK: number;
    /** Whether the caller chose topK; if not, the endpoint applies its own default, capped at its class count. */
    topKRequested: boolean;
}

export class RequestError extends Error {
    constructor(
        readonly statusCode: number,
        readonly code: string,
        message: string,
        readonly headers: Record<string, string> = {},
    ) {
        super(message);
        this.name = "RequestError";
    }
}

function invalid(code: string, message: string): RequestError {
    return new RequestError(400, code, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** API Gateway v1 has httpMethod; v2 and Function URLs have requestContext.http; all have requestContext. */
function isHttpEvent(event: Record<string, unknown>): boolean {
    return "requestContext" in event || "httpMethod" in event || "routeKey" in event;
}

export function parseEvent(event: unknown, allowHttpImageUrls: boolean): PredictionRequest {
    if (!isRecord(event)) throw invalid("InvalidRequest", "the event must be a JSON object");
    const payload = isHttpEvent(event) ? parseHttpBody(event) : parseDirectEvent(event);
    return validatePayload(payload, allowHttpImageUrls);
}

function parseDirectEvent(event: Record<string, unknown>): Record<string, unknown> {
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_BODY_BYTES) {
        throw new RequestError(413, "PayloadTooLarge", `the request must be at most ${MAX_BODY_BYTES} bytes of JSON`);
    }
    return event;
}

function httpMethod(event: Record<string, unknown>): string | undefined {
    if (typeof event.httpMethod === "string") return event.httpMethod;
    const context = event.requestContext;
    if (isRecord(context) && isRecord(context.http) && typeof context.http.method === "string") return context.http.method;
    return undefined;
}

function header(event: Record<string, unknown>, name: string): string | undefined {
    if (!isRecord(event.headers)) return undefined;
    for (const [key, value] of Object.entries(event.headers)) {
        if (key.toLowerCase() === name && typeof value === "string") return value;
    }
    return undefined;
}

/** Content types whose body is still read when it is a JSON object; any other non-JSON type is refused outright. */
const LOOSE_MEDIA_TYPES = new Set(["text/plain", "application/x-www-form-urlencoded"]);

function unsupportedMediaType(contentType: string, problem: string): RequestError {
    return new RequestError(
        415,
        "UnsupportedMediaType",
        `send a JSON object like {"url": "https://..."} with Content-Type application/json; got "${contentType.slice(0, 100)}"${problem}`,
    );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseHttpBody(event: Record<string, unknown>): Record<string, unknown> {
    const method = httpMethod(event);
    if (method !== undefined && method.toUpperCase() !== "POST") {
        throw new RequestError(405, "MethodNotAllowed", `method ${method} is not allowed: send POST with a JSON body`, { Allow: "POST" });
    }
    // Set when the body is read as JSON despite its Content-Type: `curl -d` labels data form-urlencoded unless told.
    let looseType: string | undefined;
    const contentType = header(event, "content-type");
    if (contentType !== undefined) {
        const mediaType = contentType.split(";")[0].trim().toLowerCase();
        if (mediaType !== "application/json") {
            if (!LOOSE_MEDIA_TYPES.has(mediaType)) throw unsupportedMediaType(contentType, "");
            looseType = contentType;
        }
    }
    const body = event.body;
    if (body === undefined || body === null || body === "") throw invalid("MissingBody", 'the request has no body: send {"url": "https://..."}');
    if (typeof body !== "string") throw invalid("InvalidRequest", "the request body must be a string");

    let text = body;
    if (event.isBase64Encoded === true) {
        // Checked before decoding so an oversized body is never decoded at all.
        if (body.length > Math.ceil(MAX_BODY_BYTES / 3) * 4) {
            throw new RequestError(413, "PayloadTooLarge", `the request body must be at most ${MAX_BODY_BYTES} bytes`);
        }
        if (body.length % 4 !== 0 || !BASE64.test(body)) throw invalid("InvalidBody", "the request body is marked base64 but is not valid base64");
        try {
            text = utf8.decode(Buffer.from(body, "base64"));
        } catch {
            throw invalid("InvalidBody", "the request body is not valid UTF-8");
        }
    }
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
        throw new RequestError(413, "PayloadTooLarge", `the request body must be at most ${MAX_BODY_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        if (looseType !== undefined) throw unsupportedMediaType(looseType, " and a body that is not JSON");
        throw invalid("InvalidJson", "the request body is not valid JSON");
    }
    if (!isRecord(parsed)) {
        if (looseType !== undefined) throw unsupportedMediaType(looseType, " and a body that is not a JSON object");
        throw invalid("InvalidRequest", 'the request body must be a JSON object like {"url": "https://..."}');
    }
    return parsed;
}

function validatePayload(payload: Record<string, unknown>, allowHttpImageUrls: boolean): PredictionRequest {
    const unknown = Object.keys(payload).filter((key) => !ALLOWED_FIELDS.has(key));
    if (unknown.length > 0) {
        const names = unknown.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 50)));
        throw invalid("UnknownField", `unknown field${unknown.length > 1 ? "s" : ""} ${names.join(", ")}: only "url" and "topK" are accepted`);
    }
    return {
        url: validateImageUrl(payload.url, allowHttpImageUrls),
        topK: validateTopK(payload.topK),
        topKRequested: payload.topK !== undefined,
    };
}

function validateTopK(value: unknown): number {
    if (value === undefined) return DEFAULT_TOP_K;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TOP_K) {
        throw invalid("InvalidTopK", `topK must be an integer from 1 to ${MAX_TOP_K}, got ${JSON.stringify(value)?.slice(0, 50)}`);
    }
    return value;
}

// Addresses the endpoint must never be asked to fetch from: the URL is fetched from inside our VPC/container,
// so these would reach the instance metadata service or internal hosts (SSRF).
const blocked = new BlockList();
for (const [network, prefix] of [
    ["0.0.0.0", 8], // "this network", including the unspecified address
    ["10.0.0.0", 8], // private
    ["100.64.0.0", 10], // shared address space (carrier-grade NAT)
    ["127.0.0.0", 8], // loopback
    ["169.254.0.0", 16], // link-local, including the EC2/ECS metadata services
    ["172.16.0.0", 12], // private
    ["192.0.0.0", 24], // IETF protocol assignments
    ["192.168.0.0", 16], // private
    ["198.18.0.0", 15], // benchmarking
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4], // reserved, including broadcast
] as const) {
    blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
    ["::", 128], // unspecified
    ["::1", 128], // loopback
    ["64:ff9b::", 96], // NAT64 of an IPv4 address
    ["fc00::", 7], // unique local
    ["fe80::", 10], // link-local
    ["fec0::", 10], // deprecated site-local
    ["ff00::", 8], // multicast
] as const) {
    blocked.addSubnet(network, prefix, "ipv6");
}

function validateImageUrl(value: unknown, allowHttpImageUrls: boolean): URL {
    if (value === undefined || value === null) throw invalid("MissingUrl", 'the field "url" is required: send {"url": "https://..."}');
    if (typeof value !== "string") throw invalid("InvalidUrl", `"url" must be a string, got ${Array.isArray(value) ? "array" : typeof value}`);
    if (value.trim() === "") throw invalid("InvalidUrl", '"url" must not be empty');
    if (value.length > MAX_URL_LENGTH) throw invalid("InvalidUrl", `"url" must be at most ${MAX_URL_LENGTH} characters, got ${value.length}`);

    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw invalid("InvalidUrl", '"url" is not a valid absolute URL');
    }
    const allowed = allowHttpImageUrls ? ["https:", "http:"] : ["https:"];
    if (!allowed.includes(url.protocol)) {
        throw invalid("InvalidUrl", `"url" must use ${allowed.map((p) => p.slice(0, -1)).join(" or ")}, got ${url.protocol.slice(0, 20)}`);
    }
    if (url.username !== "" || url.password !== "") throw invalid("InvalidUrl", '"url" must not contain credentials (user:password@)');
    if (url.href.length > MAX_URL_LENGTH) throw invalid("InvalidUrl", `"url" must be at most ${MAX_URL_LENGTH} characters once normalised`);

    const host = url.hostname.toLowerCase();
    const address = host.startsWith("[") ? host.slice(1, -1) : host;
    if (isIPv4(address) ? blocked.check(address, "ipv4") : isIPv6(address) && blocked.check(address, "ipv6")) {
        throw invalid("InvalidUrl", `"url" must not point at a private, loopback or link-local address (${url.hostname})`);
    }
    // RFC 6761 reserves localhost and its subdomains for loopback, whatever DNS might say.
    const name = host.endsWith(".") ? host.slice(0, -1) : host;
    if (name === "localhost" || name.endsWith(".localhost")) {
        throw invalid("InvalidUrl", `"url" must not point at a loopback host (${url.hostname})`);
    }
    return url;
}

/** The URL without query string or fragment: those may carry signatures or tokens and must stay out of logs. */
export function redactUrl(url: URL): string {
    return `${url.protocol}//${url.host}${url.pathname}`;
}
