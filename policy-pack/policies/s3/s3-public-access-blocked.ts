import { StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { bucketLabel, buckets, configurationsByBucket } from "../../lib/buckets";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { bool, Unchecked, UNKNOWN } from "../../lib/unknown";

const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export const s3PublicAccessBlocked: StackValidationPolicy & Implements = {
    name: "s3-public-access-blocked",
    description: "Every S3 bucket has an aws.s3.BucketPublicAccessBlock with all four settings true.",
    enforcementLevel: "advisory",
    controls: [
        "SecurityHub S3.1/S3.8",
    ],
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

