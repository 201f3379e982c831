import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

export const lambdaCodeSigningRequired: ResourceValidationPolicy & Implements = {
    name: "lambda-code-signing-required",
    description:
        "A Lambda function packaged as a .zip archive has a code signing configuration (codeSigningConfigArn), so Lambda deploys only code signed by a " +
        "trusted AWS Signer profile.",
    enforcementLevel: "advisory",
    controls: ["Checkov CKV_AWS_272"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const unchecked = new Unchecked();
        const packageType = str(args.props, "packageType");
        const config = str(args.props, "codeSigningConfigArn");
        // A configuration ARN unknown during preview is a configuration all the same.
        if (config === UNKNOWN) return;
        if (packageType === UNKNOWN) unchecked.add(`packageType of ${label(args)}`);
        else if (packageType !== "Image" && !config) {
            reportViolation(
                `${label(args)} deploys whatever code it is given (no codeSigningConfigArn). Create an aws.signer.SigningProfile and an ` +
                    "aws.lambda.CodeSigningConfig enforcing it, sign the bundle, and set codeSigningConfigArn.",
            );
        }
        unchecked.finish();
    },
};
