import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
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
    [T.trainingJob]: ["outputDataConfig.kmsKeyId", "resourceConfig.volumeKmsKeyId"],
    [T.tuningJob]: [
        "trainingJobDefinition.outputDataConfig.kmsKeyId",
        "trainingJobDefinition.resourceConfig.volumeKmsKeyId",
        "trainingJobDefinitions[].outputDataConfig.kmsKeyId",
        "trainingJobDefinitions[].resourceConfig.volumeKmsKeyId",
    ],
    [T.dataQualityJobDefinition]: ["dataQualityJobOutputConfig.kmsKeyId", "jobResources.clusterConfig.volumeKmsKeyId"],
    [T.sagemakerDomain]: ["kmsKeyId"],
};

const isolationPaths: Record<string, string[]> = {
    [T.model]: ["enableNetworkIsolation"],
    [T.trainingJob]: ["enableNetworkIsolation"],
    [T.tuningJob]: ["trainingJobDefinition.enableNetworkIsolation", "trainingJobDefinitions[].enableNetworkIsolation"],
    [T.dataQualityJobDefinition]: ["networkConfig.enableNetworkIsolation"],
};

const isolation = "requireNetworkIsolation: true";

export const sagemakerDataProtection: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker endpoint configurations, training and tuning jobs (output and ML storage volume), data quality monitoring job definitions and Studio " +
        "domains encrypt their data with a customer KMS key; models and jobs run network-isolated where the config asks for it.",
    enforcementLevel: "advisory",
    configSchema,
    controls: [
        "AWSConfig sagemaker-endpoint-configuration-kms-key-configured",
        "Prowler sagemaker_endpoint_config_kms_encryption_enabled",
        "Prowler sagemaker_training_jobs_volume_and_output_encryption_enabled",
        "Checkov CKV_AWS_98",
        "Checkov CKV_AWS_22 / CKV_AWS_187",
        "Checkov CKV_AWS_367/368/369",
        "cdk-nag *-SageMakerEndpointConfigurationKMSKeyConfigured (HIPAA/NIST/PCI)",
        { id: "SecurityHub SageMaker.5", when: isolation },
        { id: "SecurityHub SageMaker.11/.12/.14/.20/.25", when: isolation },
        { id: "Prowler sagemaker_models_network_isolation_enabled", when: isolation },
        { id: "Prowler sagemaker_training_jobs_network_isolation_enabled", when: isolation },
        { id: "Checkov CKV_AWS_370", when: isolation },
    ],
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
