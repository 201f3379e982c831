import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-no-public-invoke";

export const lambdaNoPublicInvoke: ResourceValidationPolicy & Implements = {
    name,
    description:
        "No aws.lambda.Permission lets any principal ('*') invoke a function without a sourceArn or principalOrgId (an account alone admits every " +
        "service resource in it), lets an AWS service principal (s3, apigateway, events...) invoke it without a sourceArn or sourceAccount " +
        "(any account's bucket or API could), or opens an unauthenticated function URL.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub Lambda.1",
        "Prowler awslambda_function_not_publicly_accessible",
        "Checkov CKV_AWS_301",
        "Checkov CKV_AWS_364",
        "cdk-nag LambdaFunctionPublicAccessProhibited",
        "cdk-nag LambdaStarPermissions",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaPermission) return;
        const unchecked = new Unchecked();
        const principal = str(args.props, "principal");
        const given = (key: string) => {
            const v = str(args.props, key);
            return v === UNKNOWN || (typeof v === "string" && v !== "");
        };
        if (principal === UNKNOWN) unchecked.add(`principal of ${label(args)}`);
        else if (principal === "*" && !given("sourceArn") && !given("principalOrgId")) {
            const only = given("sourceAccount") ? " (sourceAccount alone admits every resource of that account)" : "";
            reportViolation(
                `${label(args)} lets any AWS principal ('*') invoke the function with no sourceArn or principalOrgId${only}. ` +
                    "Set principal to the calling service (e.g. apigateway.amazonaws.com) and sourceArn to the calling resource.",
            );
        } else if (typeof principal === "string" && /\.amazonaws\.com(\.cn)?$/.test(principal) && !given("sourceArn") && !given("sourceAccount")) {
            reportViolation(
                `${label(args)} lets ${principal} invoke the function on behalf of any resource in any account (no sourceArn or sourceAccount): ` +
                    "a confused deputy. Set sourceArn to the calling resource (bucket, API, rule ARN) and sourceAccount to your account.",
            );
        }
        const urlAuth = str(args.props, "functionUrlAuthType");
        if (urlAuth === UNKNOWN) unchecked.add(`functionUrlAuthType of ${label(args)}`);
        else if (urlAuth === "NONE") {
            reportViolation(`${label(args)} allows unauthenticated function URL calls (functionUrlAuthType NONE). Use AWS_IAM.`);
        }
        unchecked.finish();
    },
};

