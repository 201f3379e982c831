import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { instancesOf, tuningDefinitions } from "../../lib/training-jobs";
import { bool, num, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-distributed-jobs-encrypt-inter-container-traffic";

export const sagemakerDistributedJobsEncryptInterContainerTraffic: ResourceValidationPolicy & Implements = {
    name,
    description:
        "A SageMaker training job or tuning job definition on more than one instance, and every data quality monitoring job definition, encrypts the " +
        "traffic between its instances (enableInterContainerTrafficEncryption); a single-instance training job has no such traffic.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub SageMaker.9/.13/.15/.22",
        "Prowler sagemaker_training_jobs_intercontainer_encryption_enabled",
        "Checkov CKV_AWS_367/368/369",
    ],
    validateResource: (args, reportViolation) => {
        const unchecked = new Unchecked();
        const subject = label(args);
        const require = (flagPath: string, why: string) => {
            const enabled = bool(args.props, flagPath);
            if (enabled === UNKNOWN) unchecked.add(`${flagPath} of ${subject}`);
            else if (enabled !== true) {
                reportViolation(
                    `${subject} ${why} without encrypting the traffic between them (${flagPath} ${enabled ?? "unset, which SageMaker treats as false"}): ` +
                        `gradients, parameters and data cross the network in the clear. Set ${flagPath}: true.`,
                );
            }
        };
        if (args.type === T.trainingJob || args.type === T.tuningJob) {
            const prefixes = args.type === T.trainingJob ? [""] : tuningDefinitions(args.props, subject, unchecked);
            for (const prefix of prefixes) {
                const count = instancesOf(args.props, prefix, subject, unchecked);
                if (count !== undefined && count > 1) require(`${prefix}enableInterContainerTrafficEncryption`, `runs ${args.type === T.tuningJob ? "each trial" : "its job"} on ${count} instances`);
            }
        } else if (args.type === T.dataQualityJobDefinition) {
            const count = num(args.props, "jobResources.clusterConfig.instanceCount");
            require("networkConfig.enableInterContainerTrafficEncryption", `runs its monitoring job on ${typeof count === "number" ? count : "its"} instance${count === 1 ? "" : "s"}`);
        } else {
            return;
        }
        unchecked.finish();
    },
};
