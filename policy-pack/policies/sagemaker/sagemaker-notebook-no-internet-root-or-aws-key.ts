import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-notebook-no-internet-root-or-aws-key";

export const sagemakerNotebookNoInternetRootOrAwsKey: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker notebook instances have direct internet access and root access disabled and encrypt their storage volume with a customer KMS key " +
        "(SageMaker enables internet and root access when these are unset).",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub SageMaker.1",
        "SecurityHub SageMaker.3",
        "SecurityHub SageMaker.21",
        "Prowler sagemaker_notebook_instance_encryption_enabled",
        "Prowler sagemaker_notebook_instance_root_access_disabled",
        "Prowler sagemaker_notebook_instance_without_direct_internet_access_configured",
        "Checkov CKV_AWS_122",
        "Checkov CKV_AWS_307",
        "Checkov CKV_AWS_22 / CKV_AWS_187",
        "cdk-nag AwsSolutions-SM2",
        "cdk-nag AwsSolutions-SM3",
    ],
    validateResource: (args, reportViolation) => {
        if (args.type !== T.notebookInstance) return;
        const unchecked = new Unchecked();
        const internet = str(args.props, "directInternetAccess");
        if (internet === UNKNOWN) unchecked.add(`directInternetAccess of ${label(args)}`);
        else if (internet !== "Disabled") {
            reportViolation(
                `${label(args)} has direct internet access (directInternetAccess ${internet ?? "unset, which SageMaker treats as Enabled"}), so code in the notebook can ` +
                    'reach and be reached from the internet outside your VPC. Set directInternetAccess: "Disabled" with a subnetId and securityGroups (and a NAT or VPC endpoints).',
            );
        }
        const root = str(args.props, "rootAccess");
        if (root === UNKNOWN) unchecked.add(`rootAccess of ${label(args)}`);
        else if (root !== "Disabled") {
            reportViolation(
                `${label(args)} gives notebook users root (rootAccess ${root ?? "unset, which SageMaker treats as Enabled"}), so they can change the instance's software and lifecycle setup. ` +
                    'Set rootAccess: "Disabled".',
            );
        }
        const key = str(args.props, "kmsKeyId");
        if (key === UNKNOWN) unchecked.add(`kmsKeyId of ${label(args)}`);
        else if (key === undefined || key === "") {
            reportViolation(`${label(args)} has no kmsKeyId, so its storage volume is encrypted with an AWS-owned key you cannot audit or revoke. Set kmsKeyId to a KMS key ARN.`);
        }
        unchecked.finish();
    },
};
