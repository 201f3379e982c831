import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { list, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-notebook-vpc-imdsv2-and-supported-platform";

const configSchema = {
    properties: {
        supportedPlatforms: {
            type: "array" as const,
            items: { type: "string" as const },
            minItems: 1,
            description:
                "Notebook platform identifiers AWS still supports with security updates. Default: notebook-al2023-v1 " +
                "(the Amazon Linux 2 platforms reached end of support with Amazon Linux 2 on 2026-06-30; AL1 and JupyterLab 1 ones earlier).",
            default: ["notebook-al2023-v1"],
        },
    },
};

export const sagemakerNotebookVpcImdsv2AndSupportedPlatform: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker notebook instances run in a subnet of your VPC with security groups (not SageMaker's own network), answer only IMDSv2 " +
        "(instanceMetadataServiceConfiguration.minimumInstanceMetadataServiceVersion \"2\") and run a platform AWS still supports (platformIdentifier).",
    enforcementLevel: "mandatory",
    configSchema,
    controls: [
        "SecurityHub SageMaker.2",
        "SecurityHub SageMaker.8",
        "AWSConfig sagemaker-notebook-instance-platform-version",
        "Prowler sagemaker_notebook_instance_vpc_settings_configured",
        "Checkov CKV_AWS_306",
        "Checkov CKV_AWS_371",
        "cdk-nag AwsSolutions-SM1",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.notebookInstance) return;
        const { supportedPlatforms } = args.getConfig<{ supportedPlatforms: string[] }>();
        const unchecked = new Unchecked();
        const subject = label(args);
        const subnet = str(args.props, "subnetId");
        const groups = list(args.props, "securityGroups");
        if (subnet === UNKNOWN || groups === UNKNOWN) unchecked.add(`subnetId and securityGroups of ${subject}`);
        else if (subnet === undefined || subnet === "" || !groups || groups.length === 0) {
            reportViolation(
                `${subject} does not run in your VPC (subnetId ${subnet ? "set" : "unset"}, securityGroups ${groups && groups.length > 0 ? "set" : "unset"}), so its network ` +
                    "traffic escapes your security groups, flow logs and VPC endpoints. Set subnetId to a private subnet and securityGroups to a group allowing only what the notebook needs.",
            );
        }
        const imds = str(args.props, "instanceMetadataServiceConfiguration.minimumInstanceMetadataServiceVersion");
        if (imds === UNKNOWN) unchecked.add(`instanceMetadataServiceConfiguration of ${subject}`);
        else if (imds !== "2") {
            reportViolation(
                `${subject} answers IMDSv1 (minimumInstanceMetadataServiceVersion ${imds ?? "unset, which SageMaker treats as 1"}), letting an SSRF in notebook code read the ` +
                    'execution role\'s credentials. Set instanceMetadataServiceConfiguration: { minimumInstanceMetadataServiceVersion: "2" }.',
            );
        }
        const platform = str(args.props, "platformIdentifier");
        if (platform === UNKNOWN) unchecked.add(`platformIdentifier of ${subject}`);
        else if (platform === undefined || !supportedPlatforms.includes(platform)) {
            reportViolation(
                `${subject} runs platform ${platform ?? "(unset: whatever SageMaker defaults to)"}, not one AWS still patches (${name}.supportedPlatforms: ` +
                    `${supportedPlatforms.join(", ")}). Set platformIdentifier to one of them.`,
            );
        }
        unchecked.finish();
    },
};
