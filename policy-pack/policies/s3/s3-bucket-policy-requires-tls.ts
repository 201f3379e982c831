import { StackValidationPolicy } from "@pulumi/policy";
import { bucketLabel, buckets, configurationsByBucket } from "../../lib/buckets";
import { Implements } from "../../lib/controls";
import { parsePolicyDocument } from "../../lib/iam";
import { label } from "../../lib/label";
import { resourcePolicyDenies } from "../../lib/simulate";
import { StackIndex, T } from "../../lib/stack";
import { get, raw, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "s3-bucket-policy-requires-tls";

/** Requests a TLS-only bucket policy must refuse over plain HTTP: reading and writing objects, listing the bucket. */
const probes = (bucket: string): [string, string][] => [
    ["s3:GetObject", `arn:aws:s3:::${bucket}/probe-key`],
    ["s3:PutObject", `arn:aws:s3:::${bucket}/probe-key`],
    ["s3:ListBucket", `arn:aws:s3:::${bucket}`],
];

const remedy =
    'Add to the bucket policy: { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [<bucket ARN>, "<bucket ARN>/*"], ' +
    'Condition: { Bool: { "aws:SecureTransport": "false" } } }.';

export const s3BucketPolicyRequiresTls: StackValidationPolicy & Implements = {
    name,
    description:
        "Every S3 bucket has a bucket policy that the IAM simulator shows refusing plain-HTTP requests (aws:SecureTransport false) to read, write " +
        "and list it, even from a principal of its own account allowed everything.",
    enforcementLevel: "mandatory",
    controls: ["SecurityHub S3.5"],
    validateStack: async (args, reportViolation) => {
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const policies = configurationsByBucket(index, [T.bucketPolicy], unchecked);
        const home = [...index.resources].map((r) => str(r.props, "arn")).find((a): a is string => typeof a === "string" && /^arn:[^:]+:[^:]+:[^:]*:\d{12}:/.test(a))?.split(":")[4] ?? "123456789012";
        for (const bucket of buckets(index)) {
            const documents: { where: string; value: unknown }[] = (policies.get(bucket) ?? []).map((p) => ({ where: label(p), value: get(p.props, "policy") }));
            const inline = get(bucket.props, "policy");
            if (inline !== undefined && inline !== "") documents.push({ where: `${label(bucket)} policy`, value: inline });
            if (documents.length === 0) {
                reportViolation(`${bucketLabel(bucket)} has no bucket policy, so it accepts requests over plain HTTP. ${remedy}`, bucket.urn);
                continue;
            }
            const bucketName = str(bucket.props, "bucket");
            let denies = false;
            const gaps: string[] = [];
            for (const { where, value } of documents) {
                const parsed = value === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(value);
                if (parsed.kind === "unknown" || bucketName === UNKNOWN || bucketName === undefined) {
                    unchecked.add(`whether the policy of ${where} refuses plain HTTP (${parsed.kind === "unknown" ? "the policy" : "the bucket name"} is unknown)`);
                    denies = true;
                    continue;
                }
                if (parsed.kind === "invalid") continue; // s3-no-public-or-cross-account-grants reports an invalid policy.
                const text = raw(value);
                const document = JSON.parse(typeof text === "string" ? text : JSON.stringify(text)) as object;
                const open: string[] = [];
                for (const [action, resource] of probes(bucketName)) {
                    const answer = await resourcePolicyDenies(document, action, resource, home, { "aws:SecureTransport": "false" });
                    if (answer.kind === "invalid") {
                        unchecked.undecidable(`the IAM simulator cannot read the policy of ${where} (${answer.error}), so whether it refuses plain HTTP is unknown`);
                        open.length = 0;
                        denies = true;
                        break;
                    }
                    if (answer.kind === "not denied") open.push(`${action} on ${resource}`);
                }
                if (open.length === 0) denies = true;
                else gaps.push(`${where} does not deny ${open.join(", ")}`);
            }
            if (!denies) {
                reportViolation(`${bucketLabel(bucket)} accepts requests over plain HTTP (aws:SecureTransport false): ${gaps.join("; ")}, as the IAM simulator decides. ${remedy}`, bucket.urn);
            }
        }
        unchecked.finish();
    },
};
