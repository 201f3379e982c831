/** S3 buckets and the separate resources that configure them (access blocks, encryption, policies). */
import { PolicyResource } from "@pulumi/policy";
import { label } from "./label";
import { StackIndex, T } from "./stack";
import { str, Unchecked, UNKNOWN } from "./unknown";

const bucketTypes = [T.bucket, T.bucketV2];

/**
 * Maps each bucket to the resources of `types` that configure it (their `bucket` property holds the
 * bucket name, or is unknown and depends on the bucket). Configurations naming no bucket here are ignored.
 */
export function configurationsByBucket(index: StackIndex, types: string[], unchecked: Unchecked): Map<PolicyResource, PolicyResource[]> {
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

export function buckets(index: StackIndex): PolicyResource[] {
    return bucketTypes.flatMap((t) => index.of(t));
}

/** The bucket's label with its bucket name when known: "Bucket 'data' (my-data-bucket)". */
export function bucketLabel(bucket: PolicyResource): string {
    const name = str(bucket.props, "bucket");
    return `${label(bucket)}${typeof name === "string" ? ` (${name})` : ""}`;
}
