import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { num, Unchecked, UNKNOWN } from "../../lib/unknown";

export const lambdaReservedConcurrencySet: ResourceValidationPolicy & Implements = {
    name: "lambda-reserved-concurrency-set",
    description:
        "A Lambda function reserves its concurrency (reservedConcurrentExecutions of at least 1), which both guarantees it capacity and caps how far a " +
        "flood of requests can scale it (and its cost, and the endpoint behind it).",
    enforcementLevel: "advisory",
    controls: ["AWSConfig lambda-concurrency-check", "Checkov CKV_AWS_115", "cdk-nag LambdaConcurrency"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const unchecked = new Unchecked();
        const reserved = num(args.props, "reservedConcurrentExecutions");
        if (reserved === UNKNOWN) unchecked.add(`reservedConcurrentExecutions of ${label(args)}`);
        else if (reserved === undefined || reserved < 1) {
            reportViolation(
                `${label(args)} has no concurrency limit of its own (reservedConcurrentExecutions ${reserved ?? "unset"}), so a flood of requests can take the ` +
                    "account's whole concurrency and scale its cost without bound. Set reservedConcurrentExecutions (in this project: api.reservedConcurrency).",
            );
        }
        unchecked.finish();
    },
};
