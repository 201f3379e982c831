import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { managedPolicyName, parsePolicyDocument } from "../../lib/iam";
import { OwnResources, ownResources } from "../../lib/own-resources";
import { reportReach, SimulationCache } from "../../lib/simulate";
import { label } from "../../lib/label";
import { principalsOf } from "../../lib/principals";
import { effectiveDocuments, expandAll, judgeActions, judgeRoleStatements, RoleGraph } from "../../lib/roles";
import { StackIndex, T } from "../../lib/stack";
import { get, Unchecked, UNKNOWN } from "../../lib/unknown";

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
        sagemakerAllowedResources: stringList(
            "ARN patterns a SageMaker role may reach besides the stack's own resources and those its resources name (image URIs, ARNs); " +
                "${Partition}, ${Region}, ${Account} stand for the stack's. Default: its /aws/sagemaker/* log groups and the PyTorch Deep Learning " +
                "Containers (registry account 763104351884 serves most regions; add yours if it differs).",
            [
                "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/sagemaker/*",
                "arn:${Partition}:ecr:${Region}:763104351884:repository/pytorch-training",
                "arn:${Partition}:ecr:${Region}:763104351884:repository/pytorch-inference",
            ],
        ),
        ec2AllowedResources: stringList(
            "ARN patterns an EC2 role may reach besides the stack's own resources and those its resources name; ${Partition}, ${Region}, ${Account} stand for the stack's.",
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
    sagemakerAllowedResources: string[];
    ec2AllowedResources: string[];
}

interface RoleKind {
    service: string;
    what: string;
    actionsKey: "sagemakerAllowedActions" | "ec2AllowedActions";
    managedKey: "sagemakerAllowedManagedPolicies" | "ec2AllowedManagedPolicies";
    resourcesKey: "sagemakerAllowedResources" | "ec2AllowedResources";
}

const kinds: RoleKind[] = [
    {
        service: "sagemaker.amazonaws.com",
        what: "SageMaker execution role",
        actionsKey: "sagemakerAllowedActions",
        managedKey: "sagemakerAllowedManagedPolicies",
        resourcesKey: "sagemakerAllowedResources",
    },
    {
        service: "ec2.amazonaws.com",
        what: "EC2 instance role",
        actionsKey: "ec2AllowedActions",
        managedKey: "ec2AllowedManagedPolicies",
        resourcesKey: "ec2AllowedResources",
    },
];

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

export const iamServiceRoleLeastPrivilege: StackValidationPolicy & Implements = {
    name,
    description:
        "The effective permissions of every role the stack creates for SageMaker (trusted by sagemaker.amazonaws.com) or EC2 (ec2.amazonaws.com), " +
        "all its inline, RolePolicy, customer and AWS managed policies together, stay within that kind's allowed actions (wildcards expanded against the IAM " +
        "action list) and, as the IAM simulator decides with conditions evaluated, within the stack's own resources (buckets, log groups, image " +
        "repositories, KMS keys, SageMaker resources) and the ones its config names.",
    enforcementLevel: "mandatory",
    controls: [
        "Checkov CKV2_AWS_68",
        "SecurityHub KMS.1/KMS.2",
        "Checkov CKV_AWS_286 / 287 / 288 / 289 / 290",
        "cdk-nag AwsSolutions-IAM5",
    ],
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
        const simulations: SimulationCache = new Map();
        const allowedByKind = new Map<RoleKind, string[]>();
        const ownByKind = new Map<RoleKind, OwnResources>();
        for (const kind of kinds) {
            allowedByKind.set(kind, await expandAll(config[kind.actionsKey]));
            if (judged.some(([, k]) => k === kind)) ownByKind.set(kind, ownResources(index, config[kind.resourcesKey], config.allowedBuckets));
        }

        for (const [role, kind] of judged) {
            const subject = `${label(role)} (${kind.what})`;
            const allowed = allowedByKind.get(kind) ?? [];
            const perms = graph.permissions(role);
            for (const item of perms.unresolved) unchecked.add(`${item} (attached to ${label(role)})`);
            const documents = effectiveDocuments(perms, config[kind.managedKey], (arn, via, aws) =>
                reportViolation(
                    `${subject} has managed policy ${managedPolicyName(arn)} (${arn}) attached by ${via}, whose document ${aws ? "is not among AWS's published ones" : "is not in this stack"}, ` +
                        `so its permissions cannot be checked. Detach it and grant only the needed actions on the stack's own resources in an inline aws.iam.RolePolicy ` +
                        `(or list it in ${name}.${kind.managedKey}).`,
                    role.urn,
                ),
            );
            const granted = new Set<string>();
            await judgeRoleStatements(role, { ...perms, documents }, subject, unchecked, reportViolation, (statement) =>
                judgeActions(statement, allowed, granted, `a ${kind.what}`, `Grant only actions in ${name}.${kind.actionsKey} (or extend it if the ${kind.what} really needs them).`),
            );
            const own = ownByKind.get(kind);
            if (!own) continue;
            await reportReach(simulations, role, subject, documents, granted, own, unchecked, reportViolation, (breach) =>
                `or list the resource in ${name}.${kind.resourcesKey}${breach.action.toLowerCase().startsWith("s3:") ? ` (buckets: ${name}.allowedBuckets)` : ""} if the role must reach it.`,
            );
        }
        for (const item of graph.unattached) unchecked.add(item);
        unchecked.finish();
    },
};
