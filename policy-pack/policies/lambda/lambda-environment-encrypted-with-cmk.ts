import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { get, str, Unchecked, UNKNOWN } from "../../lib/unknown";

export const lambdaEnvironmentEncryptedWithCmk: ResourceValidationPolicy & Implements = {
    name: "lambda-environment-encrypted-with-cmk",
    description:
        "A Lambda function with environment variables encrypts them with a customer managed KMS key (kmsKeyArn) rather than Lambda's AWS managed key, " +
        "so who may read them is decided by a key policy you control.",
    enforcementLevel: "advisory",
    controls: ["Checkov CKV_AWS_173", "Prowler awslambda_function_env_vars_not_encrypted_with_cmk"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const unchecked = new Unchecked();
        const variables = get(args.props, "environment.variables");
        // A key ARN unknown during preview is a key all the same: Lambda's own key is the one you leave unset.
        const key = str(args.props, "kmsKeyArn");
        if (key === UNKNOWN) return;
        if (variables === UNKNOWN) unchecked.add(`environment of ${label(args)}`);
        else if (variables !== null && typeof variables === "object" && Object.keys(variables).length > 0 && !key) {
            reportViolation(`${label(args)} encrypts its environment variables with Lambda's AWS managed key. Set kmsKeyArn to a customer managed key.`);
        }
        unchecked.finish();
    },
};
