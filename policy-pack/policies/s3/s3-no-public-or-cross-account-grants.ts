import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { openGrants, trustedAccountsSchema } from "../../lib/grants";
import { parsePolicyDocument } from "../../lib/iam";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { collect, get, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "s3-no-public-or-cross-account-grants";

const configSchema = { properties: { trustedAccounts: trustedAccountsSchema } };

/** Canned ACLs that grant beyond the bucket owner's account. */
const publicAcls = new Set(["public-read", "public-read-write", "authenticated-read"]);
/** ACL grantee groups meaning everyone / every AWS account. */
const publicGroups = /\/global\/(AllUsers|AuthenticatedUsers)$/;

export const s3NoPublicOrCrossAccountGrants: ResourceValidationPolicy & Implements = {
    name,
    description:
        "No S3 bucket policy grants the public ('*', NotPrincipal) or another account without a caller condition, and no bucket ACL " +
        "(canned or explicit grants) opens the bucket to AllUsers or AuthenticatedUsers.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub S3.2/S3.3",
    ],
    configSchema,
    validateResource: (args, reportViolation) => {
        const unchecked = new Unchecked();
        if (args.type === T.bucketPolicy) {
            const { trustedAccounts } = args.getConfig<{ trustedAccounts: string[] }>();
            const document = get(args.props, "policy");
            const parsed = document === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(document);
            if (parsed.kind === "unknown") unchecked.add(`policy of ${label(args)}`);
            else if (parsed.kind === "invalid") reportViolation(`${label(args)}: policy is not a valid policy document (${parsed.error}). Fix it so it can be checked.`);
            else {
                for (const s of parsed.statements) if (s.unknownKeys.length > 0) unchecked.add(`${s.unknownKeys.join("/")} of ${s.label} in ${label(args)}`);
                for (const grant of openGrants(parsed, trustedAccounts)) {
                    reportViolation(
                        `${label(args)} ${grant.statement} grants ${grant.to} access to the bucket with no condition naming the caller. ` +
                            "Grant to the specific role or service that needs it, with a Condition on aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID " +
                            `(or list your own account in ${name}.trustedAccounts).`,
                    );
                }
            }
        } else if (args.type === T.bucketAcl || args.type === T.bucketAclV2 || args.type === T.bucket || args.type === T.bucketV2) {
            const acl = str(args.props, "acl");
            if (acl === UNKNOWN) unchecked.add(`acl of ${label(args)}`);
            else if (typeof acl === "string" && publicAcls.has(acl)) {
                reportViolation(`${label(args)} sets the canned ACL ${acl}, opening the bucket beyond its account. Remove the ACL (keep BucketOwnerEnforced object ownership) or use "private".`);
            }
            const paths = ["accessControlPolicy.grants[].grantee.uri", "grants[].uri"];
            for (const path of paths) {
                for (const [where, uri] of collect(args.props, path)) {
                    if (uri === UNKNOWN) unchecked.add(`${where} of ${label(args)}`);
                    else if (typeof uri === "string" && publicGroups.test(uri)) {
                        reportViolation(`${label(args)} grants ${uri.split("/").pop()} (${uri}) at ${where}. Remove the grant; grant specific accounts through the bucket policy instead.`);
                    }
                }
            }
        } else {
            return;
        }
        unchecked.finish();
    },
};
