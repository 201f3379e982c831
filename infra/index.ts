/**
 * The program: one stack takes the dog-breed classifier from training to a scaled, secured inference API.
 * This file only wires the components from the validated stack configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { ensureLambdaBundle } from "../lambda-src/build";
import { SAGEMAKER_PAYLOAD_LIMIT_BYTES } from "../lambda-src/src/config";
import { lookupAwsContext } from "./aws-context";
import { AwsSdkSettings } from "./aws-sdk-settings";
import { approvalMode, guardrailsEnabled, loadConfig, parseS3Uri } from "./config";
import { endOfPatchWarning, pytorchImage, trainingImageTag } from "./images";
import { TRAINING_METRICS } from "./contract";
import { stackBaseName, trainingJobPrefix } from "./names";
import { EndpointAutoscaling } from "./components/autoscaling";
import { HttpApi } from "./components/http-api";
import { Ec2Training } from "./components/ec2-training";
import { InferenceEndpoint, inferenceEnvironment } from "./components/endpoint";
import { InferenceApi } from "./components/inference-api";
import { alarmsNamed, Monitoring, monitoringThresholds, rollbackAlarmNames } from "./components/monitoring";
import { ModelRegistry } from "./components/model-registry";
import { SageMakerExecutionRole } from "./components/sagemaker-role";
import { SageMakerTraining } from "./components/sagemaker-training";
import { ArtifactStore } from "./components/storage";

const config = loadConfig();
const project = pulumi.getProject();
const stack = pulumi.getStack();
const repoRoot = path.resolve(__dirname, "..");
const trainingScriptsDir = path.join(repoRoot, "training-scripts");
const tags = { project, stack, environment: config.environment, ...config.tags };
const context = lookupAwsContext();
// Only the region goes into the dynamic resources' state; who to call AWS as is read from the stack config at run time.
const sdk = context.region.apply((region): AwsSdkSettings => ({ region }));
const baseName = stackBaseName(project, stack);

const store = new ArtifactStore("artifacts", {
    sourceDir: trainingScriptsDir,
    buildDir: path.join(repoRoot, "infra", ".build"),
    onDestroy: config.environment === "prod" ? "retain" : "delete",
    tags,
});
const sagemakerOutputPrefix = `${store.outputPrefix}/sagemaker`;
const sagemakerOutputUri = pulumi.interpolate`s3://${store.bucketName}/${sagemakerOutputPrefix}`;

const trainingTag = trainingImageTag(config.training.instanceType, config.images);
const trainingImage = pytorchImage("training", trainingTag, context.partition, {});
const inferenceImage = pytorchImage("inference", config.images.pytorchInferenceTag, context.partition, {});
const today = new Date().toISOString().slice(0, 10);
for (const warning of [
    config.training.mode === "existing" ? undefined : endOfPatchWarning("training", trainingTag, today),
    endOfPatchWarning("inference", config.images.pytorchInferenceTag, today),
]) {
    if (warning) pulumi.log.warn(warning);
}
const dataset = config.data.s3Uri ? parseS3Uri(config.data.s3Uri) : undefined;
const { training } = config;

const thresholds = monitoringThresholds(config.environment, config.monitoring);
// Captured requests and responses get their own prefix, so Model Monitor and the role's write can name just it.
// Serverless Inference does not support data capture.
const dataCapturePrefix = thresholds.dataCapturePercent > 0 && config.endpoint.mode === "instances" ? "data-capture/endpoint" : undefined;

const sagemakerRole = new SageMakerExecutionRole("sagemaker", {
    context,
    artifactBucket: store.bucketName,
    sourceKey: store.sourceKey,
    outputPrefix: sagemakerOutputPrefix,
    dataset: training.mode === "existing" ? undefined : dataset,
    existingModel: training.mode === "existing" && training.modelDataUrl ? parseS3Uri(training.modelDataUrl) : undefined,
    dataCapturePrefix,
    dataCaptureKmsKeyArn: dataCapturePrefix ? config.endpoint.kmsKeyArn : undefined,
    imageRepositoryArns: [trainingImage.repositoryArn, inferenceImage.repositoryArn],
    tags,
});

let modelArtifactUri: pulumi.Output<string>;
let sagemakerTraining: SageMakerTraining | undefined;
if (training.mode === "existing") {
    modelArtifactUri = pulumi.output(training.modelDataUrl as string);
} else {
    sagemakerTraining = new SageMakerTraining("sagemaker", {
        jobPrefix: trainingJobPrefix(config.environment),
        project,
        stack,
        training: { ...training, mode: training.mode },
        metrics: TRAINING_METRICS,
        roleArn: sagemakerRole.roleArn,
        trainingImage: trainingImage.uri,
        trainingImageTag: trainingTag,
        region: context.region,
        sdk,
        datasetUri: config.data.s3Uri as string,
        sourceUri: store.sourceUri,
        sourceSha256: store.sourceSha256,
        outputUri: sagemakerOutputUri,
        tags,
    });
    modelArtifactUri = sagemakerTraining.modelArtifactUri;
}

const ec2Training = config.ec2Training.enabled && dataset
    ? new Ec2Training("ec2", {
        context,
        sdk,
        ec2: config.ec2Training,
        quantization: training.quantization,
        artifactBucket: store.bucketName,
        sourceKey: store.sourceKey,
        sourceSha256: store.sourceSha256,
        dataset,
        outputPrefix: store.outputPrefix,
        tags,
    })
    : undefined;

// The approval gate: what the stack trains is registered as a version of its model package group; the endpoint
// serves the approved version the config pins (or, where registration approves, what it trained).
const registry = new ModelRegistry("registry", {
    groupName: baseName,
    context,
    sdk,
    onDestroy: config.environment === "prod" ? "retain" : "delete",
    trained: sagemakerTraining && {
        image: inferenceImage.uri,
        modelDataUrl: sagemakerTraining.modelArtifactUri,
        environment: inferenceEnvironment(),
        trainingJobName: sagemakerTraining.trainingJobName,
        metrics: sagemakerTraining.finalMetrics,
    },
    approval: approvalMode(config.environment, config.modelRegistry),
    servedVersion: config.modelRegistry.servedVersion,
    tags,
});
const servedModel = training.mode === "existing"
    ? { modelDataUrl: modelArtifactUri }
    : registry.servedModelPackageArn && { modelPackageArn: registry.servedModelPackageArn };
if (!servedModel) {
    pulumi.log.warn(
        "No endpoint yet: this stack registers what it trains for approval (modelRegistry.approval manual) and serves only an approved " +
            "version it pins. Once training has registered a version, review and approve it (npm run status shows it and its metrics), then: " +
            "pulumi config set --path modelRegistry.servedVersion <version> and pulumi up",
    );
}

/** The endpoint, its scaling, the API in front of it and their monitoring. */
function serve(model: NonNullable<typeof servedModel>) {
    const api = new InferenceApi("inference-api", {
        context,
        bundleDir: ensureLambdaBundle(),
        // The endpoint's fixed name: the function and its alarms exist before the endpoint's first rollout needs them.
        endpointName: baseName,
        // Known before the endpoint exists, so the role is least-privilege already at preview.
        endpointArn: pulumi.interpolate`arn:${context.partition}:sagemaker:${context.region}:${context.accountId}:endpoint/${baseName}`,
        api: config.api,
        // The image is the whole invocation payload.
        maxImageBytes: SAGEMAKER_PAYLOAD_LIMIT_BYTES[config.endpoint.mode],
        sdk,
        logGroupName: `/aws/lambda/${baseName}-inference-api`,
        tags,
    });

    const httpApi = config.api.http.enabled
        ? new HttpApi("http-api", {
            name: baseName,
            http: config.api.http,
            functionName: api.functionName,
            aliasName: api.aliasName,
            aliasArn: api.aliasArn,
            functionTimeoutSeconds: config.api.timeoutSeconds,
            logRetentionDays: config.api.logRetentionDays,
            context,
            tags,
        })
        : undefined;

    const monitoring = new Monitoring("monitoring", {
        context,
        baseName,
        endpointName: baseName,
        variants: [{
            variantName: config.endpoint.variantName,
            capacity: config.endpoint.mode === "instances" ? { min: config.autoscaling.minCapacity, max: config.autoscaling.maxCapacity } : undefined,
        }],
        functionName: api.functionName,
        aliasName: api.aliasName,
        functionTimeoutSeconds: config.api.timeoutSeconds,
        provisionedConcurrency: config.api.provisionedConcurrency,
        thresholds,
        email: config.monitoring.email,
        httpsUrl: config.monitoring.httpsUrl,
        tags,
    });

    const endpoint = new InferenceEndpoint("classifier", {
        endpointName: baseName,
        endpoint: config.endpoint,
        model,
        inferenceImage: inferenceImage.uri,
        executionRoleArn: sagemakerRole.roleArn,
        sdk,
        // Guarded rollouts roll back on the variant's own 5xx and latency alarms, which must exist before one starts.
        guardrail: guardrailsEnabled(config.environment, config.endpoint)
            ? {
                settings: { ...config.endpoint.deployment, alarmNames: rollbackAlarmNames(baseName, config.endpoint.variantName) },
                alarms: alarmsNamed(monitoring, rollbackAlarmNames(baseName, config.endpoint.variantName)),
            }
            : undefined,
        dataCapture: dataCapturePrefix
            ? {
                destinationS3Uri: pulumi.interpolate`s3://${store.bucketName}/${dataCapturePrefix}`,
                samplingPercent: thresholds.dataCapturePercent,
                kmsKeyArn: config.endpoint.kmsKeyArn,
            }
            : undefined,
        tags,
    });

    // A serverless endpoint scales itself by concurrency; Application Auto Scaling only scales instance variants.
    if (endpoint.scalableResourceId) {
        new EndpointAutoscaling("classifier", {
            scalableResourceId: endpoint.scalableResourceId,
            scaling: config.autoscaling,
        }, { dependsOn: [endpoint] });
    }
    return { endpoint, api, httpApi, monitoring };
}
const serving = servedModel && serve(servedModel);

// Only what this stack has: an existing-model stack has no training job, a stack without EC2 no instance.
export = {
    ...(serving
        ? {
            endpointName: serving.endpoint.endpointName,
            lambdaFunctionName: serving.api.functionName,
            lambdaAliasArn: serving.api.aliasArn,
            invokeCommand: pulumi.interpolate`aws lambda invoke --function-name ${serving.api.aliasArn} --cli-binary-format raw-in-base64-out --payload '{"url": "https://example.com/dog.jpg"}' response.json && cat response.json`,
            alarmTopicArn: serving.monitoring.topicArn,
            dashboardUrl: serving.monitoring.dashboardUrl,
            ...(serving.httpApi ? { httpApiUrl: serving.httpApi.url, httpApiRouteArn: serving.httpApi.routeArn } : {}),
        }
        : {}),
    bucketName: store.bucketName,
    modelPackageGroup: registry.groupName,
    ...(registry.registeredVersion ? { registeredModelVersion: registry.registeredVersion } : {}),
    ...(servedModel && "modelPackageArn" in servedModel ? { servedModelPackage: servedModel.modelPackageArn } : {}),
    trainingMode: training.mode,
    modelArtifact: modelArtifactUri,
    ...(sagemakerTraining ? { trainingJobName: sagemakerTraining.trainingJobName } : {}),
    ...(training.mode === "tuning" && sagemakerTraining ? { tuningJobName: sagemakerTraining.jobName } : {}),
    ...(sagemakerTraining?.objectiveValue ? { tuningObjectiveValue: sagemakerTraining.objectiveValue } : {}),
    ...(ec2Training ? { ec2InstanceId: ec2Training.instanceId, ec2ModelArtifact: ec2Training.modelArtifactUri } : {}),
};
