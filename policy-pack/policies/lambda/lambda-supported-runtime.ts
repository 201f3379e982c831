import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { RUNTIME_DEPRECATION } from "../../lib/lambda-runtimes";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-supported-runtime";

const configSchema = {
    properties: {
        acceptedDeprecatedRuntimes: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Deprecated runtimes a function may still use, deliberately (e.g. during a migration). Every other deprecated runtime is refused.",
            default: [] as string[],
        },
    },
};

export const lambdaSupportedRuntime: ResourceValidationPolicy & Implements = {
    name,
    description:
        "A Lambda function packaged as a .zip archive uses a runtime AWS has not deprecated (deprecated runtimes get no security patches), by the " +
        "deprecation dates of AWS's runtime schedule shipped with the pack; a container image function brings its own runtime.",
    enforcementLevel: "mandatory",
    configSchema,
    controls: [
        "SecurityHub Lambda.2",
        "Prowler awslambda_function_using_supported_runtimes",
        "Checkov CKV_AWS_363",
        "AWSConfig lambda-function-settings-check",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.lambdaFunction) return;
        const { acceptedDeprecatedRuntimes } = args.getConfig<{ acceptedDeprecatedRuntimes: string[] }>();
        const unchecked = new Unchecked();
        const runtime = str(args.props, "runtime");
        const packageType = str(args.props, "packageType");
        if (runtime === UNKNOWN || packageType === UNKNOWN) unchecked.add(`runtime and packageType of ${label(args)}`);
        else if (packageType === "Image") return;
        else if (runtime === undefined) reportViolation(`${label(args)} is a .zip function with no runtime. Set runtime to a supported one, e.g. nodejs22.x.`);
        else if (!acceptedDeprecatedRuntimes.includes(runtime)) {
            const deprecated = RUNTIME_DEPRECATION[runtime];
            const supported = Object.entries(RUNTIME_DEPRECATION).filter(([, date]) => Date.parse(date) > Date.now()).map(([r]) => r);
            if (deprecated === undefined) {
                unchecked.undecidable(`the runtime ${runtime} of ${label(args)} is not in the pack's deprecation schedule; check it against AWS's Lambda runtimes page`);
            } else if (Date.parse(deprecated) <= Date.now()) {
                reportViolation(
                    `${label(args)} uses ${runtime}, which AWS deprecated on ${deprecated}: it gets no security patches, and AWS blocks updates to it later. ` +
                        `Move to a supported runtime (${supported.join(", ")}), or list ${runtime} in ${name}.acceptedDeprecatedRuntimes while migrating.`,
                );
            }
        }
        unchecked.finish();
    },
};
