/**
 * Fetching the image a caller's URL names: the one place the API opens a connection a caller chooses, so the
 * URL is treated as hostile, with the same rules as the endpoint's own fetcher (classifier/image_fetch.py):
 *
 * - the host is resolved once and EVERY answer is checked against the address policy shared with Python
 *   (address-policy.ts reads training-scripts/classifier/address_policy.json); the connection then goes to the
 *   checked addresses through the socket's `lookup`, so a second DNS answer (rebinding) is never asked for;
 * - TLS is verified for the URL's host name (certificate chain and name, SNI), by Node's defaults;
 * - each redirect is re-checked like the first URL (scheme, credentials, literal and resolved addresses), at most
 *   MAX_REDIRECTS of them;
 * - ONE deadline covers the whole fetch: every lookup, connect, handshake, header and body byte of every hop;
 * - the body stops at `maxBytes` (within SageMaker's invocation payload limit), and must be a JPEG or PNG by its
 *   first bytes, whatever the server declares; anything else is refused as soon as those bytes arrive.
 *
 * Every failure is the caller's problem (their URL points at a slow, refusing or non-image host): a RequestError
 * with a 4xx and a message naming the URL without its query string. Proxy variables are not consulted.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { addressRefusal } from "./address-policy";
import { checkImageUrl, redactUrl, refusedHost, RequestError, type UrlRules } from "./request";

/** Every address a host name resolves to. */
export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export const MAX_REDIRECTS = 3;
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export type ImageType = "image/jpeg" | "image/png";

/** The formats the model decodes, by their leading bytes (JPEG's SOI marker, PNG's signature). */
const SIGNATURES: [ImageType, Buffer][] = [
    ["image/jpeg", Buffer.from([0xff, 0xd8, 0xff])],
    ["image/png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
];
const SIGNATURE_BYTES = Math.max(...SIGNATURES.map(([, signature]) => signature.length));

/** The image type `head` (a body's first bytes) starts with, undefined when it is neither, "short" when it cannot tell yet. */
export function sniffImageType(head: Buffer): ImageType | "short" | undefined {
    for (const [type, signature] of SIGNATURES) {
        const n = Math.min(head.length, signature.length);
        if (head.subarray(0, n).equals(signature.subarray(0, n))) return n === signature.length ? type : "short";
    }
    return undefined;
}

export interface FetchedImage {
    bytes: Buffer;
    contentType: ImageType;
}

export interface FetchOptions extends UrlRules {
    lookup: Lookup;
    timeoutMs: number;
    maxBytes: number;
    maxRedirects?: number;
    /** Extra trusted CA certificates (PEM); the system's roots otherwise. Tests trust their own certificate with it. */
    ca?: string | Buffer;
}

export type ImageFetcher = (url: URL) => Promise<FetchedImage>;

function rejected(statusCode: number, message: string): RequestError {
    return new RequestError(statusCode, "ImageRejected", message);
}

/** One deadline for everything a fetch does; `signal` aborts whatever request is in flight when it passes. */
class Deadline {
    private readonly controller = new AbortController();
    private readonly timer: NodeJS.Timeout;

    constructor(readonly timeoutMs: number) {
        this.timer = setTimeout(() => this.controller.abort(), timeoutMs);
    }

    get signal(): AbortSignal {
        return this.controller.signal;
    }

    get expired(): boolean {
        return this.controller.signal.aborted;
    }

    error(url: URL): RequestError {
        return rejected(400, `fetching ${redactUrl(url)} timed out: no complete response within ${this.timeoutMs} ms`);
    }

    /** `promise`, or the deadline's error once it passes first. */
    race<T>(promise: Promise<T>, url: URL): Promise<T> {
        if (this.expired) return Promise.reject(this.error(url));
        return new Promise<T>((resolve, reject) => {
            const onAbort = () => reject(this.error(url));
            this.signal.addEventListener("abort", onAbort, { once: true });
            promise.then(resolve, reject).finally(() => this.signal.removeEventListener("abort", onAbort));
        });
    }

    cancel(): void {
        clearTimeout(this.timer);
    }
}

export interface Target {
    url: URL;
    /** The addresses to connect to, every one checked; empty for an address literal (checked with the URL). */
    addresses: { address: string; family: number }[];
}

/**
 * Resolves the URL's host once and checks every answer, so what is connected to is what was checked. `within`
 * bounds the lookup (the fetch's deadline).
 */
export async function resolveChecked(
    url: URL,
    options: Pick<FetchOptions, "lookup" | "allowLocal">,
    within: <T>(promise: Promise<T>) => Promise<T> = (promise) => promise,
): Promise<Target> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0) return { url, addresses: [] };
    let answers: string[];
    try {
        answers = await within(options.lookup(host));
    } catch (error) {
        if (error instanceof RequestError) throw error;
        const code = (error as { code?: unknown }).code;
        throw rejected(400, `cannot resolve the host of ${redactUrl(url)}${typeof code === "string" ? ` (${code})` : ""}`);
    }
    if (answers.length === 0) throw rejected(400, `cannot resolve the host of ${redactUrl(url)}`);
    for (const answer of answers) {
        const refusal = addressRefusal(answer, options.allowLocal);
        if (refusal !== undefined) throw refusedHost(url, `it resolves to ${refusal}`);
    }
    // A zone ("fe80::1%eth0") was judged above; the socket takes the bare address.
    const addresses = [...new Set(answers.map((answer) => answer.split("%")[0]))].map((address) => ({ address, family: isIP(address) }));
    return { url, addresses };
}

/** A socket lookup that answers only with the checked addresses: the connection cannot go anywhere else. */
function pinnedLookup(target: Target): LookupFunction {
    return (_hostname, options, callback) => {
        const [first] = target.addresses;
        if ((options as { all?: boolean }).all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, target.addresses);
        else (callback as (err: null, address: string, family: number) => void)(null, first.address, first.family);
    };
}

function get(target: Target, options: FetchOptions, deadline: Deadline): Promise<http.IncomingMessage> {
    const { url } = target;
    const request = url.protocol === "https:" ? https.request : http.request;
    return new Promise((resolve, reject) => {
        const req = request({
            protocol: url.protocol,
            host: url.hostname.replace(/^\[|\]$/g, ""),
            port: url.port === "" ? undefined : Number(url.port),
            path: `${url.pathname}${url.search}`,
            method: "GET",
            headers: { Accept: SIGNATURES.map(([type]) => type).join(", "), "User-Agent": "image-classifier/1" },
            // A fresh connection per hop: a pooled socket could have been opened for another address.
            agent: false,
            signal: deadline.signal,
            ...(target.addresses.length > 0 ? { lookup: pinnedLookup(target) } : {}),
            ...(options.ca !== undefined ? { ca: options.ca } : {}),
        });
        req.once("response", resolve);
        req.once("error", reject);
        req.end();
    });
}

/** The network's own words for a failure, for the caller's message: a code, or the TLS library's reason. */
function failureReason(error: unknown): string {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const text = typeof message === "string" ? message.slice(0, 200) : "";
    if (typeof code === "string" && (code.startsWith("ERR_TLS") || /CERT|SSL|TLS|SELF_SIGNED/.test(code))) return `TLS error: ${text || code}`;
    return typeof code === "string" ? code : text || "connection failed";
}

async function readImage(response: http.IncomingMessage, url: URL, maxBytes: number, deadline: Deadline): Promise<FetchedImage> {
    const shown = redactUrl(url);
    const declared = response.headers["content-length"];
    if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
        throw rejected(413, `the image at ${shown} is ${Number(declared)} bytes; the limit is ${maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let type: ImageType | undefined;
    for await (const chunk of response as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxBytes) throw rejected(413, `the image at ${shown} exceeds the limit of ${maxBytes} bytes`);
        if (type === undefined && size >= SIGNATURE_BYTES) {
            const sniffed = sniffImageType(Buffer.concat(chunks).subarray(0, SIGNATURE_BYTES));
            if (sniffed === undefined || sniffed === "short") throw notAnImage(shown, response);
            type = sniffed;
        }
    }
    // A socket destroyed at the deadline can end the stream early: a cut body is never passed on as the image.
    if (deadline.expired) throw deadline.error(url);
    const bytes = Buffer.concat(chunks);
    const sniffed = type ?? sniffImageType(bytes);
    if (sniffed === undefined || sniffed === "short") throw notAnImage(shown, response);
    return { bytes, contentType: sniffed };
}

function notAnImage(shown: string, response: http.IncomingMessage): RequestError {
    const declared = (response.headers["content-type"] ?? "none").split(";")[0].trim().slice(0, 60);
    return rejected(400, `${shown} did not return a JPEG or PNG image (its content starts otherwise; declared type ${declared})`);
}

/**
 * Fetches the image at `url` (already validated by parseEvent) under the rules above; resolves with its bytes and
 * type, or rejects with a RequestError (4xx) that names the URL.
 */
export async function fetchImage(url: URL, options: FetchOptions): Promise<FetchedImage> {
    const deadline = new Deadline(options.timeoutMs);
    const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
    try {
        let current = url;
        let redirectedFrom: URL | undefined;
        for (let hop = 0; hop <= maxRedirects; hop++) {
            const hopUrl = current;
            const target = await resolveChecked(hopUrl, options, (promise) => deadline.race(promise, hopUrl)).catch((error: unknown) => {
                throw redirectedFrom && error instanceof RequestError && error.code === "InvalidUrl" ? refusedRedirect(redirectedFrom, hopUrl, error) : error;
            });
            let response: http.IncomingMessage;
            try {
                response = await get(target, options, deadline);
            } catch (error) {
                if (deadline.expired) throw deadline.error(current);
                throw rejected(400, `fetching ${redactUrl(current)} failed: ${failureReason(error)}`);
            }
            try {
                const status = response.statusCode ?? 0;
                if (REDIRECTS.has(status)) {
                    const location = response.headers.location;
                    if (!location) throw rejected(400, `${redactUrl(current)} answered ${status} without a Location header`);
                    redirectedFrom = current;
                    current = redirectTarget(current, location, options);
                    continue;
                }
                if (status !== 200) throw rejected(400, `${redactUrl(current)} answered HTTP ${status}`);
                return await readImage(response, current, options.maxBytes, deadline);
            } catch (error) {
                if (deadline.expired) throw deadline.error(current);
                if (error instanceof RequestError) throw error;
                throw rejected(400, `fetching ${redactUrl(current)} failed: ${failureReason(error)}`);
            } finally {
                response.destroy();
            }
        }
        throw rejected(400, `${redactUrl(url)} redirected more than ${maxRedirects} times`);
    } finally {
        deadline.cancel();
    }
}

/** The next hop, checked as the caller's own URL is: a redirect gains nothing a URL could not do. */
function redirectTarget(from: URL, location: string, rules: UrlRules): URL {
    let next: URL;
    try {
        next = new URL(location.trim(), from);
    } catch {
        throw rejected(400, `${redactUrl(from)} redirected to an invalid URL`);
    }
    try {
        return checkImageUrl(next.href, rules);
    } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        throw refusedRedirect(from, next, error);
    }
}

function refusedRedirect(from: URL, to: URL, refusal: RequestError): RequestError {
    return new RequestError(400, refusal.code, `${redactUrl(from)} redirected to ${redactUrl(to)}, which is refused: ${refusal.message}`);
}

export function imageFetcher(options: FetchOptions): ImageFetcher {
    return (url) => fetchImage(url, options);
}
