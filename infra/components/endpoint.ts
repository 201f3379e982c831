/**
 * The endpoint: a PyTorch inference container serving the model artifact through inference.py, on instances
 * (real-time, scaled by EndpointAutoscaling) or serverless (SageMaker scales it by concurrency, down to zero).
 * The endpoint configuration is auto-named and immutable, so any change creates a new configuration; the
 * endpoint (which keeps its name and stays in service) is moved to it by EndpointRollout, which checks that it
 * got there, and only then does Pulumi delete the old configuration. The provider's endpoint resource only
 * creates and deletes the endpoint.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSdkSettings } from "../aws-sdk-settings";
import { EndpointConfig } from "../config";
import { EndpointRollout, Guardrail } from "./endpoint-rollout";
import { FailedEndpointCleanup } from "./failed-endpoint-cleanup";
import { VariantShape } from "./variant-shape";

/**
 * vCPUs of a SageMaker instance type from its size: `medium` and `large` have 2, `xlarge` 4, `<n>xlarge` 4n
 * (true of every family the config accepts).
 */
export function instanceVcpus(instanceType: string): number {
    const size = instanceType.split(".").pop() ?? "";
    if (size === "medium" || size === "large") return 2;
    const multiple = /^(\d*)xlarge$/.exec(size);
    if (!multiple) throw new Error(`cannot tell the vCPUs of instance type ${instanceType}`);
    return 4 * (multiple[1] === "" ? 1 : Number(multiple[1]));
}

/**
 * TorchServe workers per instance by default: one per two vCPUs, i.e. one per physical core of the m5 and c5
 * families (two hyperthreads each), each worker's torch using both. `npm run bench -- serving` measured that split
 * faster than one single-threaded worker per vCPU on a 2-vCPU machine at one client, and with batching at four.
 */
export function defaultWorkers(instanceType: string): number {
    return Math.max(1, Math.floor(instanceVcpus(instanceType) / 2));
}

/** TS_DEFAULT_SERVICE_HANDLER for training-scripts/serving_handler.py: one forward pass per TorchServe batch. */
export const SERVING_HANDLER = "serving_handler:handle";

/**
 * The model server's settings on the Model (sagemaker-pytorch-inference 2.0.25 starts TorchServe with
 * enable_envvars_config=true and reads SAGEMAKER_TS_*): the project's handler, and the batch and worker settings,
 * always explicit. With no SAGEMAKER_TS_* the container's start script runs one worker (one model copy) per CPU,
 * serverless too; once any is set, min and max workers default to 1. So the workers are set every time:
 * defaultWorkers() of the instance type unless configured, and one on serverless, whose vCPUs follow its memory and are not
 * published. model_fn sizes its torch threads from SAGEMAKER_TS_MIN_WORKERS.
 */
export function modelServerEnvironment(endpoint: EndpointConfig): Record<string, string> {
    const { workers, batchSize, maxBatchDelayMs } = endpoint.modelServer;
    const count = String(workers ?? (endpoint.mode === "serverless" ? 1 : defaultWorkers(endpoint.instanceType)));
    return {
        TS_DEFAULT_SERVICE_HANDLER: SERVING_HANDLER,
        SAGEMAKER_TS_BATCH_SIZE: String(batchSize),
        SAGEMAKER_TS_MAX_BATCH_DELAY: String(maxBatchDelayMs),
        SAGEMAKER_TS_MIN_WORKERS: count,
        SAGEMAKER_TS_MAX_WORKERS: count,
    };
}

/** What serves the variant: instances, or a serverless configuration (a variant has one or the other, never both). */
export function productionVariantCapacity(endpoint: EndpointConfig): Pick<aws.types.input.sagemaker.EndpointConfigurationProductionVariant, "instanceType" | "initialInstanceCount" | "serverlessConfig"> {
    if (endpoint.mode === "serverless") {
        const { memorySizeMb, maxConcurrency, provisionedConcurrency } = endpoint.serverless;
        return { serverlessConfig: { memorySizeInMb: memorySizeMb, maxConcurrency, ...(provisionedConcurrency !== undefined ? { provisionedConcurrency } : {}) } };
    }
    return { instanceType: endpoint.instanceType, initialInstanceCount: endpoint.initialInstanceCount };
}

/** What the PyTorch inference container needs to serve inference.py from a model archive. */
export function inferenceEnvironment(): Record<string, string> {
    return {
        // The inference toolkit imports code/inference.py from the model archive (serving_handler.py calls its
        // handlers). The toolkit reads nothing else of SAGEMAKER_*: no submit directory, region or log level.
        SAGEMAKER_PROGRAM: "inference.py",
    };
}

export interface InferenceEndpointArgs {
    /** The endpoint's name: fixed, so clients, the Lambda and the scaling target can name it before it exists. */
    endpointName: string;
    endpoint: EndpointConfig;
    /** What the endpoint serves: an approved model package version, or a model archive with the inference image. */
    model: { modelPackageArn: pulumi.Input<string> } | { modelDataUrl: pulumi.Input<string> };
    inferenceImage: pulumi.Input<string>;
    executionRoleArn: pulumi.Input<string>;
    /** Where the endpoint's own SDK calls (rollout, failure cleanup) go. */
    sdk: pulumi.Input<AwsSdkSettings>;
    /** Deployment guardrails for rollouts between instance configurations, and the alarms they watch (which must exist first). */
    guardrail?: { settings: Guardrail; alarms: pulumi.Resource[] };
    /** Capture a share of requests and responses (for SageMaker Model Monitor) under this S3 URI. */
    dataCapture?: { destinationS3Uri: pulumi.Input<string>; samplingPercent: number; kmsKeyArn?: string };
    tags: Record<string, string>;
}

export class InferenceEndpoint extends pulumi.ComponentResource {
    readonly endpointName: pulumi.Output<string>;
    readonly variantName: string;
    readonly modelName: pulumi.Output<string>;
    /** Instance variants: the scalable target's resource id, tied to the variant's instance type (see VariantShape). */
    readonly scalableResourceId?: pulumi.Output<string>;
    /** The configuration the endpoint serves once this `up` has rolled it out. */
    readonly servingConfigName: pulumi.Output<string>;

    constructor(name: string, args: InferenceEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:serving:InferenceEndpoint", name, {}, opts);

        const environment = {
            ...inferenceEnvironment(),
            // inference.py refuses {"url"} requests (415) unless this is "true".
            IMAGE_URL_INPUT: String(args.endpoint.urlInput),
            ...modelServerEnvironment(args.endpoint),
        };
        const model = new aws.sagemaker.Model(`${name}-model`, {
            executionRoleArn: args.executionRoleArn,
            // From an approved model package version (image, artifact and entry point as registered), or a model artifact.
            primaryContainer: "modelPackageArn" in args.model
                ? { modelPackageName: args.model.modelPackageArn, environment }
                : { image: args.inferenceImage, modelDataUrl: args.model.modelDataUrl, environment },
            // No network for the container: the Lambda fetches images and sends their bytes.
            enableNetworkIsolation: args.endpoint.networkIsolation,
            tags: args.tags,
        }, { parent: this });

        const config = new aws.sagemaker.EndpointConfiguration(`${name}-config`, {
            productionVariants: [{
                variantName: args.endpoint.variantName,
                modelName: model.name,
                initialVariantWeight: 1,
                ...productionVariantCapacity(args.endpoint),
            }],
            kmsKeyArn: args.endpoint.kmsKeyArn,
            dataCaptureConfig: args.dataCapture && {
                enableCapture: true,
                initialSamplingPercentage: args.dataCapture.samplingPercent,
                destinationS3Uri: args.dataCapture.destinationS3Uri,
                kmsKeyId: args.dataCapture.kmsKeyArn,
                captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
                captureContentTypeHeader: { jsonContentTypes: ["application/json"] },
            },
            tags: args.tags,
        }, { parent: this });

        const shape = args.endpoint.mode === "instances"
            ? new VariantShape(`${name}-variant-shape`, {
                scalableResourceId: `endpoint/${args.endpointName}/variant/${args.endpoint.variantName}`,
                instanceType: args.endpoint.instanceType,
            }, { parent: this })
            : undefined;

        const cleanup = new FailedEndpointCleanup(`${name}-failed-endpoint-cleanup`, { sdk: args.sdk, endpointName: args.endpointName }, { parent: this });
        const endpoint = new aws.sagemaker.Endpoint(`${name}-endpoint`, {
            name: args.endpointName,
            endpointConfigName: config.name,
            tags: args.tags,
        }, {
            parent: this,
            dependsOn: [cleanup],
            // EndpointRollout moves the endpoint between configurations; the provider would move it without
            // checking where it ended up (see endpoint-rollout.ts).
            ignoreChanges: ["endpointConfigName"],
            // The name is fixed, so a replacement (pulumi up --replace, a renamed stack) can only delete first.
            // It creates the endpoint with the configuration it was first created with (ignoreChanges), which
            // fails if that one is gone; the next up then creates it with the current one, as nothing is in state.
            deleteBeforeReplace: true,
        });
        const rollout = new EndpointRollout(`${name}-rollout`, {
            sdk: args.sdk,
            endpointName: endpoint.name,
            endpointConfigName: config.name,
            // A new instance type replaces the shape, delete-before-replace, after the scaling policy and target
            // are gone: the rollout waits for that.
            variantShape: shape ? shape.instanceType : "serverless",
            recreateAfter: cleanup.failedEndpointCreatedAt,
            tags: args.tags,
            timeoutSeconds: args.endpoint.updateTimeoutMinutes * 60,
            guardrail: args.guardrail?.settings,
        }, { parent: this, dependsOn: [endpoint, ...(args.guardrail?.alarms ?? [])] });
        // An output of the rollout: the target is registered only once the endpoint serves the new configuration
        // (and, taken from an input of it, the id is known at preview, so policies can link target and endpoint).
        this.scalableResourceId = shape && pulumi.all([shape.scalableResourceId, rollout.endpointConfigName]).apply(([id]) => id);

        this.servingConfigName = rollout.servingConfigName;
        this.endpointName = endpoint.name;
        this.variantName = args.endpoint.variantName;
        this.modelName = model.name;
        this.registerOutputs({ endpointName: this.endpointName });
    }
}
