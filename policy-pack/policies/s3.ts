import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { readConfig } from "../lib/config";
import { label, StackIndex, T } from "../lib/stack";
import { bool, get, list, str, Unchecked, UNKNOWN } from "../lib/unknown";

const bucketTypes = [T.bucket, T.bucketV2];

/**
 * Maps each bucket to the resources of `types` that configure it (their `bucket` property holds the
 * bucket name, or is unknown and depends on the bucket). Configurations naming no bucket here are ignored.
 */
function configurationsByBucket(index: StackIndex, types: string[], unchecked: Unchecked): Map<PolicyResource, PolicyResource[]> {
    const result = new Map<PolicyResource, PolicyResource[]>();
    for (const type of types) {
        for (const configuration of index.of(type)) {
            const bucketName = str(configuration.props, "bucket");
            let buckets: PolicyResource[] = [];
            if (typeof bucketName === "string") {
                buckets = bucketTypes.flatMap((t) => index.find(t, bucketName, ["bucket", "id"]));
            } else if (bucketName === UNKNOWN) {
                buckets = (configuration.propertyDependencies?.bucket ?? []).filter((d) => bucketTypes.includes(d.type as (typeof bucketTypes)[number]));
                if (buckets.length === 0) unchecked.add(`which bucket ${label(configuration)} configures`);
            }
            for (const bucket of buckets) result.set(bucket, [...(result.get(bucket) ?? []), configuration]);
        }
    }
    return result;
}

function buckets(index: StackIndex): PolicyResource[] {
    return bucketTypes.flatMap((t) => index.of(t));
}

function bucketLabel(bucket: PolicyResource): string {
    const name = str(bucket.props, "bucket");
    return `${label(bucket)}${typeof name === "string" ? ` (${name})` : ""}`;
}

const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export const s3PublicAccessBlocked: StackValidationPolicy = {
    name: "s3-public-access-blocked",
    description: "Every S3 bucket has an aws.s3.BucketPublicAccessBlock with all four settings true.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const blocks = configurationsByBucket(index, [T.bucketPublicAccessBlock], unchecked);
        for (const bucket of buckets(index)) {
            const found = blocks.get(bucket) ?? [];
            if (found.length === 0) {
                reportViolation(
                    `${bucketLabel(bucket)} has no aws.s3.BucketPublicAccessBlock, so a bucket policy or ACL could make it public. ` +
                        `Add one for this bucket with ${flags.map((f) => `${f}: true`).join(", ")}.`,
                    bucket.urn,
                );
                continue;
            }
            for (const block of found) {
                const off: string[] = [];
                for (const flag of flags) {
                    const value = bool(block.props, flag);
                    if (value === UNKNOWN) unchecked.add(`${flag} of ${label(block)}`);
                    else if (value !== true) off.push(flag);
                }
                if (off.length > 0) {
                    reportViolation(`${label(block)} for ${bucketLabel(bucket)} leaves ${off.join(", ")} off. Set all four to true.`, block.urn);
                }
            }
        }
        unchecked.finish();
    },
};

const sseName = "s3-server-side-encryption";

const sseSchema = {
    properties: {
        requireKms: {
            type: "boolean" as const,
            description: "Require SSE-KMS (aws:kms or aws:kms:dsse) rather than any server-side encryption.",
            default: false,
        },
    },
};

export const s3ServerSideEncryption: StackValidationPolicy = {
    name: sseName,
    description: "Every S3 bucket has default server-side encryption configured explicitly (SSE-KMS when requireKms is set).",
    enforcementLevel: "advisory",
    configSchema: sseSchema,
    validateStack: (args, reportViolation) => {
        const { requireKms } = readConfig<{ requireKms: boolean }>(sseName, sseSchema, args.getConfig());
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const configs = configurationsByBucket(index, [T.bucketSse, T.bucketSseV2], unchecked);
        const want = requireKms ? "aws:kms" : "AES256 or aws:kms";
        for (const bucket of buckets(index)) {
            const algorithms: { where: string; value: unknown }[] = [];
            const inline = get(bucket.props, "serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.sseAlgorithm");
            if (inline !== undefined) algorithms.push({ where: `${label(bucket)} serverSideEncryptionConfiguration`, value: inline });
            for (const configuration of configs.get(bucket) ?? []) {
                const rules = list(configuration.props, "rules");
                if (rules === UNKNOWN) algorithms.push({ where: label(configuration), value: UNKNOWN });
                for (const rule of Array.isArray(rules) ? rules : []) {
                    algorithms.push({ where: label(configuration), value: rule === UNKNOWN ? UNKNOWN : get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") });
                }
            }
            if (algorithms.length === 0) {
                reportViolation(
                    `${bucketLabel(bucket)} has no server-side encryption configuration. Add an aws.s3.BucketServerSideEncryptionConfiguration ` +
                        `with applyServerSideEncryptionByDefault.sseAlgorithm ${want}.`,
                    bucket.urn,
                );
                continue;
            }
            for (const { where, value } of algorithms) {
                if (value === UNKNOWN) unchecked.add(`sseAlgorithm of ${where}`);
                else if (typeof value !== "string" || (requireKms && !value.startsWith("aws:kms")) || value === "") {
                    reportViolation(
                        `${where} encrypts ${bucketLabel(bucket)} with ${JSON.stringify(value ?? null)}, but ${want} is required` +
                            `${requireKms ? ` (${sseName}.requireKms)` : ""}. Set sseAlgorithm to "aws:kms" with a KMS key.`,
                        bucket.urn,
                    );
                }
            }
        }
        unchecked.finish();
    },
};
