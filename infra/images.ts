/**
 * The AWS Deep Learning Containers for PyTorch, resolved for the stack's region by the provider's own table of
 * registry accounts (they differ by region), as the SageMaker Python SDK's `image_uris.retrieve` does.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isGpuInstanceType, StackConfig } from "./config";

export interface ContainerImage {
    uri: pulumi.Output<string>;
    /** The ECR repository's ARN, for least-privilege pull permissions. */
    repositoryArn: pulumi.Output<string>;
}

const REGISTRY_PATH = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)[:@]/;

function repositoryArnOf(registryPath: string, partition: string): string {
    const match = REGISTRY_PATH.exec(registryPath);
    if (!match) throw new Error(`unexpected container image URI ${registryPath}: expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`);
    const [, account, region, repository] = match;
    return `arn:${partition}:ecr:${region}:${account}:repository/${repository}`;
}

export function pytorchImage(
    scope: "training" | "inference",
    imageTag: string,
    partition: pulumi.Input<string>,
    opts: pulumi.InvokeOutputOptions,
): ContainerImage {
    const uri = aws.sagemaker.getPrebuiltEcrImageOutput({ repositoryName: `pytorch-${scope}`, imageTag }, opts).registryPath;
    return {
        uri,
        repositoryArn: pulumi.all([uri, partition]).apply(([path, part]) => repositoryArnOf(path, part)),
    };
}

/** The training container's tag for an instance type: the CUDA build on GPU instances, the CPU build elsewhere. */
export function trainingImageTag(instanceType: string, images: StackConfig["images"]): string {
    return isGpuInstanceType(instanceType) ? images.pytorchTrainingGpuTag : images.pytorchTrainingTag;
}
