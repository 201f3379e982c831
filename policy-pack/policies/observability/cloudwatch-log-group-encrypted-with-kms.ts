import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str } from "../../lib/unknown";

export const cloudwatchLogGroupEncryptedWithKms: ResourceValidationPolicy & Implements = {
    name: "cloudwatch-log-group-encrypted-with-kms",
    description:
        "Every CloudWatch log group encrypts its logs with a customer managed KMS key (kmsKeyId), so reading them takes kms:Decrypt under a key policy " +
        "you control, not only logs:GetLogEvents.",
    enforcementLevel: "mandatory",
    controls: ["Checkov CKV_AWS_158 / CKV_AWS_66 / CKV_AWS_338"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.logGroup) return;
        // CloudWatch Logs takes only customer managed keys, so any key (one unknown during preview included) is one.
        const key = str(args.props, "kmsKeyId");
        if (key === undefined || key === "") {
            reportViolation(
                `${label(args)} is encrypted with CloudWatch Logs' own key (no kmsKeyId). Set kmsKeyId to a customer managed key whose policy lets ` +
                    "logs.<region>.amazonaws.com use it for this log group (condition kms:EncryptionContext:aws:logs:arn).",
            );
        }
    },
};
