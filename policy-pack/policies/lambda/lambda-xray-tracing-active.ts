import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

export const lambdaXrayTracingActive: ResourceValidationPolicy & Implements = {
    name: "lambda-xray-tracing-active",
    description:
        "Lambda functions trace with AWS X-Ray (tracingConfig.mode \"Active\"), so a slow or failing call can be followed into the services it reaches; " +
        "the role then needs the X-Ray writes lambda-role-least-privilege allows a traced function.",
    enforcementLevel: "advisory",
    controls: ["SecurityHub Lambda.7", "Checkov CKV_AWS_50", "cdk-nag LambdaTracing (Serverless)"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const unchecked = new Unchecked();
        const mode = str(args.props, "tracingConfig.mode");
        if (mode === UNKNOWN) unchecked.add(`tracingConfig.mode of ${label(args)}`);
        else if (mode !== "Active") {
            reportViolation(
                `${label(args)} does not trace with X-Ray (tracingConfig.mode ${mode ?? "unset"}). Set tracingConfig: { mode: "Active" } and grant its role ` +
                    "xray:PutTraceSegments and xray:PutTelemetryRecords on \"*\".",
            );
        }
        unchecked.finish();
    },
};
