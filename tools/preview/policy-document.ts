/**
 * `aws.iam.getPolicyDocument` as the AWS provider answers it (its aws_iam_policy_document data source):
 * source documents merged first, then the statements, then the override documents, statements with the
 * same Sid replacing each other; a one-element list written as a string, longer action, resource and
 * identifier lists sorted in reverse; "&{" written as "${"; `json` indented by two spaces, `minifiedJson`
 * compact, `id` the CRC-32 of `json`. Arguments the provider rejects are errors naming the argument.
 */
import { crc32 } from "node:zlib";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Principal {
    type: string;
    identifiers: string | string[];
}

interface Condition {
    test: string;
    variable: string;
    values: string | string[];
}

interface Statement {
    sid: string;
    effect?: string;
    actions?: string | string[];
    notActions?: string | string[];
    resources?: string | string[];
    notResources?: string | string[];
    principals?: Principal[];
    notPrincipals?: Principal[];
    conditions?: Condition[];
}

interface Doc {
    version?: string;
    id?: string;
    statements: Statement[];
}

const VERSIONS = ["2008-10-17", "2012-10-17"];

function fail(message: string): never {
    throw new Error(`aws:iam/getPolicyDocument: ${message}`);
}

function strings(value: unknown, where: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) fail(`${where} must be a list of strings`);
    return value as string[];
}

/** A set of strings as the provider writes it: one element as a string, more as a reverse-sorted list. */
function setValue(items: string[]): string | string[] | undefined {
    const unique = [...new Set(items)];
    if (unique.length === 0) return undefined;
    return unique.length === 1 ? unique[0] : unique.sort().reverse();
}

function replaceVars(value: string | string[], version: string, where: string): string | string[] {
    const one = (item: string) => {
        if (version === "2008-10-17" && item.includes("&{")) fail(`${where}: found &{ sequence in (${item}), which is not supported in document version 2008-10-17`);
        return item.replaceAll("&{", "${");
    };
    return Array.isArray(value) ? value.map(one) : one(value);
}

function principals(value: unknown, where: string, version: string): Principal[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) fail(`${where} must be a list`);
    const list = value.map((p: unknown, i) => {
        const entry = (p ?? {}) as Record<string, unknown>;
        if (typeof entry.type !== "string") fail(`${where}[${i}].type is required`);
        const identifiers = setValue(strings(entry.identifiers, `${where}[${i}].identifiers`));
        if (identifiers === undefined) fail(`${where}[${i}].identifiers is required`);
        return { type: entry.type, identifiers: replaceVars(identifiers, version, `${where}[${i}].identifiers`) };
    });
    return list.length > 0 ? list : undefined;
}

function conditions(value: unknown, where: string, version: string): Condition[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) fail(`${where} must be a list`);
    const list = value.map((c: unknown, i) => {
        const entry = (c ?? {}) as Record<string, unknown>;
        for (const key of ["test", "variable"]) if (typeof entry[key] !== "string") fail(`${where}[${i}].${key} is required`);
        // Condition values keep their order: it can matter to the condition operator.
        const values = replaceVars(strings(entry.values, `${where}[${i}].values`), version, `${where}[${i}].values`) as string[];
        return { test: entry.test as string, variable: entry.variable as string, values: values.length === 1 ? values[0] : values };
    });
    return list.length > 0 ? list : undefined;
}

function fromArgs(args: Record<string, unknown>): Doc {
    const version = args.version ?? "2012-10-17";
    if (typeof version !== "string" || !VERSIONS.includes(version)) fail(`version must be one of ${VERSIONS.join(", ")}, got ${JSON.stringify(version)}`);
    const sids = new Set<string>();
    const raw = args.statements ?? [];
    if (!Array.isArray(raw)) fail("statements must be a list");
    const statements = raw.map((s: unknown, i): Statement => {
        const where = `statements[${i}]`;
        const entry = (s ?? {}) as Record<string, unknown>;
        const sid = entry.sid ?? "";
        if (typeof sid !== "string" || !/^[a-zA-Z0-9]*$/.test(sid)) fail(`${where}.sid must only include alphanumeric characters`);
        if (sid !== "") {
            if (sids.has(sid)) fail(`duplicate Sid (${sid}). Remove the Sid or ensure the Sid is unique.`);
            sids.add(sid);
        }
        const effect = entry.effect ?? "Allow";
        if (effect !== "Allow" && effect !== "Deny") fail(`${where}.effect must be Allow or Deny, got ${JSON.stringify(effect)}`);
        const resources = setValue(strings(entry.resources, `${where}.resources`));
        const notResources = setValue(strings(entry.notResources, `${where}.notResources`));
        return {
            sid,
            effect,
            actions: setValue(strings(entry.actions, `${where}.actions`)),
            notActions: setValue(strings(entry.notActions, `${where}.notActions`)),
            resources: resources && replaceVars(resources, version, `${where}.resources`),
            notResources: notResources && replaceVars(notResources, version, `${where}.notResources`),
            principals: principals(entry.principals, `${where}.principals`, version),
            notPrincipals: principals(entry.notPrincipals, `${where}.notPrincipals`, version),
            conditions: conditions(entry.conditions, `${where}.conditions`, version),
        };
    });
    return { version, id: typeof args.policyId === "string" && args.policyId !== "" ? args.policyId : undefined, statements };
}

/** A JSON policy document given in sourcePolicyDocuments or overridePolicyDocuments, read as the provider reads it. */
function fromJson(text: unknown, where: string): Doc {
    if (text === null || text === undefined) return { statements: [] };
    let doc: Record<string, unknown>;
    try {
        doc = JSON.parse(String(text)) as Record<string, unknown>;
    } catch (err) {
        fail(`${where} is not valid JSON: ${(err as Error).message}`);
    }
    const list = (doc?.Statement ?? []) as unknown;
    if (!Array.isArray(list)) fail(`${where}: Statement must be a list of statements`);
    const asSet = (v: unknown) => (v === undefined ? undefined : (v as string | string[]));
    const statements = list.map((item: unknown): Statement => {
        const s = (item ?? {}) as Record<string, unknown>;
        return {
            sid: typeof s.Sid === "string" ? s.Sid : "",
            effect: typeof s.Effect === "string" ? s.Effect : undefined,
            actions: asSet(s.Action),
            notActions: asSet(s.NotAction),
            resources: asSet(s.Resource),
            notResources: asSet(s.NotResource),
            principals: parsedPrincipals(s.Principal),
            notPrincipals: parsedPrincipals(s.NotPrincipal),
            conditions: parsedConditions(s.Condition),
        };
    });
    return { version: typeof doc.Version === "string" ? doc.Version : undefined, id: typeof doc.Id === "string" ? doc.Id : undefined, statements };
}

function parsedPrincipals(value: unknown): Principal[] | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string") return [{ type: "*", identifiers: ["*"] }];
    return Object.entries(value as Record<string, string | string[]>).map(([type, identifiers]) => ({ type, identifiers }));
}

function parsedConditions(value: unknown): Condition[] | undefined {
    if (value === undefined) return undefined;
    // The provider reads every condition value as a list, and writes it back as one.
    return Object.entries(value as Record<string, Record<string, string | string[]>>).flatMap(([test, byVariable]) =>
        Object.entries(byVariable).map(([variable, values]) => ({ test, variable, values: Array.isArray(values) ? values : [values] })),
    );
}

/** Merges `next` into `doc`: its Id and a newer Version win, a statement with a known Sid replaces the one before it. */
function merge(doc: Doc, next: Doc): void {
    if (next.id) doc.id = next.id;
    if (next.version && (doc.version === undefined || next.version > doc.version)) doc.version = next.version;
    for (const statement of next.statements) {
        const existing = statement.sid === "" ? -1 : doc.statements.findIndex((s) => s.sid === statement.sid);
        if (existing >= 0) doc.statements[existing] = statement;
        else doc.statements.push(statement);
    }
}

function principalJson(list: Principal[]): Json {
    if (list.length === 1 && list[0].type === "*") {
        const ids = list[0].identifiers;
        if (ids === "*" || (Array.isArray(ids) && ids.length === 1 && ids[0] === "*")) return "*";
    }
    const out: Record<string, string | string[]> = {};
    for (const { type, identifiers } of list) {
        const before = out[type];
        if (Array.isArray(identifiers)) {
            out[type] = [...(before === undefined ? [] : Array.isArray(before) ? before : [before]), ...[...identifiers].sort().reverse()];
        } else {
            out[type] = before === undefined ? identifiers : [...(Array.isArray(before) ? before : [before]), identifiers];
        }
    }
    return sortKeys(out);
}

function conditionJson(list: Condition[]): Json {
    const out: Record<string, Record<string, string | string[]>> = {};
    for (const { test, variable, values } of list) {
        const byVariable = (out[test] ??= {});
        if (Array.isArray(values)) {
            const before = byVariable[variable];
            byVariable[variable] = [...(Array.isArray(before) ? before : []), ...values];
        } else {
            byVariable[variable] = values;
        }
    }
    return sortKeys(Object.fromEntries(Object.entries(out).map(([test, byVariable]) => [test, sortKeys(byVariable)])));
}

/** Go's encoder writes map keys sorted. */
function sortKeys<T>(record: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The document in the provider's field order: Version, Id, Statement; Sid always, the rest when set. */
function toJson(doc: Doc): Json {
    const out: Record<string, Json> = {};
    if (doc.version) out.Version = doc.version;
    if (doc.id) out.Id = doc.id;
    out.Statement = doc.statements.map((s) => {
        const statement: Record<string, Json> = { Sid: s.sid };
        if (s.effect) statement.Effect = s.effect;
        if (s.actions !== undefined) statement.Action = s.actions;
        if (s.notActions !== undefined) statement.NotAction = s.notActions;
        if (s.resources !== undefined) statement.Resource = s.resources;
        if (s.notResources !== undefined) statement.NotResource = s.notResources;
        if (s.principals?.length) statement.Principal = principalJson(s.principals);
        if (s.notPrincipals?.length) statement.NotPrincipal = principalJson(s.notPrincipals);
        if (s.conditions?.length) statement.Condition = conditionJson(s.conditions);
        return statement;
    });
    return out;
}

/** Go's encoder escapes <, > and & in strings for safe embedding in HTML. */
function goJson(value: Json, indent?: number): string {
    return JSON.stringify(value, null, indent).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

export function getPolicyDocument(args: Record<string, unknown>): Record<string, unknown> {
    const doc: Doc = { statements: [] };
    strings(args.sourcePolicyDocuments, "sourcePolicyDocuments").forEach((text, i) => {
        const source = fromJson(text, `sourcePolicyDocuments[${i}]`);
        const seen = new Set(doc.statements.map((s) => s.sid).filter((sid) => sid !== ""));
        for (const s of source.statements) {
            if (s.sid !== "" && seen.has(s.sid)) fail(`merging source document ${i}: duplicate Sid (${s.sid}) in sourcePolicyDocuments. Remove the Sid or ensure Sids are unique.`);
            if (s.sid !== "") seen.add(s.sid);
        }
        merge(doc, source);
    });
    const own = fromArgs(args);
    merge(doc, own);
    strings(args.overridePolicyDocuments, "overridePolicyDocuments").forEach((text, i) => merge(doc, fromJson(text, `overridePolicyDocuments[${i}]`)));
    const json = goJson(toJson(doc), 2);
    return {
        ...args,
        version: own.version,
        json,
        minifiedJson: goJson(toJson(doc)),
        id: String(crc32(json)),
    };
}
