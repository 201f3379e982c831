/**
 * The effective permissions of IAM roles in a stack: every inline, customer-managed and AWS-managed
 * policy reaching each role by any route, gathered in one pass over the stack.
 */
import { PolicyResource } from "@pulumi/policy";
import { expandAction, globMatch, grantedActions, hasWildcard, isAllActions, isAwsManagedPolicyArn, managedPolicyName, matchesPattern, ParsedDocument, parsePolicyDocument, roleNameFromArn, Statement } from "./iam";
import { latestDocument } from "./managed-policies";
import { label } from "./label";
import { link, nameKeys, StackIndex, T } from "./stack";
import { get, list, str, Unchecked, UNKNOWN } from "./unknown";

export interface RoleDocument {
    /** Where the document comes from, for messages ("RolePolicy 'lambda-invoke'"). */
    source: string;
    parsed: ParsedDocument;
}

export interface RolePermissions {
    documents: RoleDocument[];
    /** Managed policies whose documents are not in this stack (AWS-managed or pre-existing). */
    opaqueManaged: { arn: string; via: string }[];
    /** Attachments whose target or policy could not be resolved during preview. */
    unresolved: string[];
}

function roleKeys(value: string): string[] {
    const name = roleNameFromArn(value);
    return name ? [value, name] : [value];
}

export class RoleGraph {
    private readonly byRole = new Map<string, RolePermissions>();
    /** Attachments naming a role we could not find; keyed by the role reference, reported by callers. */
    readonly unattached: string[] = [];
    /** Customer managed policies of the stack attached to one of its roles. */
    readonly attachedPolicies = new Set<PolicyResource>();

    constructor(private readonly index: StackIndex) {
        for (const role of index.of(T.role)) {
            const perms = this.entry(role);
            const inline = list(role.props, "inlinePolicies");
            if (inline === UNKNOWN) perms.unresolved.push(`inlinePolicies of ${label(role)}`);
            else
                (inline ?? []).forEach((policy, i) => {
                    const document = policy === UNKNOWN ? UNKNOWN : get(policy, "policy");
                    if (document === undefined || document === "") return;
                    perms.documents.push({
                        source: `${label(role)} inlinePolicies[${i}]`,
                        parsed: parsePolicyDocument(document),
                    });
                });
            this.addManagedList(role, "managedPolicyArns", [role]);
        }
        for (const rp of index.of(T.rolePolicy)) {
            for (const role of this.roles(rp, "role")) {
                this.entry(role).documents.push({ source: label(rp), parsed: parsePolicyDocument(get(rp.props, "policy")) });
            }
        }
        for (const attachment of index.of(T.rolePolicyAttachment)) {
            const roles = this.roles(attachment, "role");
            if (roles.length > 0) this.addManaged(attachment, "policyArn", str(attachment.props, "policyArn"), roles);
        }
        for (const attachment of index.of(T.rolePolicyAttachmentsExclusive)) {
            const roles = this.roles(attachment, "roleName");
            if (roles.length > 0) this.addManagedList(attachment, "policyArns", roles);
        }
        for (const attachment of index.of(T.policyAttachment)) {
            const names = list(attachment.props, "roles");
            const roles: PolicyResource[] = [];
            if (names === UNKNOWN || (names ?? []).includes(UNKNOWN)) {
                roles.push(...(attachment.propertyDependencies?.roles ?? []).filter((d) => d.type === T.role));
                if (roles.length === 0) this.unattached.push(`roles of ${label(attachment)}`);
            }
            for (const value of Array.isArray(names) ? names : []) {
                if (typeof value === "string") roles.push(...roleKeys(value).flatMap((k) => index.find(T.role, k)).slice(0, 1));
            }
            if (roles.length > 0) this.addManaged(attachment, "policyArn", str(attachment.props, "policyArn"), roles);
        }
    }

    permissions(role: PolicyResource): RolePermissions {
        return this.entry(role);
    }

    private entry(role: PolicyResource): RolePermissions {
        let perms = this.byRole.get(role.urn);
        if (!perms) this.byRole.set(role.urn, (perms = { documents: [], opaqueManaged: [], unresolved: [] }));
        return perms;
    }

    private roles(resource: PolicyResource, prop: string): PolicyResource[] {
        const found = link(this.index, resource, prop, T.role, roleKeys);
        if (found.kind === "linked") return found.targets;
        if (found.kind === "unlinked") this.unattached.push(`${prop} of ${label(resource)}`);
        return [];
    }

    private addManagedList(resource: PolicyResource, prop: string, roles: PolicyResource[]): void {
        const arns = list(resource.props, prop);
        if (arns === UNKNOWN) {
            for (const role of roles) this.entry(role).unresolved.push(`${prop} of ${label(resource)}`);
            return;
        }
        for (const arn of arns ?? []) this.addManaged(resource, prop, arn === UNKNOWN ? UNKNOWN : typeof arn === "string" ? arn : undefined, roles);
    }

    private addManaged(resource: PolicyResource, prop: string, arn: unknown, roles: PolicyResource[]): void {
        const via = label(resource);
        let customer: PolicyResource[] = [];
        if (typeof arn === "string") {
            customer = nameKeys(arn)
                .map((key) => this.index.find(T.policy, key, ["arn", "name"]))
                .find((found) => found.length > 0) ?? [];
            if (customer.length === 0) {
                for (const role of roles) this.entry(role).opaqueManaged.push({ arn, via });
                return;
            }
        } else if (arn === UNKNOWN) {
            customer = (resource.propertyDependencies?.[prop] ?? []).filter((d) => d.type === T.policy);
            if (customer.length === 0) {
                for (const role of roles) this.entry(role).unresolved.push(`${prop} of ${via}`);
                return;
            }
        } else {
            return;
        }
        for (const policy of customer) {
            this.attachedPolicies.add(policy);
            const parsed = parsePolicyDocument(get(policy.props, "policy"));
            for (const role of roles) this.entry(role).documents.push({ source: `${label(policy)} via ${via}`, parsed });
        }
    }
}

/** A Lambda function's role, resolved by ARN/name or by dependency. */
export function functionRole(index: StackIndex, fn: PolicyResource) {
    return link(index, fn, "role", T.role, roleKeys);
}

/**
 * Judges every statement of a role's policy documents with `judge`, reporting each problem on the role as
 * "<subject>, <source>, <statement>: <problem>"; unknown documents and statement keys go to `unchecked`.
 */
export async function judgeRoleStatements(
    role: PolicyResource,
    perms: RolePermissions,
    subject: string,
    unchecked: Unchecked,
    report: (message: string, urn: string) => void,
    judge: (statement: Statement, source: string) => Promise<string[]>,
): Promise<void> {
    for (const { source, parsed } of perms.documents) {
        if (parsed.kind === "unknown") {
            unchecked.add(`the policy document of ${source}`);
            continue;
        }
        if (parsed.kind === "invalid") {
            report(`${subject}: the policy document of ${source} is invalid (${parsed.error}). Fix the document so its permissions can be checked.`, role.urn);
            continue;
        }
        for (const statement of parsed.statements) {
            if (statement.unknownKeys.length > 0) unchecked.add(`${statement.unknownKeys.join("/")} of ${statement.label} in ${source}`);
            for (const problem of await judge(statement, source)) report(`${subject}, ${source}, ${statement.label}: ${problem}`, role.urn);
        }
    }
}

/**
 * The role's documents plus the published documents of its AWS managed policies, so they are judged by
 * content; managed policies matching `accepted` (names or '*' patterns) are left out as accepted as they
 * are, and those whose document is nowhere to be seen go to `opaque` (`aws`: an AWS managed ARN).
 */
export function effectiveDocuments(perms: RolePermissions, accepted: string[], opaque: (arn: string, via: string, aws: boolean) => void): RoleDocument[] {
    const documents = [...perms.documents];
    for (const { arn, via } of perms.opaqueManaged) {
        const policyName = managedPolicyName(arn);
        const aws = isAwsManagedPolicyArn(arn);
        if (accepted.some((p) => globMatch(policyName, p))) continue;
        const published = aws ? latestDocument(policyName) : undefined;
        if (published !== undefined) documents.push({ source: `AWS managed policy ${policyName} attached by ${via}`, parsed: parsePolicyDocument(published) });
        else opaque(arn, via, aws);
    }
    return documents;
}

/**
 * The problems of an Allow statement granting actions beyond `allowed` (wildcards expanded; `*` and
 * NotAction grant everything), "beyond what <who> needs. <remedy>"; the allowed actions it grants are added
 * to `granted`, for the simulator to probe where they reach.
 */
export async function judgeActions(
    statement: Statement,
    allowed: string[],
    granted: Set<string>,
    who: string,
    remedy: string | ((extra: string[]) => string),
): Promise<string[]> {
    if (statement.effect !== "Allow") return [];
    const allowedSet = new Set(allowed.map((a) => a.toLowerCase()));
    const fix = (extra: string[]) => (typeof remedy === "string" ? remedy : remedy(extra));
    const problems: string[] = [];
    if (statement.notActions !== undefined) {
        problems.push(`Allow with NotAction grants every action not listed. Use Action with the needed actions. ${fix([])}`);
        for (const action of allowed) if (!statement.notActions.some((p) => matchesPattern(action, p))) granted.add(action);
    }
    for (const pattern of statement.actions ?? []) {
        if (isAllActions(pattern)) {
            problems.push(`Action '${pattern}' grants every AWS action. ${fix([])}`);
            for (const action of allowed) granted.add(action);
            continue;
        }
        const actions = await grantedActions(pattern);
        const extra = actions.filter((a) => !allowedSet.has(a.toLowerCase()));
        if (extra.length > 0) {
            const shown = extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... ${extra.length - 5} more` : "");
            problems.push(`Action '${pattern}' grants ${shown}, beyond what ${who} needs. ${fix(extra)}`);
        }
        for (const action of actions) if (allowedSet.has(action.toLowerCase())) granted.add(action);
    }
    return problems;
}

/** An allow list with its patterns expanded against the IAM action list (lower case; plain names kept as written). */
export async function expandAll(patterns: string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const pattern of patterns) {
        const expanded = hasWildcard(pattern) ? await expandAction(pattern) : [pattern];
        for (const a of expanded) out.add(a.toLowerCase());
    }
    return [...out];
}
