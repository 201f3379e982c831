import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-function-url-iam-auth";

export const lambdaFunctionUrlIamAuth: ResourceValidationPolicy & Implements = {
    name,
    description: "Lambda function URLs use AWS_IAM authorization, never NONE.",
    enforcementLevel: "mandatory",
    controls: [
        "Prowler awslambda_function_url_public",
        "Checkov CKV_AWS_258",
        "cdk-nag LambdaFunctionUrlAuth",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.functionUrl) return;
        const auth = str(args.props, "authorizationType");
        if (auth === UNKNOWN) {
            const unchecked = new Unchecked();
            unchecked.add(`authorizationType of ${label(args)}`);
            unchecked.finish();
        } else if (auth !== "AWS_IAM") {
            reportViolation(
                `${label(args)} has authorizationType ${auth ?? "(unset)"}, so anyone on the internet can invoke the function. ` +
                    "Set authorizationType: \"AWS_IAM\" and grant lambda:InvokeFunctionUrl to the callers.",
            );
        }
    },
};
