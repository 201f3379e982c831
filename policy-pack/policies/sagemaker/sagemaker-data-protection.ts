import { ResourceValidationPolicy } from "@pulumi/policy";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { bool, collect, get, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-data-protection";

const configSchema = {
    properties: {
        requireNetworkIsolation: {
            type: "boolean" as const,
            description: "Require enableNetworkIsolation on models, training jobs and tuning job definitions.",
            default: false,
        },
    },
};

/** KMS key paths per resource type: data at rest SageMaker would otherwise encrypt with an AWS-owned key. */
const kmsPaths: Record<string, string[]> = {
    [T.endpointConfiguration]: ["kmsKeyArn"],
    [T.trainingJob]: ["outputDataConfig.kmsKeyId"],
    [T.tuningJob]: ["trainingJobDefinition.outputDataConfig.kmsKeyId", "trainingJobDefinitions[].outputDataConfig.kmsKeyId"],
};

const isolationPaths: Record<string, string[]> = {
    [T.model]: ["enableNetworkIsolation"],
    [T.trainingJob]: ["enableNetworkIsolation"],
    [T.tuningJob]: ["trainingJobDefinition.enableNetworkIsolation", "trainingJobDefinitions[].enableNetworkIsolation"],
};

export const sagemakerDataProtection: ResourceValidationPolicy = {
    name,
    description:
        "SageMaker endpoint configurations, training and tuning jobs encrypt their data with a customer KMS key; models and jobs run network-isolated where the config asks for it.",
    enforcementLevel: "advisory",
    configSchema,
    validateResource: (args, reportViolation) => {
        const kms = kmsPaths[args.type];
        const isolation = isolationPaths[args.type];
        if (!kms && !isolation) return;
        const { requireNetworkIsolation } = args.getConfig<{ requireNetworkIsolation: boolean }>();
        const unchecked = new Unchecked();
        const subject = label(args);
        for (const path of kms ?? []) {
            // A tuning job uses one of its two definition shapes; only check the one present.
            if (path.startsWith("trainingJobDefinition") && get(args.props, path.split(/[.[]/)[0]) === undefined) continue;
            for (const [where, value] of collect(args.props, path)) {
                if (value === UNKNOWN) unchecked.add(`${where} of ${subject}`);
                else if (typeof value !== "string" || value === "") {
                    reportViolation(`${subject} has no KMS key at ${where}, so its data is encrypted with an AWS-owned key you cannot audit or revoke. Set ${where} to a KMS key ARN.`);
                }
            }
        }
        if (requireNetworkIsolation) {
            for (const path of isolation ?? []) {
                if (path.startsWith("trainingJobDefinition") && get(args.props, path.split(/[.[]/)[0]) === undefined) continue;
                for (const [where, value] of collect(args.props, path)) {
                    const enabled = value === UNKNOWN ? UNKNOWN : bool({ value }, "value");
                    if (enabled === UNKNOWN) unchecked.add(`${where} of ${subject}`);
                    else if (enabled !== true) {
                        reportViolation(`${subject} does not set ${where}: true (${name}.requireNetworkIsolation), so the container can reach the network. Set it to true.`);
                    }
                }
            }
        }
        unchecked.finish();
    },
};
