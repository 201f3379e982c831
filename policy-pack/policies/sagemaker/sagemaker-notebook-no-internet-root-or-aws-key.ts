import { ResourceValidationPolicy } from "@pulumi/policy";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-notebook-no-internet-root-or-aws-key";

export const sagemakerNotebookNoInternetRootOrAwsKey: ResourceValidationPolicy = {
    name,
    description:
        "SageMaker notebook instances have direct internet access and root access disabled and encrypt their storage volume with a customer KMS key " +
        "(SageMaker enables internet and root access when these are unset).",
    enforcementLevel: "mandatory",
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
