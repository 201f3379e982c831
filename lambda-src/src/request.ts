/**
 * Turns a Lambda event (direct invoke, API Gateway REST/HTTP API, Function URL) into a validated prediction
 * request, or a RequestError carrying the 4xx to answer. Everything here runs before any network call, so a
 * malformed or hostile request costs no image fetch and no SageMaker invocation.
 */
import { isIP } from "node:net";
import { REQUEST_LIMITS } from "../../infra/contract";
import { addressRefusal } from "./address-policy";

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

export interface UrlRules {
    /** ALLOW_HTTP_IMAGE_URLS: http as well as https. */
    allowHttp: boolean;
    /** IMAGE_FETCH_ALLOW_PRIVATE (local testing only): loopback and private hosts too, never link-local. */
    allowLocal: boolean;
}

export function parseEvent(event: unknown, rules: UrlRules): PredictionRequest {
    if (!isRecord(event)) throw invalid("InvalidRequest", "the event must be a JSON object");
    checkShape(event, "the event");
    const payload = isHttpEvent(event) ? parseHttpBody(event) : parseDirectEvent(event);
    return validatePayload(payload, rules);
}

/** Deeper than any event or body this API takes, shallow enough for every recursive function that reads them. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses values nested deeper than MAX_JSON_DEPTH, or with more members than MAX_BODY_BYTES could hold, before
 * anything recursive (JSON.stringify) touches them. Iterative, so the check itself cannot overflow the stack.
 */
function checkShape(value: unknown, what: string): void {
    const pending: [unknown, number][] = [[value, 1]];
    let members = 0;
    while (pending.length > 0) {
        const [item, depth] = pending.pop()!;
        if (typeof item !== "object" || item === null) continue;
        if (depth > MAX_JSON_DEPTH) throw invalid("InvalidRequest", `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
        for (const child of Object.values(item)) {
            if (++members > MAX_BODY_BYTES) throw new RequestError(413, "PayloadTooLarge", `the request must be at most ${MAX_BODY_BYTES} bytes of JSON`);
            pending.push([child, depth + 1]);
        }
    }
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
    checkShape(parsed, "the request body");
    if (!isRecord(parsed)) {
        if (looseType !== undefined) throw unsupportedMediaType(looseType, " and a body that is not a JSON object");
        throw invalid("InvalidRequest", 'the request body must be a JSON object like {"url": "https://..."}');
    }
    return parsed;
}

function validatePayload(payload: Record<string, unknown>, rules: UrlRules): PredictionRequest {
    const unknown = Object.keys(payload).filter((key) => !ALLOWED_FIELDS.has(key));
    if (unknown.length > 0) {
        const names = unknown.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 50)));
        throw invalid("UnknownField", `unknown field${unknown.length > 1 ? "s" : ""} ${names.join(", ")}: only "url" and "topK" are accepted`);
    }
    return {
        url: checkImageUrl(payload.url, rules),
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

/** The refusal of a URL whose host is, or resolves to, an address outside the address policy. */
export function refusedHost(url: URL, reason: string): RequestError {
    return invalid("InvalidUrl", `"url" must point at a public host; ${url.hostname.slice(0, 100)}: ${reason}`);
}

/**
 * The URL a caller sent, or one an image host redirected to, as the fetcher may use it: https (or http with
 * ALLOW_HTTP_IMAGE_URLS), no credentials, within the length limit, not an address literal or a localhost name
 * outside the address policy. A host name's DNS answers are checked when the fetcher resolves it.
 */
export function checkImageUrl(value: unknown, rules: UrlRules): URL {
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
    const allowed = rules.allowHttp ? ["https:", "http:"] : ["https:"];
    if (!allowed.includes(url.protocol)) {
        throw invalid("InvalidUrl", `"url" must use ${allowed.map((p) => p.slice(0, -1)).join(" or ")}, got ${url.protocol.slice(0, 20)}`);
    }
    if (url.username !== "" || url.password !== "") throw invalid("InvalidUrl", '"url" must not contain credentials (user:password@)');
    if (url.href.length > MAX_URL_LENGTH) throw invalid("InvalidUrl", `"url" must be at most ${MAX_URL_LENGTH} characters once normalised`);

    const host = url.hostname.toLowerCase();
    const refusal = isIP(host.replace(/^\[|\]$/g, "")) ? addressRefusal(host, rules.allowLocal) : undefined;
    if (refusal !== undefined) throw refusedHost(url, refusal);
    // RFC 6761 reserves localhost and its subdomains for loopback, whatever DNS might say.
    const name = host.endsWith(".") ? host.slice(0, -1) : host;
    if (!rules.allowLocal && (name === "localhost" || name.endsWith(".localhost"))) {
        throw invalid("InvalidUrl", `"url" must not point at a loopback host (${url.hostname})`);
    }
    return url;
}

/** The URL without query string or fragment: those may carry signatures or tokens and must stay out of logs. */
export function redactUrl(url: URL): string {
    return `${url.protocol}//${url.host}${url.pathname}`;
}
