/**
 * Keeps secrets that travel in URLs out of the logs. A presigned S3 URL carries X-Amz-Signature, X-Amz-Credential
 * and X-Amz-Security-Token in its query string, and upstream messages quote URLs in many forms: plain, inside
 * quotes or JSON (`https:\/\/`), percent-encoded inside another URL, or as a bare request target (`/a.jpg?...`).
 *
 * Two rules, the same as classifier/redact.py on the endpoint, checked by one shared table of cases:
 * - any whitespace-delimited token that holds a URL or a request target loses everything from its first
 *   query or fragment marker (`?`, `#`, or their percent and JSON escapes) on;
 * - any `name=value` (or `name: value`) whose name is a credential parameter (X-Amz-*, Signature, AWSAccessKeyId, token, ...)
 *   loses its value, wherever it appears.
 */
const URL_TOKEN = /\S+/g;
const LOOKS_LIKE_URL = /[a-z][a-z0-9+.-]*(?::|%(?:25)*3a)(?:\/\/|\\\/\\\/|(?:%(?:25)*2f){2})|^["'(<[{]*\//i;
const QUERY_MARKER = /\?|#|%(?:25)*3f|%(?:25)*23|\\u003f|\\u0023/i;
const CREDENTIAL_PARAMETER = /(x-amz-[a-z0-9-]+|signature|awsaccesskeyid|sig|token|access_token|id_token|api_key|apikey|password|secret)(=|:\s*|%(?:25)*3[ad]|\\u003d)[^&\s]*/gi;
// Both rules need one of these characters; most log fields (levels, ids, codes) have none and skip the regexes.
const MAY_HOLD_SECRET = /[?#%\\=:]/;
export const REDACTED = "[redacted]";

export function scrubSecrets(text: string): string {
    if (!MAY_HOLD_SECRET.test(text)) return text;
    const withoutQueries = text.replace(URL_TOKEN, (token) => {
        if (!LOOKS_LIKE_URL.test(token)) return token;
        const marker = QUERY_MARKER.exec(token);
        return marker === null ? token : `${token.slice(0, marker.index)}?${REDACTED}`;
    });
    return withoutQueries.replace(CREDENTIAL_PARAMETER, `$1$2${REDACTED}`);
}

/** Every string in a log entry, however deep, scrubbed: no field can carry a signed URL into CloudWatch. */
export function scrubLogEntry<T>(value: T): T {
    if (typeof value === "string") return scrubSecrets(value) as T;
    if (Array.isArray(value)) return value.map((item) => scrubLogEntry(item)) as T;
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubLogEntry(item)])) as T;
    }
    return value;
}
