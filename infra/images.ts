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

/**
 * End of patch of the PyTorch SageMaker containers, by repository and `<major>.<minor>`, from the support policy
 * of aws/deep-learning-containers (docs/src/data/pytorch-{training,inference}/*-sagemaker.yml, August 2026).
 * No PyTorch inference container newer than 2.6 had been published then.
 */
export const END_OF_PATCH: Record<"training" | "inference", Record<string, string>> = {
    training: { "2.6": "2026-01-29", "2.7": "2026-04-23", "2.8": "2026-08-06", "2.9": "2026-10-15", "2.10": "2027-01-21" },
    inference: { "2.6": "2026-06-30" },
};

/** A warning when a tag's PyTorch version is past its end of patch on `today` (YYYY-MM-DD), else undefined. */
export function endOfPatchWarning(scope: "training" | "inference", tag: string, today: string): string | undefined {
    const version = /^(\d+\.\d+)(?:\.\d+)?-/.exec(tag)?.[1];
    const eop = version ? END_OF_PATCH[scope][version] : undefined;
    if (!eop || eop >= today) return undefined;
    return `pytorch-${scope}:${tag} is past its end of patch (${eop}): AWS no longer ships security fixes for it. ` +
        "See docs/training.md (\"Container images\") for the supported tags.";
}
