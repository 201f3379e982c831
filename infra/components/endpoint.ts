/**
 * The real-time endpoint: a PyTorch inference container serving the model artifact through inference.py.
 * The endpoint configuration is auto-named and immutable, so any change creates a new configuration, rolls
 * the endpoint (which keeps its name and stays in service) to it, and only then deletes the old one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EndpointConfig } from "../config";

export interface InferenceEndpointArgs {
    /** The endpoint's name: fixed, so clients, the Lambda and the scaling target can name it before it exists. */
    endpointName: string;
    endpoint: EndpointConfig;
    modelDataUrl: pulumi.Input<string>;
    inferenceImage: pulumi.Input<string>;
    executionRoleArn: pulumi.Input<string>;
    region: pulumi.Input<string>;
    tags: Record<string, string>;
}

export class InferenceEndpoint extends pulumi.ComponentResource {
    readonly endpointName: pulumi.Output<string>;
    readonly variantName: string;
    readonly modelName: pulumi.Output<string>;

    constructor(name: string, args: InferenceEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:serving:InferenceEndpoint", name, {}, opts);

        const model = new aws.sagemaker.Model(`${name}-model`, {
            executionRoleArn: args.executionRoleArn,
            primaryContainer: {
                image: args.inferenceImage,
                modelDataUrl: args.modelDataUrl,
                environment: {
                    // The inference toolkit loads code/inference.py from the model archive.
                    SAGEMAKER_PROGRAM: "inference.py",
                    SAGEMAKER_SUBMIT_DIRECTORY: "/opt/ml/model/code",
                    SAGEMAKER_CONTAINER_LOG_LEVEL: "20",
                    SAGEMAKER_REGION: args.region,
                },
            },
            tags: args.tags,
        }, { parent: this });

        const config = new aws.sagemaker.EndpointConfiguration(`${name}-config`, {
            productionVariants: [{
                variantName: args.endpoint.variantName,
                modelName: model.name,
                instanceType: args.endpoint.instanceType,
                initialInstanceCount: args.endpoint.initialInstanceCount,
                initialVariantWeight: 1,
            }],
            kmsKeyArn: args.endpoint.kmsKeyArn,
            tags: args.tags,
        }, { parent: this });

        const endpoint = new aws.sagemaker.Endpoint(`${name}-endpoint`, {
            name: args.endpointName,
            endpointConfigName: config.name,
            tags: args.tags,
        }, { parent: this });

        this.endpointName = endpoint.name;
        this.variantName = args.endpoint.variantName;
        this.modelName = model.name;
        this.registerOutputs({ endpointName: this.endpointName });
    }
}
