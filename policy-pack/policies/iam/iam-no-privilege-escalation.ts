import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { escalationPaths } from "../../lib/escalation-paths";
import { EscalationCache, Home, OpenPath, openEscalationPaths } from "../../lib/escalation";
import { managedPolicyName, parsePolicyDocument, ParsedDocument, roleNameFromArn } from "../../lib/iam";
import { label } from "../../lib/label";
import { homeOf, roleName } from "../../lib/own-resources";
import { effectiveDocuments, RoleGraph } from "../../lib/roles";
import { SimulationDocument, simulationDocument } from "../../lib/simulate";
import { StackIndex, T } from "../../lib/stack";
import { get, str, Unchecked } from "../../lib/unknown";

const name = "iam-no-privilege-escalation";

const configSchema = {
    properties: {
        acceptedPaths: {
            type: "array" as const,
            items: { type: "string" as const, enum: escalationPaths.map((p) => p.id) },
            description:
                "Ids of escalation paths (pathfinding.cloud ids, e.g. 'lambda-003') a principal of this stack is meant to have, e.g. a deployment role " +
                "that updates function code. Every other path of the pack's catalog is refused.",
            default: [] as string[],
        },
    },
};

interface Config {
    acceptedPaths: string[];
}

/** A principal of the stack and the documents that make up its permissions. */
interface Holder {
    subject: string;
    urn: string;
    principal: string;
    documents: SimulationDocument[];
}

function describeOpen(open: OpenPath): string {
    const steps = open.steps.map((s) => `${s.action} on ${s.resource} (${s.context})`).join(", ");
    const statements = [...new Set(open.steps.flatMap((s) => s.allowedBy))].join(" and ");
    const sources = open.path.sources.map((s) => `${s.name}: ${s.url}`).join("; ");
    return (
        `escalation path ${open.path.id} is open: it can ${open.path.gains}. The IAM simulator allows ${steps}; allowed by ${statements}. ` +
        `Write-ups: ${sources}. Remove these actions or narrow them (Resource, Condition, a Deny) so no request reaches such a resource; ` +
        `for iam:PassRole name only the stack's own roles, with an iam:PassedToService condition (or list '${open.path.id}' in ${name}.acceptedPaths if this principal is meant to have it).`
    );
}

export const iamNoPrivilegeEscalation: StackValidationPolicy & Implements = {
    name,
    description:
        "No role or identity policy of the stack opens a published privilege-escalation path (the pack's catalog, each path with its Rhino Security " +
        "Labs, iam-vulnerable or pathfinding.cloud write-up): the IAM simulator, Deny statements, conditions and resources included, must refuse at " +
        "least one of the path's actions on every resource that makes it exploitable.",
    enforcementLevel: "mandatory",
    controls: [
        "Prowler iam_policy_allows_privilege_escalation / iam_inline_policy_allows_privilege_escalation",
        "Prowler iam_no_custom_policy_permissive_role_assumption",
        "Checkov CKV_AWS_286 / 287 / 288 / 289 / 290",
    ],
    configSchema,
    validateStack: async (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const accepted = new Set(config.acceptedPaths);
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const stackHome = homeOf(index);
        const home: Home = { partition: stackHome.partition, account: [...stackHome.accounts][0] ?? "123456789012", region: [...stackHome.regions][0] ?? "us-east-1" };

        const ownRoles = new Set<string>();
        for (const role of index.of(T.role)) {
            for (const key of ["name", "arn"]) {
                const value = str(role.props, key);
                if (typeof value === "string") ownRoles.add(value);
            }
        }
        const isOwnRole = (arn: string) => ownRoles.has(arn) || ownRoles.has(roleNameFromArn(arn) ?? "");
        const roles = { signature: JSON.stringify([...ownRoles].sort()), isOwn: isOwnRole };

        const simulated = (source: string, parsed: ParsedDocument): SimulationDocument[] => {
            if (parsed.kind === "unknown") {
                unchecked.add(`the policy document of ${source}`);
                return [];
            }
            if (parsed.kind === "invalid") {
                unchecked.undecidable(`the policy document of ${source} is invalid (${parsed.error}), so the escalation paths it may open cannot be checked`);
                return [];
            }
            for (const statement of parsed.statements) {
                if (statement.unknownKeys.length > 0) unchecked.add(`${statement.unknownKeys.join("/")} of ${statement.label} in ${source}`);
            }
            return [simulationDocument(source, parsed.statements)];
        };

        const holders: Holder[] = [];
        const graph = new RoleGraph(index);
        for (const role of index.of(T.role)) {
            const perms = graph.permissions(role);
            for (const item of perms.unresolved) unchecked.add(`${item} (attached to ${label(role)})`);
            const documents = effectiveDocuments(perms, [], (arn, via, aws) =>
                unchecked.undecidable(
                    `managed policy ${managedPolicyName(arn)} (${arn}), attached to ${label(role)} by ${via}, ${aws ? "is not among AWS's published ones" : "is not in this stack"}, ` +
                        "so the escalation paths it may open cannot be checked",
                ),
            );
            holders.push({
                subject: label(role),
                urn: role.urn,
                principal: `arn:${home.partition}:iam::${home.account}:role/${roleName(role)}`,
                documents: documents.flatMap((d) => simulated(d.source, d.parsed)),
            });
        }
        for (const item of graph.unattached) unchecked.add(item);
        // Documents held by users, groups or nobody in this stack: each judged as the only policy of whoever holds it.
        const standalone: [PolicyResource, string][] = [
            ...index.of(T.policy).filter((p) => !graph.attachedPolicies.has(p)).map((p): [PolicyResource, string] => [p, "probe-holder"]),
            ...index.of(T.userPolicy).map((p): [PolicyResource, string] => {
                const user = str(p.props, "user");
                return [p, `user/${typeof user === "string" ? user : "probe-user"}`];
            }),
            ...index.of(T.groupPolicy).map((p): [PolicyResource, string] => [p, "user/probe-group-member"]),
        ];
        for (const [resource, who] of standalone) {
            const principal = who.startsWith("user/") ? `arn:${home.partition}:iam::${home.account}:${who}` : `arn:${home.partition}:iam::${home.account}:role/${who}`;
            holders.push({ subject: `whoever holds ${label(resource)}`, urn: resource.urn, principal, documents: simulated(label(resource), parsePolicyDocument(get(resource.props, "policy"))) });
        }

        const cache: EscalationCache = new Map();
        for (const holder of holders) {
            if (holder.documents.length === 0) continue;
            const verdict = await openEscalationPaths(cache, holder.principal, holder.documents, home, roles);
            for (const error of verdict.errors) {
                reportViolation(`${holder.subject}: the IAM simulator rejects ${error}, so the escalation paths it may open cannot be ruled out. Fix the document.`, holder.urn);
            }
            for (const request of verdict.undecided) unchecked.undecidable(`whether ${holder.subject} may ${request}`);
            for (const open of verdict.open) {
                if (!accepted.has(open.path.id)) reportViolation(`${holder.subject}: ${describeOpen(open)}`, holder.urn);
            }
        }
        unchecked.finish();
    },
};
