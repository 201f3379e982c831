import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { globMatch, isAwsManagedPolicyArn, managedPolicyName } from "../../lib/iam";
import { label } from "../../lib/label";
import { broadGrants } from "../../lib/managed-policies";
import { T } from "../../lib/stack";
import { list, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-no-overbroad-managed-policies";

const configSchema = {
    properties: {
        deniedPolicies: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Managed policy names (or '*' patterns) that may not be attached to any role, user or group.",
            default: ["AmazonSageMakerFullAccess", "AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "*FullAccess"],
        },
        judgedServices: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "Services whose write, tagging or permissions-management actions an AWS managed policy may not grant on every resource; " +
                "AWS managed policies outside deniedPolicies are judged by their published documents against this list.",
            default: ["iam", "sagemaker", "sts", "organizations", "kms"],
        },
        allowedPolicies: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Managed policy names (or '*' patterns) exempt from deniedPolicies.",
            default: [] as string[],
        },
    },
};

interface Config {
    deniedPolicies: string[];
    judgedServices: string[];
    allowedPolicies: string[];
}

/** Where each resource type carries the managed policy ARNs it attaches, and what it attaches them to. */
const routes: Record<string, { arns: string; single: boolean; principal: string }> = {
    [T.rolePolicyAttachment]: { arns: "policyArn", single: true, principal: "role" },
    [T.userPolicyAttachment]: { arns: "policyArn", single: true, principal: "user" },
    [T.groupPolicyAttachment]: { arns: "policyArn", single: true, principal: "group" },
    [T.policyAttachment]: { arns: "policyArn", single: true, principal: "roles/users/groups" },
    [T.role]: { arns: "managedPolicyArns", single: false, principal: "name" },
    [T.rolePolicyAttachmentsExclusive]: { arns: "policyArns", single: false, principal: "roleName" },
    [T.userPolicyAttachmentsExclusive]: { arns: "policyArns", single: false, principal: "userName" },
    [T.groupPolicyAttachmentsExclusive]: { arns: "policyArns", single: false, principal: "groupName" },
};

export const iamNoOverbroadManagedPolicies: ResourceValidationPolicy & Implements = {
    name,
    description:
        "No over-broad managed policy (AmazonSageMakerFullAccess, AdministratorAccess, PowerUserAccess, IAMFullAccess, any *FullAccess) " +
        "attached to a role, user or group by any route: policy attachments, exclusive attachments or a role's managedPolicyArns; other AWS " +
        "managed policies are judged by their published documents (no write or permissions-management action of the judged services on every resource).",
    enforcementLevel: "mandatory",
    controls: [
        "Prowler iam_role_administratoraccess_policy",
        "Prowler iam_*_no_administrative_privileges (aws/customer/inline)",
        "Checkov CKV_AWS_62 / CKV_AWS_274 / CKV2_AWS_40",
        "cdk-nag AwsSolutions-IAM4",
        "cdk-nag IAMPolicyNoStatementsWithAdminAccess / FullAccess",
    ],
    configSchema,
    validateResource: async (args, reportViolation) => {
        const route = routes[args.type];
        if (!route) return;
        const config = args.getConfig<Config>();
        const unchecked = new Unchecked();
        const arns: unknown[] = [];
        if (route.single) {
            arns.push(str(args.props, route.arns));
        } else {
            const values = list(args.props, route.arns);
            if (values === UNKNOWN) unchecked.add(`${route.arns} of ${label(args)}`);
            else if (values) arns.push(...values);
        }
        const attachedTo = describePrincipal(args.props, route.principal);
        for (const arn of arns) {
            if (arn === UNKNOWN) {
                unchecked.add(`a policy ARN in ${route.arns} of ${label(args)}`);
                continue;
            }
            if (typeof arn !== "string") continue;
            const policyName = managedPolicyName(arn);
            const denied = config.deniedPolicies.find((pattern) => globMatch(policyName, pattern));
            const allowed = config.allowedPolicies.some((pattern) => globMatch(policyName, pattern));
            if (allowed) continue;
            if (!denied && isAwsManagedPolicyArn(arn)) {
                const grants = await broadGrants(policyName, config.judgedServices);
                if (grants === undefined) {
                    unchecked.undecidable(`${policyName} (${arn}), attached by ${label(args)}, is not a published AWS managed policy this pack knows, so its content cannot be judged`);
                } else if (grants.length > 0) {
                    const shown = grants.slice(0, 5).join(", ") + (grants.length > 5 ? `, ... ${grants.length - 5} more` : "");
                    reportViolation(
                        `${label(args)} attaches the AWS managed policy ${policyName} (${arn}) to ${attachedTo}; its published document grants ${shown} ` +
                            `on every resource (${name}.judgedServices: ${config.judgedServices.join(", ")}). ` +
                            "Remove the attachment and grant the specific actions on specific resources with an inline aws.iam.RolePolicy " +
                            `(or add '${policyName}' to ${name}.allowedPolicies if this exception is deliberate).`,
                    );
                }
                continue;
            }
            if (denied) {
                const owner = isAwsManagedPolicyArn(arn) ? "AWS managed policy" : "managed policy";
                reportViolation(
                    `${label(args)} attaches the ${owner} ${policyName} (${arn}) to ${attachedTo}; ` +
                        `it matches the denied pattern '${denied}' and grants far more than any workload here needs. ` +
                        "Remove the attachment and grant the specific actions on specific resources with an inline aws.iam.RolePolicy " +
                        `(or add '${policyName}' to ${name}.allowedPolicies if this exception is deliberate).`,
                );
            }
        }
        unchecked.finish();
    },
};

function describePrincipal(props: unknown, key: string): string {
    if (key === "roles/users/groups") {
        const names = ["roles", "users", "groups"].flatMap((k) => {
            const values = list(props, k);
            return Array.isArray(values) ? values.map((v) => (typeof v === "string" ? `${k.slice(0, -1)} ${v}` : `a ${k.slice(0, -1)}`)) : [];
        });
        return names.length > 0 ? names.join(", ") : "its principals";
    }
    const value = str(props, key);
    const kind = key.replace(/Name$/, "");
    if (key === "name") return typeof value === "string" ? `role ${value}` : "this role";
    return typeof value === "string" ? `${kind} ${value}` : `its ${kind}`;
}
