/**
 * Who a resource or trust policy statement grants to, and whether its Condition narrows that to a known
 * caller: shared by the trust, S3, KMS and Lambda permission policies.
 */
import { Statement } from "./iam";
import { isUnknownSentinel } from "./unknown";

/** Whether a value is unknown during preview (as a boolean: the type guard would narrow strings away). */
const unknownValue = (value: unknown): boolean => isUnknownSentinel(value);

export type Principal = { kind: "AWS" | "Service" | "Federated" | "CanonicalUser" | "*"; value: string };

function strings(value: unknown): string[] {
    const items = Array.isArray(value) ? value : [value];
    return items.filter((x): x is string => typeof x === "string");
}

/** The principals of `Principal` ("*" alone, or a map of kind to one value or a list); unknown values are skipped. */
export function principalsOf(value: unknown): Principal[] {
    if (value === undefined || value === null) return [];
    if (typeof value === "string") {
        if (unknownValue(value)) return [];
        return [{ kind: value.trim() === "*" ? "*" : "AWS", value }];
    }
    if (typeof value !== "object") return [];
    const out: Principal[] = [];
    for (const [kind, entries] of Object.entries(value as Record<string, unknown>)) {
        for (const entry of strings(entries).filter((e) => !unknownValue(e))) {
            out.push({ kind: entry.trim() === "*" ? "*" : (kind as Principal["kind"]), value: entry });
        }
    }
    return out;
}

/** The 12-digit account of an AWS principal ("123456789012", "arn:aws:iam::123456789012:root", a role ARN). */
export function principalAccount(principal: string): string | undefined {
    const bare = /^\d{12}$/.exec(principal.trim());
    if (bare) return bare[0];
    return /^arn:[a-z-]+:(?:iam|sts)::(\d{12}):/.exec(principal.trim())?.[1];
}

/**
 * Condition keys that tie a grant to a specific caller, source or organisation. A Condition using none of
 * them (aws:SecureTransport, a tag on the request, ...) narrows nothing about who may act.
 */
const CALLER_KEYS = new Set(
    [
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:userid",
        "sts:ExternalId",
        "kms:CallerAccount",
        "kms:ViaService",
    ].map((k) => k.toLowerCase()),
);

/** The caller-narrowing condition keys a statement uses with a concrete value (not just "*"). */
export function callerConditionKeys(statement: Statement): string[] {
    const condition = statement.condition;
    if (condition === null || typeof condition !== "object") return [];
    const keys: string[] = [];
    for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
        // "...IfExists" passes when the key is absent, and Null only tests presence: neither pins the caller.
        if (/IfExists$/i.test(operator) || /^Null$/i.test(operator)) continue;
        if (block === null || typeof block !== "object") continue;
        for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
            if (!CALLER_KEYS.has(key.toLowerCase())) continue;
            const concrete = strings(values).filter((v) => !/^\*+$/.test(v.trim()));
            if (concrete.length > 0 || isUnknownSentinel(values)) keys.push(key);
        }
    }
    return keys;
}
