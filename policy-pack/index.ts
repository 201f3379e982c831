import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("sagemaker-classifier-policies", {
    description:
        "Rejects over-broad IAM (managed policies, wildcards, Lambda roles beyond least privilege), unsafe EC2/S3/Lambda exposure, " +
        "and SageMaker inference stacks without provisioned concurrency or endpoint auto-scaling.",
    policies,
});
