import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { tuningDefinitions } from "../../lib/training-jobs";
import { get, list, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-models-and-jobs-in-vpc";

/** Where each resource type states its VPC (subnets and security groups). */
const vpcPaths: Record<string, string> = {
    [T.model]: "vpcConfig",
    [T.trainingJob]: "vpcConfig",
    [T.dataQualityJobDefinition]: "networkConfig.vpcConfig",
};

export const sagemakerModelsAndJobsInVpc: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker models, training jobs, tuning job definitions and data quality monitoring jobs run their containers in your VPC (vpcConfig with " +
        "subnets and security groups), so their traffic passes your security groups, flow logs and VPC endpoints.",
    enforcementLevel: "advisory",
    controls: [
        "AWSConfig sagemaker-model-in-vpc",
        "Prowler sagemaker_models_vpc_settings_configured",
        "Prowler sagemaker_training_jobs_vpc_settings_configured",
    ],
    validateResource: (args, reportViolation) => {
        const paths =
            args.type === T.tuningJob
                ? undefined
                : vpcPaths[args.type] !== undefined
                  ? [vpcPaths[args.type]]
                  : null;
        if (paths === null) return;
        const unchecked = new Unchecked();
        const subject = label(args);
        const checked = paths ?? tuningDefinitions(args.props, subject, unchecked).map((prefix) => `${prefix}vpcConfig`);
        for (const path of checked) {
            const config = get(args.props, path);
            const subnets = config === UNKNOWN ? UNKNOWN : list(config, "subnets");
            const groups = config === UNKNOWN ? UNKNOWN : list(config, "securityGroupIds");
            if (subnets === UNKNOWN || groups === UNKNOWN) unchecked.add(`${path} of ${subject}`);
            else if (!subnets || subnets.length === 0 || !groups || groups.length === 0) {
                reportViolation(
                    `${subject} runs its containers outside your VPC (${path} ${config === undefined ? "unset" : "without subnets or security groups"}). ` +
                        `Set ${path}: { subnets: [<private subnet ids>], securityGroupIds: [<group id>] } with VPC endpoints (S3, ECR, CloudWatch) or a NAT for what the container reaches.`,
                );
            }
        }
        unchecked.finish();
    },
};
