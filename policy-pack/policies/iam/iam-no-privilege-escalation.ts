import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { hasWildcard, matchesPattern, parsePolicyDocument, roleNameFromArn, Statement } from "../../lib/iam";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { get, list, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-no-privilege-escalation";

const configSchema = {
    properties: {
        escalationActions: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "IAM/STS actions that let a principal raise its own or another principal's permissions; no workload policy may grant them.",
            default: [
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "iam:AttachUserPolicy",
                "iam:PutUserPolicy",
                "iam:AttachGroupPolicy",
                "iam:PutGroupPolicy",
                "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:DeleteRolePermissionsBoundary",
                "iam:AddUserToGroup",
                "iam:CreateAccessKey",
                "iam:CreateLoginProfile",
                "iam:UpdateLoginProfile",
            ],
        },
    },
};

/** Identity-policy documents in the stack: where each is and its value. */
function documents(index: StackIndex, unchecked: Unchecked): { where: string; value: unknown }[] {
    const found: { where: string; value: unknown }[] = [];
    for (const type of [T.policy, T.rolePolicy, T.userPolicy, T.groupPolicy]) {
        for (const resource of index.of(type)) found.push({ where: label(resource), value: get(resource.props, "policy") });
    }
    for (const role of index.of(T.role)) {
        const inline = list(role.props, "inlinePolicies");
        if (inline === UNKNOWN) unchecked.add(`inlinePolicies of ${label(role)}`);
        (Array.isArray(inline) ? inline : []).forEach((entry, i) => found.push({ where: `${label(role)} inlinePolicies[${i}]`, value: entry === UNKNOWN ? UNKNOWN : get(entry, "policy") }));
    }
    return found;
}

function grants(statement: Statement, action: string): boolean {
    if (statement.notActions !== undefined) return !statement.notActions.some((p) => matchesPattern(action, p));
    return (statement.actions ?? []).some((p) => matchesPattern(action, p));
}

export const iamNoPrivilegeEscalation: StackValidationPolicy = {
    name,
    description:
        "No identity policy in the stack grants a privilege-escalation action (attaching or putting policies, new policy versions, trust-policy " +
        "updates, access keys...), iam:PassRole on roles other than the stack's own, or sts:AssumeRole on roles other than the stack's own.",
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<{ escalationActions: string[] }>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const ownRoles = new Set<string>();
        const ownRoleResources: PolicyResource[] = index.of(T.role);
        for (const role of ownRoleResources) {
            const roleName = str(role.props, "name");
            const arn = str(role.props, "arn");
            if (typeof roleName === "string") ownRoles.add(roleName);
            if (typeof arn === "string") ownRoles.add(arn);
        }
        const isOwnRole = (resource: string) => ownRoles.has(resource) || ownRoles.has(roleNameFromArn(resource) ?? "");
        for (const { where, value } of documents(index, unchecked)) {
            if (value === undefined || value === "") continue;
            const parsed = value === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(value);
            if (parsed.kind === "unknown") {
                unchecked.add(`the policy document of ${where}`);
                continue;
            }
            if (parsed.kind === "invalid") continue; // iam-no-wildcard-permissions reports invalid documents.
            for (const statement of parsed.statements) {
                if (statement.effect !== "Allow") continue;
                if (statement.unknownKeys.length > 0) unchecked.add(`${statement.unknownKeys.join("/")} of ${statement.label} in ${where}`);
                const escalating = config.escalationActions.filter((action) => grants(statement, action));
                if (escalating.length > 0) {
                    reportViolation(
                        `${where} ${statement.label} grants ${escalating.join(", ")}: with them a principal can give itself or others any permission. ` +
                            `Remove them; permissions change through the stack's own IaC, not at run time (${name}.escalationActions).`,
                    );
                }
                for (const action of ["iam:PassRole", "sts:AssumeRole"]) {
                    if (!grants(statement, action)) continue;
                    const beyond = statement.notResources !== undefined ? ["every resource not in NotResource"] : (statement.resources ?? []).filter((r) => hasWildcard(r) || !isOwnRole(r));
                    if (beyond.length > 0) {
                        reportViolation(
                            `${where} ${statement.label} grants ${action} on ${beyond.join(", ")}, beyond the roles this stack defines: ` +
                                `${action === "iam:PassRole" ? "passing" : "assuming"} a more privileged role escalates. Name the stack's own role ARNs in Resource.`,
                        );
                    }
                }
            }
        }
        unchecked.finish();
    },
};
