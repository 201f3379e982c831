import { StackValidationPolicy } from "@pulumi/policy";
import { bucketLabel, buckets, configurationsByBucket } from "../../lib/buckets";
import { Implements } from "../../lib/controls";
import { StackIndex, T } from "../../lib/stack";
import { get, Unchecked } from "../../lib/unknown";

export const s3ServerAccessLogging: StackValidationPolicy & Implements = {
    name: "s3-server-access-logging",
    description:
        "Every S3 bucket that is not itself a log target records server access logs (aws.s3.BucketLogging, or the bucket's logging block), so who read " +
        "or wrote which object can be traced.",
    enforcementLevel: "advisory",
    controls: ["SecurityHub S3.9"],
    validateStack: (args, reportViolation) => {
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const logging = configurationsByBucket(index, [T.bucketLogging, T.bucketLoggingV2], unchecked);
        // A bucket other buckets log into would log about itself without end.
        const targets = new Set([...logging.values()].flat().map((l) => get(l.props, "targetBucket")));
        for (const bucket of buckets(index)) {
            if ((logging.get(bucket) ?? []).length > 0 || get(bucket.props, "logging") !== undefined) continue;
            if (targets.has(get(bucket.props, "bucket")) || targets.has(get(bucket.props, "id"))) continue;
            reportViolation(
                `${bucketLabel(bucket)} records no server access logs. Add an aws.s3.BucketLogging sending them to a log bucket of the account (or rely on CloudTrail S3 data events).`,
                bucket.urn,
            );
        }
        unchecked.finish();
    },
};
