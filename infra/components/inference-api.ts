/**
 * The inference API: the bundled Lambda handler from lambda-src/, published as a version behind the `live`
 * alias with provisioned concurrency (so no client waits for a cold start), under a role that may invoke this
 * one endpoint and write its own log group, and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsContext } from "../aws-context";
import { AwsSdkSettings } from "../aws-sdk-settings";
import { ApiConfig } from "../config";
import { policyDocument, serviceTrustPolicy } from "../iam";
import { LambdaConcurrencyCheck } from "./lambda-concurrency-check";
import { logGroupKey } from "./log-group-key";

export interface InferenceApiArgs {
    context: AwsContext;
    /** Directory holding the bundled handler (index.js, index.js.map). */
    bundleDir: string;
    endpointName: pulumi.Input<string>;
    /** The endpoint's ARN as IAM matches it (SageMaker lower-cases endpoint names in ARNs). */
    endpointArn: pulumi.Input<string>;
    api: ApiConfig;
    /** The largest image the function fetches: the endpoint's invocation payload limit. */
    maxImageBytes: number;
    /** The provider's region and identity, for the account concurrency check. */
    sdk: pulumi.Input<AwsSdkSettings>;
    logGroupName: string;
    tags: Record<string, string>;
}

export const ALIAS_NAME = "live";

export class InferenceApi extends pulumi.ComponentResource {
    readonly functionName: pulumi.Output<string>;
    readonly aliasArn: pulumi.Output<string>;
    readonly aliasName: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;

    constructor(name: string, args: InferenceApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:api:InferenceApi", name, {}, opts);
        const { api } = args;
        const child = { parent: this };

        // The function's logs carry request details: only principals the key policy admits may read them.
        const logsKey = logGroupKey(`${name}-logs-key`, args.logGroupName, args.context, args.tags, child);
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
            name: args.logGroupName,
            retentionInDays: api.logRetentionDays,
            kmsKeyId: logsKey.arn,
            tags: args.tags,
        }, child);

        const role = new aws.iam.Role(`${name}-role`, {
            description: "Execution role of the inference API Lambda: invoke one endpoint, write its own logs",
            assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com", args.context.accountId),
            tags: args.tags,
        }, child);
        const permissions = new aws.iam.RolePolicy(`${name}-permissions`, {
            role: role.name,
            policy: policyDocument([
                { Sid: "InvokeTheEndpoint", Effect: "Allow", Action: ["sagemaker:InvokeEndpoint"], Resource: args.endpointArn },
                {
                    Sid: "WriteOwnLogs",
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    // Built from the known name rather than logGroup.arn, so the policy is checkable at preview.
                    Resource: pulumi.interpolate`arn:${args.context.partition}:logs:${args.context.region}:${args.context.accountId}:log-group:${args.logGroupName}:*`,
                },
            ]),
        }, { parent: this, dependsOn: [logGroup] });

        const concurrency = new LambdaConcurrencyCheck(`${name}-concurrency-check`, {
            sdk: args.sdk,
            reservedConcurrency: api.reservedConcurrency,
            provisionedConcurrency: api.provisionedConcurrency,
        }, child);

        const fn = new aws.lambda.Function(`${name}-function`, {
            description: "Image classification API: {\"url\": ...} -> fetches the image -> top breeds, through the SageMaker endpoint",
            runtime: aws.lambda.Runtime.NodeJS22dX,
            architectures: ["arm64"],
            handler: "index.handler",
            code: new pulumi.asset.FileArchive(args.bundleDir),
            role: role.arn,
            memorySize: api.memoryMb,
            timeout: api.timeoutSeconds,
            publish: true,
            reservedConcurrentExecutions: api.reservedConcurrency,
            environment: {
                variables: {
                    ENDPOINT_NAME: args.endpointName,
                    ALLOW_HTTP_IMAGE_URLS: String(api.allowHttpImageUrls),
                    INVOKE_TIMEOUT_MS: String(api.invokeTimeoutMs),
                    IMAGE_FETCH_TIMEOUT_MS: String(api.imageFetchTimeoutMs),
                    MAX_IMAGE_BYTES: String(args.maxImageBytes),
                    NODE_OPTIONS: "--enable-source-maps",
                },
            },
            loggingConfig: { logFormat: "JSON", logGroup: logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
            tags: args.tags,
        }, { parent: this, dependsOn: [permissions, concurrency] });

        // Provisioned concurrency applies to a published version, never $LATEST: the alias follows each publish.
        const alias = new aws.lambda.Alias(`${name}-alias`, {
            name: ALIAS_NAME,
            description: "The published version clients call",
            functionName: fn.name,
            functionVersion: fn.version,
        }, child);
        new aws.lambda.ProvisionedConcurrencyConfig(`${name}-provisioned`, {
            functionName: fn.name,
            qualifier: alias.name,
            provisionedConcurrentExecutions: api.provisionedConcurrency,
        }, child);

        this.functionName = fn.name;
        this.aliasArn = alias.arn;
        this.aliasName = alias.name;
        this.roleArn = role.arn;
        this.logGroupName = logGroup.name;
        this.registerOutputs({ functionName: this.functionName, aliasArn: this.aliasArn });
    }
}
