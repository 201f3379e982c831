import { StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { bucketLabel, buckets, configurationsByBucket } from "../../lib/buckets";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { get, list, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "s3-server-side-encryption";

const configSchema = {
    properties: {
        requireKms: {
            type: "boolean" as const,
            description: "Require SSE-KMS (aws:kms or aws:kms:dsse) rather than any server-side encryption.",
            default: false,
        },
    },
};

export const s3ServerSideEncryption: StackValidationPolicy & Implements = {
    name,
    description: "Every S3 bucket has default server-side encryption configured explicitly (SSE-KMS when requireKms is set).",
    enforcementLevel: "advisory",
    controls: [],
    configSchema: configSchema,
    validateStack: (args, reportViolation) => {
        const { requireKms } = args.getConfig<{ requireKms: boolean }>();
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
                            `${requireKms ? ` (${name}.requireKms)` : ""}. Set sseAlgorithm to "aws:kms" with a KMS key.`,
                        bucket.urn,
                    );
                }
            }
        }
        unchecked.finish();
    },
};
