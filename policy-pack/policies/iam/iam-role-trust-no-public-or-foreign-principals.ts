import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { parsePolicyDocument } from "../../lib/iam";
import { label } from "../../lib/label";
import { callerConditionKeys, principalAccount, principalsOf } from "../../lib/principals";
import { T } from "../../lib/stack";
import { get, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-role-trust-no-public-or-foreign-principals";

const configSchema = {
    properties: {
        trustedAccounts: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "AWS account IDs whose principals a role may trust without a caller condition (sts:ExternalId, aws:PrincipalOrgID, ...).",
            default: [] as string[],
        },
        maxServicePrincipals: {
            type: "integer" as const,
            minimum: 1,
            description: "Most AWS services one role may trust; a service role needs exactly its own service.",
            default: 1,
        },
    },
};

interface Config {
    trustedAccounts: string[];
    maxServicePrincipals: number;
}

const assumeActions = /^(\*|sts:\*|sts:AssumeRole\w*|sts:TagSession|sts:SetSourceIdentity)$/i;

export const iamRoleTrustNoPublicOrForeignPrincipals: ResourceValidationPolicy & Implements = {
    name,
    description:
        "A role's trust policy (assumeRolePolicy) lets no one assume it as '*' or any AWS account, lets another account's principals assume it only " +
        "with a caller condition (sts:ExternalId, aws:PrincipalOrgID, aws:SourceArn...), and trusts no more AWS services than configured.",
    enforcementLevel: "mandatory",
    controls: [
        "Checkov CKV_AWS_60 / CKV_AWS_61",
        "Prowler iam_role_cross_account_readonlyaccess_policy",
    ],
    configSchema,
    validateResource: (args, reportViolation) => {
        if (args.type !== T.role) return;
        const config = args.getConfig<Config>();
        const unchecked = new Unchecked();
        const document = get(args.props, "assumeRolePolicy");
        const parsed = document === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(document);
        if (parsed.kind === "unknown") {
            unchecked.add(`assumeRolePolicy of ${label(args)}`);
            return unchecked.finish();
        }
        if (parsed.kind === "invalid") {
            reportViolation(`${label(args)}: assumeRolePolicy is not a valid policy document (${parsed.error}). Fix the document so its trust can be checked.`);
            return;
        }
        const services = new Set<string>();
        for (const statement of parsed.statements) {
            if (statement.effect !== "Allow") continue;
            if (statement.unknownKeys.length > 0) unchecked.add(`${statement.unknownKeys.join("/")} of ${statement.label} in the trust policy of ${label(args)}`);
            const assumes = (statement.actions ?? []).some((a) => assumeActions.test(a.trim())) || statement.notActions !== undefined;
            if (!assumes) continue;
            const where = `${label(args)} trust policy ${statement.label}`;
            if (statement.notPrincipal !== undefined) {
                reportViolation(`${where} allows every principal except those in NotPrincipal to assume the role. Name the trusted principal in Principal instead.`);
                continue;
            }
            const narrowed = callerConditionKeys(statement).length > 0;
            for (const principal of principalsOf(statement.principal)) {
                if (principal.kind === "*") {
                    if (!narrowed) {
                        reportViolation(
                            `${where} lets any principal ('*') of any AWS account assume the role. ` +
                                "Trust the one service (e.g. sagemaker.amazonaws.com) or account role that needs it, or add a condition on aws:PrincipalOrgID/aws:PrincipalArn.",
                        );
                    }
                } else if (principal.kind === "AWS") {
                    const account = principalAccount(principal.value);
                    if (account !== undefined && !config.trustedAccounts.includes(account) && !narrowed) {
                        reportViolation(
                            `${where} lets principal ${principal.value} (account ${account}) assume the role with no condition naming the caller. ` +
                                `Add a Condition on sts:ExternalId or aws:PrincipalOrgID, or list ${account} in ${name}.trustedAccounts if that account is yours.`,
                        );
                    }
                } else if (principal.kind === "Service") {
                    services.add(principal.value);
                }
            }
        }
        if (services.size > config.maxServicePrincipals) {
            reportViolation(
                `${label(args)} trusts ${services.size} services (${[...services].join(", ")}), more than the ${config.maxServicePrincipals} allowed ` +
                    `(${name}.maxServicePrincipals): each service can act with all of the role's permissions. Give each service its own role.`,
            );
        }
        unchecked.finish();
    },
};
