/**
 * The execution role SageMaker assumes for training, tuning and hosting: read the dataset and the code, write
 * the output prefix, read the model it serves, pull the PyTorch images, write its own logs. Nothing else; in
 * particular not AmazonSageMakerFullAccess.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { AwsContext } from "../aws-context";
import { listPrefixStatement, policyDocument, PolicyStatement, s3ObjectArn, s3ObjectsArn, serviceTrustPolicy } from "../iam";

export interface S3Location {
    bucket: string;
    key: string;
}

/** Names a model's read grant: a new model is a new grant. */
export function modelGrantId(model: S3Location): string {
    return crypto.createHash("sha256").update(`s3://${model.bucket}/${model.key}`).digest("hex").slice(0, 8);
}

export interface SageMakerExecutionRoleArgs {
    context: AwsContext;
    artifactBucket: pulumi.Input<string>;
    sourceKey: string;
    outputPrefix: string;
    /** The dataset's location, when this stack trains. */
    dataset?: S3Location;
    /** A model.tar.gz outside the artifact bucket's output prefix that the endpoint serves (`existing` mode). */
    existingModel?: S3Location;
    /** The artifact bucket's prefix the endpoint's data capture writes to, when capture is on. */
    dataCapturePrefix?: string;
    /** The customer managed key data capture encrypts with, if not the bucket's default. */
    dataCaptureKmsKeyArn?: string;
    imageRepositoryArns: pulumi.Input<string>[];
    tags: Record<string, string>;
}

export class SageMakerExecutionRole extends pulumi.ComponentResource {
    readonly roleArn: pulumi.Output<string>;
    readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: SageMakerExecutionRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:iam:SageMakerExecutionRole", name, {}, opts);
        const { partition, region, accountId } = args.context;

        const role = new aws.iam.Role(`${name}-role`, {
            description: "SageMaker execution role for the classifier's training, tuning and endpoint",
            assumeRolePolicy: serviceTrustPolicy("sagemaker.amazonaws.com", accountId),
            maxSessionDuration: 3600,
            tags: args.tags,
        }, { parent: this });

        const statements: PolicyStatement[] = [
            {
                Sid: "ReadTrainingCode",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: s3ObjectArn(partition, args.artifactBucket, args.sourceKey),
            },
            {
                Sid: "WriteAndReadOutput",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                Resource: s3ObjectsArn(partition, args.artifactBucket, args.outputPrefix),
            },
            listPrefixStatement("ListOutput", partition, args.artifactBucket, args.outputPrefix),
            {
                // GetAuthorizationToken is account-wide by design: it has no resource-level permissions.
                Sid: "EcrLogin",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                Resource: "*",
            },
            {
                Sid: "PullFrameworkImages",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                Resource: args.imageRepositoryArns,
            },
            {
                Sid: "WriteSageMakerLogs",
                Effect: "Allow",
                Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [
                    pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/*`,
                    pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:/aws/sagemaker/*:log-stream:*`,
                ],
            },
            {
                // PutMetricData has no resource-level permissions; the namespace condition is the scope.
                Sid: "PublishSageMakerMetrics",
                Effect: "Allow",
                Action: ["cloudwatch:PutMetricData"],
                Resource: "*",
                Condition: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
            },
        ];
        if (args.dataset) {
            statements.push(
                {
                    Sid: "ReadDataset",
                    Effect: "Allow",
                    Action: ["s3:GetObject"],
                    Resource: s3ObjectsArn(partition, args.dataset.bucket, args.dataset.key),
                },
                listPrefixStatement("ListDataset", partition, args.dataset.bucket, args.dataset.key),
            );
        }

        if (args.dataCapturePrefix) {
            // The endpoint writes captured requests and responses with the model's execution role; nothing else.
            statements.push({
                Sid: "WriteDataCapture",
                Effect: "Allow",
                Action: ["s3:PutObject"],
                Resource: s3ObjectsArn(partition, args.artifactBucket, args.dataCapturePrefix),
            });
            if (args.dataCaptureKmsKeyArn) {
                statements.push({
                    Sid: "EncryptDataCapture",
                    Effect: "Allow",
                    Action: ["kms:GenerateDataKey", "kms:Encrypt"],
                    Resource: args.dataCaptureKmsKeyArn,
                });
            }
        }

        const inlinePolicy = new aws.iam.RolePolicy(`${name}-permissions`, {
            role: role.name,
            policy: policyDocument(statements),
        }, { parent: this });

        // The read grant of an existing model is its own policy, named by the model: a new model adds a grant and
        // the old one is deleted with the replaced endpoint configurations, only once every step of the `up`
        // succeeded (see endpoint-rollout.ts). Updating one shared policy in place would revoke the old model's
        // read before the endpoint has moved off it, while it still serves and while a rollback would need it.
        const modelGrant = args.existingModel && new aws.iam.RolePolicy(`${name}-read-model-${modelGrantId(args.existingModel)}`, {
            role: role.name,
            policy: policyDocument([{
                Sid: "ReadDeployedModel",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: s3ObjectArn(partition, args.existingModel.bucket, args.existingModel.key),
            }]),
        }, { parent: this });

        // Consumers must not start a job before the role can act, so they depend on the policies, not just the role.
        this.roleArn = pulumi.all([role.arn, inlinePolicy.id, modelGrant?.id]).apply(([arn]) => arn);
        this.roleName = role.name;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
