/**
 * Plaintext secrets in configuration the pack can read (environment variables, lifecycle scripts): values
 * shaped like a credential whatever their name, and literal values under a name that says "secret". A value
 * that names where a secret lives (an ARN, a parameter path, a shell variable) is not one. Findings never
 * repeat the value.
 */

/** Credential shapes with a fixed prefix or structure, after the detect-secrets plugins Checkov uses. */
const SHAPES: [string, RegExp][] = [
    ["an AWS access key id", /\b(?:AKIA|ASIA|A3T[A-Z0-9])[A-Z0-9]{16}\b/],
    ["a private key", /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----/],
    ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
    ["a Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
    ["a Stripe live key", /\b[rs]k_live_[A-Za-z0-9]{20,}/],
    ["a Google API key", /\bAIza[0-9A-Za-z_-]{35}\b/],
    ["a JSON web token", /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
    ["credentials in a URL", /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]{3,}@/i],
];

const SECRET_NAME = /(secret|passw(?:or)?d|passphrase|pwd|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key|access[_-]?key)/i;

/** A value that points at a secret store or a variable rather than holding the secret. */
function isReference(value: string): boolean {
    return /^(arn:|\/|\$|\{\{resolve:|ssm:|secretsmanager:|projects\/)/.test(value.trim()) || value.trim().length < 8;
}

/** What kind of secret `value` (under `name`, if any) looks like, or undefined. */
export function secretKind(name: string | undefined, value: string): string | undefined {
    for (const [kind, shape] of SHAPES) if (shape.test(value)) return kind;
    if (name !== undefined && SECRET_NAME.test(name) && !isReference(value)) return `a literal value under the name ${name}`;
    return undefined;
}

/** Secrets a shell script sets or holds: credential shapes anywhere, and literal assignments to secret-named variables. */
export function secretsInScript(script: string): string[] {
    const found = new Set<string>();
    for (const [kind, shape] of SHAPES) if (shape.test(script)) found.add(kind);
    for (const match of script.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(["']?)([^\s"'`;]+)\2/g)) {
        const kind = secretKind(match[1], match[3]);
        if (kind) found.add(kind);
    }
    for (const match of script.matchAll(/aws\s+configure\s+set\s+(aws_secret_access_key|aws_session_token)\s+(["']?)([^\s"']+)\2/g)) {
        if (!isReference(match[3])) found.add(`a literal ${match[1]} given to aws configure`);
    }
    return [...found];
}
