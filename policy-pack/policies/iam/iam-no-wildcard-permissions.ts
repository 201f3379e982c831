import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import {
    expandAction,
    hasWildcard,
    isAllActions,
    isServiceWildcard,
    parsePolicyDocument,
    resourceScope,
    serviceExists,
    Statement,
} from "../../lib/iam";
import { label } from "../../lib/label";
import { conditionNarrows } from "../../lib/simulate";
import { meansEveryResource } from "../../lib/resources";
import { T } from "../../lib/stack";
import { get, list, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-no-wildcard-permissions";

const configSchema = {
    properties: {
        maxWildcardExpansion: {
            type: "integer" as const,
            minimum: 1,
            description:
                "Most real IAM actions a single wildcard action pattern (e.g. 'sagemaker:Describe*') may grant; broader patterns must be spelled out.",
            default: 5,
        },
    },
};

interface Config {
    maxWildcardExpansion: number;
}

/** Resource types carrying identity-policy documents, and where. */
const documentProps: Record<string, string> = {
    [T.policy]: "policy",
    [T.rolePolicy]: "policy",
    [T.userPolicy]: "policy",
    [T.groupPolicy]: "policy",
};

export const iamNoWildcardPermissions: ResourceValidationPolicy & Implements = {
    name,
    description:
        "IAM policy documents (aws.iam.Policy, RolePolicy, UserPolicy, GroupPolicy, a role's inlinePolicies) allow no '*' or 'service:*' action, " +
        "no wildcard that expands to more than the permitted number of real actions, no Allow with NotAction/NotResource, " +
        "and Resource '*' only for actions that cannot be scoped to a resource ARN.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub IAM.1",
        "SecurityHub IAM.21",
        "SecurityHub KMS.1/KMS.2",
        "AWSConfig iam-policy-no-statements-with-full-access",
        "Prowler iam_*_no_administrative_privileges (aws/customer/inline)",
        "Prowler iam_policy_no_full_access_to_kms / iam_inline_policy_no_full_access_to_kms",
        "Checkov CKV_AWS_62 / CKV_AWS_274 / CKV2_AWS_40",
        "Checkov CKV_AWS_63 / CKV_AWS_355",
        "Checkov CKV_AWS_286 / 287 / 288 / 289 / 290",
        "cdk-nag AwsSolutions-IAM5",
        "cdk-nag IAMPolicyNoStatementsWithAdminAccess / FullAccess",
    ],
    configSchema,
    validateResource: async (args, reportViolation) => {
        // `required`: a document the resource cannot exist without, so a missing one is reported, not skipped.
        const documents: { where: string; value: unknown; required: boolean }[] = [];
        const unchecked = new Unchecked();
        const prop = documentProps[args.type];
        if (prop) {
            documents.push({ where: prop, value: get(args.props, prop), required: true });
        } else if (args.type === T.role) {
            const inline = list(args.props, "inlinePolicies");
            if (inline === UNKNOWN) unchecked.add(`inlinePolicies of ${label(args)}`);
            else
                (inline ?? []).forEach((entry, i) => {
                    const policyName = get(entry, "name");
                    documents.push({
                        where: `inlinePolicies[${i}]${typeof policyName === "string" ? ` (${policyName})` : ""}`,
                        value: entry === UNKNOWN ? UNKNOWN : get(entry, "policy"),
                        // An inline policy block without a document is how a role declares it has none.
                        required: false,
                    });
                });
        } else {
            return;
        }
        const config = args.getConfig<Config>();
        const subject = label(args);
        for (const { where, value, required } of documents) {
            if (value === UNKNOWN) {
                unchecked.add(`${where} of ${subject}`);
                continue;
            }
            if (value === undefined || value === null || value === "") {
                if (required) {
                    unchecked.undecidable(
                        `${where} of ${subject} is missing or empty, so there is no policy document to check; ` +
                            `set ${where} to the document (a JSON string, e.g. aws.iam.getPolicyDocumentOutput(...).json, or an object)`,
                    );
                }
                continue;
            }
            const parsed = parsePolicyDocument(value);
            if (parsed.kind === "unknown") {
                unchecked.add(`${where} of ${subject}`);
                continue;
            }
            if (parsed.kind === "invalid") {
                reportViolation(`${subject}: ${where} is not a valid IAM policy document (${parsed.error}); fix the document so it can be checked.`);
                continue;
            }
            for (const statement of parsed.statements) {
                if (statement.unknownKeys.length > 0) {
                    unchecked.add(`${statement.unknownKeys.join("/")} of ${statement.label} in ${where} of ${subject}`);
                }
                const problems = await statementProblems(statement, config);
                for (const problem of problems) {
                    reportViolation(`${subject}, ${where}, ${statement.label}: ${problem}`);
                }
            }
        }
        unchecked.finish();
    },
};

async function statementProblems(statement: Statement, config: Config): Promise<string[]> {
    if (statement.effect !== "Allow") return [];
    const problems: string[] = [];
    if (statement.notActions !== undefined) {
        problems.push(
            `Allow with NotAction [${statement.notActions.join(", ")}] grants every other action in AWS. List the needed actions under Action instead.`,
        );
    }
    if (statement.notResources !== undefined) {
        problems.push(
            `Allow with NotResource [${statement.notResources.join(", ")}] grants access to every other resource. List the needed resource ARNs under Resource instead.`,
        );
    }
    const granted: string[] = [];
    for (const pattern of statement.actions ?? []) {
        if (isAllActions(pattern)) {
            problems.push(`Action '${pattern}' allows every action in AWS. Replace it with the specific actions the workload calls.`);
            continue;
        }
        if (isServiceWildcard(pattern)) {
            const count = (await expandAction(pattern)).length;
            problems.push(
                `Action '${pattern}' allows all ${count} actions of the service. Replace it with the specific actions the workload calls ` +
                    `(e.g. '${pattern.split(":")[0]}:InvokeEndpoint').`,
            );
            continue;
        }
        const expanded = await expandAction(pattern);
        if (hasWildcard(pattern)) {
            if (expanded.length === 0) {
                const why = (await serviceExists(pattern)) ? "matches no real IAM action" : "names an unknown service";
                problems.push(`Action '${pattern}' ${why}. Fix the pattern or remove it.`);
            } else if (expanded.length > config.maxWildcardExpansion) {
                problems.push(
                    `Action '${pattern}' expands to ${expanded.length} actions (${preview(expanded)}), more than the ${config.maxWildcardExpansion} permitted ` +
                        `(${name}.maxWildcardExpansion). List the actions actually needed.`,
                );
            }
        }
        granted.push(...expanded);
    }
    const everything = (statement.resources ?? []).map((r) => r.trim()).filter(meansEveryResource);
    for (const resource of new Set(everything)) {
        const service = resource === "*" ? "*" : resource.split(":")[2];
        const scoped: string[] = [];
        let unnarrowed = false;
        for (const action of new Set(granted)) {
            if (service !== "*" && !/^\*+$/.test(service) && action.split(":")[0].toLowerCase() !== service.toLowerCase()) continue;
            const scope = await resourceScope(action);
            // A condition only lets an optionally scoped action keep "*" when, as the IAM simulator decides, it refuses requests on resources nobody named.
            if (scope === "required") scoped.push(action);
            else if (scope === "optional" && !(statement.hasCondition && (await conditionNarrows(statement, action)))) {
                scoped.push(action);
                unnarrowed ||= statement.hasCondition;
            }
        }
        if (scoped.length > 0) {
            const spelt = resource === "*" ? "" : " (every resource of the service, spelt as an ARN)";
            const condition = unnarrowed ? " Its Condition does not narrow which resources are reached." : "";
            problems.push(
                `Resource '${resource}'${spelt} for ${preview(scoped)}, which can be scoped to resource ARNs.${condition} ` +
                    "Name the specific ARNs; keep '*' only for actions AWS does not scope to resources (e.g. ecr:GetAuthorizationToken).",
            );
        }
    }
    return problems;
}

function preview(actions: string[], max = 5): string {
    const shown = actions.slice(0, max).join(", ");
    return actions.length > max ? `${shown}, ... ${actions.length - max} more` : shown;
}
