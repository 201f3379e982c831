import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { openGrants } from "../../lib/grants";
import { parsePolicyDocument } from "../../lib/iam";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { get, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "kms-key-policy-no-public-access";

export const kmsKeyPolicyNoPublicAccess: ResourceValidationPolicy & Implements = {
    name,
    description:
        "No KMS key policy (aws.kms.Key policy or aws.kms.KeyPolicy) lets '*' or NotPrincipal (everyone) use or manage the key without a caller " +
        "condition (kms:CallerAccount, kms:ViaService, aws:PrincipalOrgID...).",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub KMS.5",
        "Checkov CKV_AWS_33",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.kmsKey && args.type !== T.kmsKeyPolicy) return;
        const unchecked = new Unchecked();
        const document = get(args.props, "policy");
        // Without a policy, KMS applies its default key policy: the key's own account only.
        if (document === undefined || document === "") return;
        const parsed = document === UNKNOWN ? ({ kind: "unknown" } as const) : parsePolicyDocument(document);
        if (parsed.kind === "unknown") unchecked.add(`policy of ${label(args)}`);
        else if (parsed.kind === "invalid") reportViolation(`${label(args)}: policy is not a valid key policy (${parsed.error}). Fix it so it can be checked.`);
        else {
            for (const s of parsed.statements) if (s.unknownKeys.length > 0) unchecked.add(`${s.unknownKeys.join("/")} of ${s.label} in ${label(args)}`);
            for (const grant of openGrants(parsed, "any")) {
                const actions = parsed.statements.find((s) => s.label === grant.statement)?.actions ?? [];
                reportViolation(
                    `${label(args)} ${grant.statement} lets ${grant.to} ${actions.length > 0 ? actions.join(", ") : "act"} on the key with no condition naming the caller. ` +
                        "Grant the key's own account root (arn:aws:iam::<account>:root) and the roles that use it, or add a Condition on kms:CallerAccount/kms:ViaService.",
                );
            }
        }
        unchecked.finish();
    },
};
