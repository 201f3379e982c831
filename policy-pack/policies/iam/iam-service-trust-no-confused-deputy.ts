import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { parsePolicyDocument, Statement } from "../../lib/iam";
import { label } from "../../lib/label";
import { principalsOf } from "../../lib/principals";
import { T } from "../../lib/stack";
import { get, isUnknownSentinel, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-service-trust-no-confused-deputy";

const configSchema = {
    properties: {
        servicesWithoutSourceKeys: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "Service principals that assume a role without sending aws:SourceAccount or aws:SourceArn, so a condition on them would lock the service out. " +
                "Default: ec2.amazonaws.com (an instance profile's role, which only a principal of the role's own account can attach, with iam:PassRole).",
            default: ["ec2.amazonaws.com"],
        },
    },
};

const SOURCE_KEYS = ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"].map((k) => k.toLowerCase());
const assumeActions = /^(\*|sts:\*|sts:AssumeRole)$/i;

/** The source keys the statement pins to concrete values under an operator that fails when the key is missing. */
function sourceConditions(statement: Statement): string[] {
    const condition = statement.condition;
    if (condition === null || typeof condition !== "object") return [];
    const keys: string[] = [];
    for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
        // IfExists passes a request without the key, Null tests presence only, a negated operator names what the source is not.
        if (/IfExists$|^Null$|Not/i.test(operator) || block === null || typeof block !== "object") continue;
        for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
            if (!SOURCE_KEYS.includes(key.toLowerCase())) continue;
            const list = (Array.isArray(values) ? values : [values]).filter((v): v is string => typeof v === "string");
            // A value unknown during preview is the account or ARN the program computes: a pin all the same.
            if (list.some((v) => !/^\*+$/.test(v.trim()))) keys.push(key);
        }
    }
    return keys;
}

export const iamServiceTrustNoConfusedDeputy: ResourceValidationPolicy & Implements = {
    name,
    description:
        "A role an AWS service assumes (Principal Service in its trust policy) pins the caller with aws:SourceAccount, aws:SourceArn, aws:SourceOrgID " +
        "or aws:SourceOrgPaths, so the service cannot be made to assume it on behalf of another account's resources (cross-service confused deputy); " +
        "services that send none of these keys are exempt as configured.",
    enforcementLevel: "mandatory",
    configSchema,
    controls: ["Prowler iam_role_cross_service_confused_deputy_prevention"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.role) return;
        const { servicesWithoutSourceKeys } = args.getConfig<{ servicesWithoutSourceKeys: string[] }>();
        const exempt = new Set(servicesWithoutSourceKeys.map((s) => s.toLowerCase()));
        const unchecked = new Unchecked();
        const document = get(args.props, "assumeRolePolicy");
        const parsed = document === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(document);
        if (parsed.kind === "unknown") {
            unchecked.add(`assumeRolePolicy of ${label(args)}`);
            return unchecked.finish();
        }
        // iam-role-trust-no-public-or-foreign-principals reports an invalid trust policy.
        if (parsed.kind === "invalid") return;
        for (const statement of parsed.statements) {
            if (statement.effect !== "Allow") continue;
            const assumes = (statement.actions ?? []).some((a) => assumeActions.test(a.trim())) || statement.notActions !== undefined;
            if (!assumes) continue;
            const services = principalsOf(statement.principal)
                .filter((p) => p.kind === "Service")
                .map((p) => p.value.trim())
                .filter((s) => !exempt.has(s.toLowerCase()));
            if (services.length === 0) continue;
            if (statement.unknownKeys.includes("*") || isUnknownSentinel(statement.condition)) {
                unchecked.add(`${statement.label} of the trust policy of ${label(args)}`);
                continue;
            }
            if (sourceConditions(statement).length > 0) continue;
            reportViolation(
                `${label(args)} trust policy ${statement.label} lets ${services.join(", ")} assume the role with no condition on aws:SourceAccount or aws:SourceArn, ` +
                    "so the service can be made to use the role on behalf of another account's resources (cross-service confused deputy). " +
                    'Add Condition: { StringEquals: { "aws:SourceAccount": "<your account id>" } } (and aws:SourceArn for the resources that use the role), ' +
                    `or list the service in ${name}.servicesWithoutSourceKeys if it sends neither key.`,
            );
        }
        unchecked.finish();
    },
};
