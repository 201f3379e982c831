import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { buckets } from "../../lib/buckets";
import { expandAction, globMatch, grantedActions, hasWildcard, isAllActions, isAwsManagedPolicyArn, managedPolicyName, parsePolicyDocument, resourceScope, Statement } from "../../lib/iam";
import { label } from "../../lib/label";
import { principalsOf } from "../../lib/principals";
import { judgeRoleStatements, RoleGraph } from "../../lib/roles";
import { StackIndex, T } from "../../lib/stack";
import { get, raw, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "iam-service-role-least-privilege";

const stringList = (description: string, defaults: string[]) => ({
    type: "array" as const,
    items: { type: "string" as const },
    description,
    default: defaults,
});

/** What the project's SageMaker execution role grants (infra/components/sagemaker-role.ts, data capture included). */
const sagemakerActions = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListBucket",
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "cloudwatch:PutMetricData",
    // Reading SSE-KMS objects and writing encrypted data capture.
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:Encrypt",
];

/** The EC2 training role: its S3 prefixes, its logs, and the Session Manager agent (as in AmazonSSMManagedInstanceCore). */
const ec2Actions = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListBucket",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
    "ssm:DescribeAssociation",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:DescribeDocument",
    "ssm:GetManifest",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
];

const configSchema = {
    properties: {
        sagemakerAllowedActions: stringList(
            "Every action a role trusted by sagemaker.amazonaws.com may grant, after expanding wildcards (patterns allowed). " +
                "Default: read its data and code, write its output and data capture, pull its images, write its logs and metrics.",
            sagemakerActions,
        ),
        ec2AllowedActions: stringList(
            "Every action a role trusted by ec2.amazonaws.com may grant, after expanding wildcards (patterns allowed). Default: its S3 prefixes, its logs, the SSM agent.",
            ec2Actions,
        ),
        sagemakerAllowedManagedPolicies: stringList("AWS managed policy names (or '*' patterns) a SageMaker role may have attached.", []),
        ec2AllowedManagedPolicies: stringList("AWS managed policy names (or '*' patterns) an EC2 role may have attached.", ["AmazonSSMManagedInstanceCore"]),
        allowedBuckets: stringList(
            "Buckets these roles may reach besides the stack's own buckets and those its resources read from (s3:// URIs such as a dataset or model).",
            [],
        ),
    },
};

interface Config {
    sagemakerAllowedActions: string[];
    ec2AllowedActions: string[];
    sagemakerAllowedManagedPolicies: string[];
    ec2AllowedManagedPolicies: string[];
    allowedBuckets: string[];
}

interface RoleKind {
    service: string;
    what: string;
    actionsKey: "sagemakerAllowedActions" | "ec2AllowedActions";
    managedKey: "sagemakerAllowedManagedPolicies" | "ec2AllowedManagedPolicies";
}

const kinds: RoleKind[] = [
    {
        service: "sagemaker.amazonaws.com",
        what: "SageMaker execution role",
        actionsKey: "sagemakerAllowedActions",
        managedKey: "sagemakerAllowedManagedPolicies",
    },
    {
        service: "ec2.amazonaws.com",
        what: "EC2 instance role",
        actionsKey: "ec2AllowedActions",
        managedKey: "ec2AllowedManagedPolicies",
    },
];

const s3Arn = /^arn:[a-z-]+:s3:::([^/]*)(\/.*)?$/;
const s3Uri = /s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/g;

/** The kinds of service role this role is, by the services its trust policy lets assume it; UNKNOWN when the trust is unknown. */
function roleKinds(role: PolicyResource): RoleKind[] | typeof UNKNOWN {
    const parsed = parsePolicyDocument(get(role.props, "assumeRolePolicy"));
    if (parsed.kind === "unknown") return UNKNOWN;
    if (parsed.kind === "invalid") return [];
    const services = new Set(
        parsed.statements
            .filter((s) => s.effect === "Allow")
            .flatMap((s) => principalsOf(s.principal))
            .filter((p) => p.kind === "Service")
            .map((p) => p.value.trim().toLowerCase()),
    );
    return kinds.filter((k) => services.has(k.service));
}

/** Bucket names in s3:// URIs anywhere in a resource's properties (the data a job or instance reads or writes). */
function referencedBuckets(value: unknown, out: Set<string>): void {
    const v = raw(value);
    if (typeof v === "string") {
        // An unknown sentinel is a UUID, never an s3:// URI.
        for (const match of v.matchAll(s3Uri)) out.add(match[1]);
    } else if (Array.isArray(v)) {
        for (const item of v) referencedBuckets(item, out);
    } else if (v !== null && typeof v === "object") {
        for (const item of Object.values(v)) referencedBuckets(item, out);
    }
}

const iamTypes = new Set<string>([T.role, T.rolePolicy, T.policy]);

/** The buckets the stack owns or names as data, and whether every owned bucket's name is known. */
function stackBuckets(index: StackIndex, config: Config): { names: Set<string>; complete: boolean } {
    const names = new Set(config.allowedBuckets);
    let complete = true;
    for (const bucket of buckets(index)) {
        const bucketName = str(bucket.props, "bucket");
        if (typeof bucketName === "string") names.add(bucketName);
        else complete = false;
    }
    // Grants must not justify themselves: only non-IAM resources say which data the stack uses.
    for (const resource of index.resources) if (!iamTypes.has(resource.type)) referencedBuckets(resource.props, names);
    return { names, complete };
}

async function expandAll(patterns: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const pattern of patterns) {
        const expanded = hasWildcard(pattern) ? await expandAction(pattern) : [pattern];
        for (const a of expanded) out.add(a.toLowerCase());
    }
    return out;
}

export const iamServiceRoleLeastPrivilege: StackValidationPolicy = {
    name,
    description:
        "The effective permissions of every role the stack creates for SageMaker (trusted by sagemaker.amazonaws.com) or EC2 (ec2.amazonaws.com), " +
        "all its inline, RolePolicy and customer managed policies together, stay within that kind's allowed actions (wildcards expanded against the IAM " +
        "action list), its AWS managed policies within the allowed ones, and its S3 grants within the stack's own buckets and the data it names.",
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: async (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const judged: [PolicyResource, RoleKind][] = [];
        for (const role of index.of(T.role)) {
            const found = roleKinds(role);
            if (found === UNKNOWN) unchecked.add(`assumeRolePolicy of ${label(role)} (which service assumes it)`);
            else for (const kind of found) judged.push([role, kind]);
        }
        if (judged.length === 0) return unchecked.finish();

        const graph = new RoleGraph(index);
        const bucketsOfStack = stackBuckets(index, config);
        const allowedByKind = new Map<RoleKind, Set<string>>();
        for (const kind of kinds) allowedByKind.set(kind, await expandAll(config[kind.actionsKey]));

        for (const [role, kind] of judged) {
            const subject = `${label(role)} (${kind.what})`;
            const allowed = allowedByKind.get(kind) ?? new Set<string>();
            const perms = graph.permissions(role);
            for (const item of perms.unresolved) unchecked.add(`${item} (attached to ${label(role)})`);
            for (const { arn, via } of perms.opaqueManaged) {
                const policyName = managedPolicyName(arn);
                if (isAwsManagedPolicyArn(arn) && config[kind.managedKey].some((p) => globMatch(policyName, p))) continue;
                reportViolation(
                    `${subject} has managed policy ${policyName} (${arn}) attached by ${via}; it is not among ${name}.${kind.managedKey} ` +
                        `[${config[kind.managedKey].join(", ")}]. Detach it and grant only the needed actions on the stack's own resources in an inline aws.iam.RolePolicy.`,
                    role.urn,
                );
            }
            await judgeRoleStatements(role, perms, subject, unchecked, reportViolation, (statement, source) =>
                judge(statement, kind, allowed, bucketsOfStack, unchecked, source),
            );
        }
        for (const item of graph.unattached) unchecked.add(item);
        unchecked.finish();
    },
};

async function judge(
    statement: Statement,
    kind: RoleKind,
    allowed: Set<string>,
    stack: { names: Set<string>; complete: boolean },
    unchecked: Unchecked,
    source: string,
): Promise<string[]> {
    if (statement.effect !== "Allow") return [];
    const problems: string[] = [];
    const remedy = `Grant only actions in ${name}.${kind.actionsKey} (or extend it if the ${kind.what} really needs them).`;
    if (statement.notActions !== undefined) problems.push(`Allow with NotAction grants every action not listed. Use Action with the needed actions. ${remedy}`);
    if (statement.notResources !== undefined) problems.push("Allow with NotResource grants every resource not listed. Use Resource with the stack's own ARNs.");
    const granted: string[] = [];
    for (const pattern of statement.actions ?? []) {
        if (isAllActions(pattern)) {
            problems.push(`Action '${pattern}' grants every AWS action. ${remedy}`);
            continue;
        }
        const actions = await grantedActions(pattern);
        const extra = actions.filter((a) => !allowed.has(a.toLowerCase()));
        if (extra.length > 0) {
            const shown = extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... ${extra.length - 5} more` : "");
            problems.push(`Action '${pattern}' grants ${shown}, beyond what a ${kind.what} needs. ${remedy}`);
        }
        granted.push(...actions);
    }
    const s3Actions = granted.filter((a) => a.toLowerCase().startsWith("s3:"));
    if (s3Actions.length === 0) return problems;
    const scopes = await Promise.all(s3Actions.map(resourceScope));
    if (scopes.every((s) => s === "wildcard-only")) return problems;
    for (const resource of statement.resources ?? []) {
        const r = resource.trim();
        const match = s3Arn.exec(r);
        if (!match) {
            if (hasWildcard(r)) problems.push(`Resource '${r}' gives ${s3Actions.join(", ")} on every bucket. Name the stack's own bucket ARNs.`);
            continue;
        }
        const bucket = match[1];
        if (hasWildcard(bucket)) {
            problems.push(`Resource '${r}' matches any bucket named like '${bucket}'. Name the stack's own bucket (or a bucket listed in ${name}.allowedBuckets).`);
        } else if (!stack.names.has(bucket)) {
            if (!stack.complete) unchecked.add(`whether bucket '${bucket}' in ${statement.label} of ${source} is the stack's own (a bucket name is unknown)`);
            else
                problems.push(
                    `Resource '${r}' is in bucket '${bucket}', which this stack neither creates nor reads data from. ` +
                        `Grant S3 only on the stack's own buckets, or list the bucket in ${name}.allowedBuckets if the role must reach it.`,
                );
        }
    }
    return problems;
}
