import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { num, Unchecked, UNKNOWN } from "../../lib/unknown";

/** Lambda's defaults, which nobody chose for the workload. */
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_TIMEOUT_S = 3;

export const lambdaExplicitMemoryAndTimeout: ResourceValidationPolicy & Implements = {
    name: "lambda-explicit-memory-and-timeout",
    description: `A Lambda function sets memorySize and timeout for its workload rather than Lambda's defaults (${DEFAULT_MEMORY_MB} MB, ${DEFAULT_TIMEOUT_S} s).`,
    enforcementLevel: "advisory",
    controls: ["cdk-nag LambdaDefaultMemorySize / LambdaDefaultTimeout (Serverless)", "AWSConfig lambda-function-settings-check"],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const unchecked = new Unchecked();
        for (const [key, fallback, unit] of [["memorySize", DEFAULT_MEMORY_MB, "MB"], ["timeout", DEFAULT_TIMEOUT_S, "s"]] as const) {
            const value = num(args.props, key);
            if (value === UNKNOWN) unchecked.add(`${key} of ${label(args)}`);
            else if (value === undefined || value === fallback) {
                reportViolation(`${label(args)} runs with Lambda's default ${key} (${fallback} ${unit}). Set ${key} to what the function needs (in this project: api.memoryMb, api.timeoutSeconds).`);
            }
        }
        unchecked.finish();
    },
};
