import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "cloudwatch-log-group-retention";

const configSchema = {
    properties: {
        minRetentionDays: {
            type: "integer" as const,
            minimum: 1,
            description: "Least retentionInDays of a log group (365 keeps the year of logs Checkov CKV_AWS_338 asks for).",
            default: 1,
        },
    },
};

/** The log group a function writes to: its loggingConfig.logGroup, else Lambda's default /aws/lambda/<name>. */
function logGroupOf(fn: PolicyResource): string | typeof UNKNOWN {
    const configured = str(fn.props, "loggingConfig.logGroup");
    if (typeof configured === "string" && configured !== "") return configured;
    const fnName = str(fn.props, "name");
    if (configured === UNKNOWN || fnName === UNKNOWN || fnName === undefined) return UNKNOWN;
    return `/aws/lambda/${fnName}`;
}

export const cloudwatchLogGroupRetention: StackValidationPolicy & Implements = {
    name,
    description:
        "Every CloudWatch log group of the stack expires its logs after at least minRetentionDays (never 'never expire'), and every Lambda function writes " +
        "to a log group the stack creates: otherwise Lambda creates /aws/lambda/<name> itself, kept forever and outside the stack.",
    enforcementLevel: "mandatory",
    configSchema,
    controls: ["Checkov CKV_AWS_158 / CKV_AWS_66 / CKV_AWS_338"],
    validateStack: (args, reportViolation) => {
        const { minRetentionDays } = args.getConfig<{ minRetentionDays: number }>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const groups = index.of(T.logGroup);
        const names = new Set<string>();
        let namesKnown = true;
        for (const group of groups) {
            const groupName = str(group.props, "name");
            if (typeof groupName === "string") names.add(groupName);
            else namesKnown = false;
            const days = num(group.props, "retentionInDays");
            if (days === UNKNOWN) unchecked.add(`retentionInDays of ${label(group)}`);
            else if (days === undefined || days === 0 || days < minRetentionDays) {
                reportViolation(
                    `${label(group)} keeps its logs ${days ? `${days} days, less than ${minRetentionDays} (${name}.minRetentionDays)` : "forever (retentionInDays unset)"}. ` +
                        `Set retentionInDays to at least ${minRetentionDays}${days ? "" : ", as long as the logs are needed and no longer"}.`,
                    group.urn,
                );
            }
        }
        for (const fn of index.of(T.lambdaFunction)) {
            const target = logGroupOf(fn);
            const dependsOnGroup = (fn.dependencies ?? []).some((d) => d.type === T.logGroup);
            if (target === UNKNOWN) {
                if (!dependsOnGroup) unchecked.add(`the log group of ${label(fn)}`);
                continue;
            }
            if (names.has(target) || (!namesKnown && dependsOnGroup)) continue;
            reportViolation(
                `${label(fn)} writes to log group ${target}, which this stack does not create: Lambda creates it on the first invocation, keeps its logs forever ` +
                    "and leaves it behind on destroy. Create an aws.cloudwatch.LogGroup with that name and a retentionInDays (or point loggingConfig.logGroup at one).",
                fn.urn,
            );
        }
        unchecked.finish();
    },
};
