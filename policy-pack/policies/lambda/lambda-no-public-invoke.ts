import { ResourceValidationPolicy } from "@pulumi/policy";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-no-public-invoke";

export const lambdaNoPublicInvoke: ResourceValidationPolicy = {
    name,
    description:
        "No aws.lambda.Permission lets any principal ('*') invoke a function without a sourceArn, sourceAccount or principalOrgId, and none opens an unauthenticated function URL.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaPermission) return;
        const unchecked = new Unchecked();
        const principal = str(args.props, "principal");
        const scoped = ["sourceArn", "sourceAccount", "principalOrgId"].some((k) => {
            const v = str(args.props, k);
            return v === UNKNOWN || (typeof v === "string" && v !== "");
        });
        if (principal === UNKNOWN) unchecked.add(`principal of ${label(args)}`);
        else if (principal === "*" && !scoped) {
            reportViolation(
                `${label(args)} lets any AWS principal ('*') invoke the function with no sourceArn, sourceAccount or principalOrgId. ` +
                    "Set principal to the calling service (e.g. apigateway.amazonaws.com) and sourceArn to the calling resource.",
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

