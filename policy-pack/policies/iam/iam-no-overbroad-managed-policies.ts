import { ResourceValidationPolicy } from "@pulumi/policy";
import { globMatch, isAwsManagedPolicyArn, managedPolicyName } from "../../lib/iam";
import { label } from "../../lib/label";
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

export const iamNoOverbroadManagedPolicies: ResourceValidationPolicy = {
    name,
    description:
        "No over-broad managed policy (AmazonSageMakerFullAccess, AdministratorAccess, PowerUserAccess, IAMFullAccess, any *FullAccess) " +
        "attached to a role, user or group by any route: policy attachments, exclusive attachments or a role's managedPolicyArns.",
    enforcementLevel: "mandatory",
    configSchema,
    validateResource: (args, reportViolation) => {
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
            if (denied && !allowed) {
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
