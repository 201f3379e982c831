/**
 * Training on a plain EC2 instance, the course's second path: a Deep Learning AMI instance that downloads the
 * code and dataset, runs ec2_train.py with the stack's hyperparameters, uploads model.tar.gz and stops itself.
 * No SSH: no key pair (unless configured), no inbound rule; Session Manager reaches it if needed.
 *
 * The run is one-shot. The instance stops rather than terminates, because the provider drops a terminated
 * instance from the state on `pulumi refresh` (its read treats `terminated` as not found) and the next
 * `pulumi up` would launch it again; a stopped one stays in the state, so nothing happens until an input
 * changes. And when the instance is replaced without a change of run (same run id, e.g. a new subnet),
 * ec2_train.py finds this run's model in S3 and powers off without training or overwriting it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { AwsContext } from "../aws-context";
import { AwsSdkSettings } from "../aws-sdk-settings";
import { Ec2TrainingConfig } from "../config";
import { hyperparameterWireValues, Quantization, quantizationWireValues } from "../contract";
import { listPrefixStatement, policyDocument, s3ObjectArn, s3ObjectsArn, serviceTrustPolicy } from "../iam";
import { DefaultVpcCheck } from "./default-vpc-check";
import { S3Location } from "./sagemaker-role";

export interface Ec2TrainingArgs {
    context: AwsContext;
    /** The provider's identity, for the default-VPC check. */
    sdk: pulumi.Input<AwsSdkSettings>;
    ec2: Ec2TrainingConfig;
    /** The stack's `training.quantization`: the EC2 run ships int8 by the same rule as the SageMaker jobs. */
    quantization: Quantization;
    artifactBucket: pulumi.Input<string>;
    sourceKey: string;
    sourceSha256: string;
    dataset: S3Location;
    outputPrefix: string;
    tags: Record<string, string>;
}

export interface UserDataParams {
    region: string;
    sourceUri: string;
    datasetUri: string;
    modelUri: string;
    trainingConfig: Record<string, unknown>;
}

/** Quotes a value for a POSIX shell. */
function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The boot script. It always ends in a shutdown, which stops the instance, so a failure stops compute billing too. */
export function renderUserData(p: UserDataParams): string {
    const work = "/opt/ml-train";
    return [
        "#!/bin/bash",
        "set -euo pipefail",
        `exec > >(tee -a /var/log/ml-train.log | logger -t ml-train) 2>&1`,
        `trap 'echo "ml-train: finished with status $?"; shutdown -h now' EXIT`,
        `export AWS_DEFAULT_REGION=${shellQuote(p.region)}`,
        `WORK=${work}`,
        `mkdir -p "$WORK/code" "$WORK/data" "$WORK/model" "$WORK/output"`,
        `aws s3 cp ${shellQuote(p.sourceUri)} "$WORK/sourcedir.tar.gz" --only-show-errors`,
        `tar -xzf "$WORK/sourcedir.tar.gz" -C "$WORK/code"`,
        `aws s3 sync ${shellQuote(p.datasetUri)} "$WORK/data" --only-show-errors`,
        `cat > "$WORK/config.json" <<'TRAINING_CONFIG'`,
        JSON.stringify({ ...p.trainingConfig, "model-uri": p.modelUri }, null, 2),
        "TRAINING_CONFIG",
        // The Deep Learning AMI keeps PyTorch (and boto3) in its own virtual environment (release notes: python_location).
        `PYTHON=/opt/pytorch/bin/python; [ -x "$PYTHON" ] || PYTHON=python3`,
        // ec2_train.py skips a run whose model exists, else trains and uploads model.tar.gz without overwriting.
        `cd "$WORK/code" && "$PYTHON" ec2_train.py --config "$WORK/config.json"`,
        "",
    ].join("\n");
}

export class Ec2Training extends pulumi.ComponentResource {
    readonly instanceId: pulumi.Output<string>;
    readonly modelArtifactUri: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: Ec2TrainingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:training:Ec2Training", name, {}, opts);
        const { ec2, context } = args;
        const { partition } = context;
        const child = { parent: this };

        const trainingConfig = {
            "data-dir": "/opt/ml-train/data",
            "model-dir": "/opt/ml-train/model",
            "output-data-dir": "/opt/ml-train/output",
            ...hyperparameterWireValues(ec2.hyperparameters),
            ...quantizationWireValues(args.quantization),
        };
        // What the run trains on; a pinned AMI counts (changing it is a new run), the AMI read from SSM does not.
        const runId = crypto
            .createHash("sha256")
            .update(JSON.stringify({ trainingConfig, code: args.sourceSha256, dataset: args.dataset, type: ec2.instanceType, ...(ec2.amiId ? { ami: ec2.amiId } : {}) }))
            .digest("hex")
            .slice(0, 12);
        const runPrefix = `${args.outputPrefix}/ec2/${runId}`;
        const modelKey = `${runPrefix}/model.tar.gz`;

        const role = new aws.iam.Role(`${name}-role`, {
            description: "EC2 training instance: read code and dataset, write its model, Session Manager",
            assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com"),
            tags: args.tags,
        }, child);
        const permissions = new aws.iam.RolePolicy(`${name}-permissions`, {
            role: role.name,
            policy: policyDocument([
                { Sid: "ReadCode", Effect: "Allow", Action: ["s3:GetObject"], Resource: s3ObjectArn(partition, args.artifactBucket, args.sourceKey) },
                { Sid: "ReadDataset", Effect: "Allow", Action: ["s3:GetObject"], Resource: s3ObjectsArn(partition, args.dataset.bucket, args.dataset.key) },
                listPrefixStatement("ListDataset", partition, args.dataset.bucket, args.dataset.key),
                {
                    Sid: "WriteModel",
                    Effect: "Allow",
                    Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                    Resource: s3ObjectsArn(partition, args.artifactBucket, `${args.outputPrefix}/ec2`),
                },
                // The one-shot check: HeadObject on this run's model, and ListBucket so a missing model reads 404, not 403.
                { Sid: "CheckModel", Effect: "Allow", Action: ["s3:GetObject"], Resource: s3ObjectArn(partition, args.artifactBucket, modelKey) },
                listPrefixStatement("ListModel", partition, args.artifactBucket, runPrefix),
            ]),
        }, child);
        // Session Manager instead of SSH: the AWS-managed core policy is the documented minimum for the agent.
        const ssm = new aws.iam.RolePolicyAttachment(`${name}-ssm`, {
            role: role.name,
            policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
        }, child);
        const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: args.tags }, child);

        const vpcId = ec2.subnetId ? aws.ec2.getSubnetOutput({ id: ec2.subnetId }, child).vpcId : undefined;
        // Without a subnet both the group and the instance land in the default VPC, which must exist.
        const network = ec2.subnetId ? [] : [new DefaultVpcCheck(`${name}-default-vpc-check`, { sdk: args.sdk }, child)];
        const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
            description: "EC2 training: no inbound; HTTPS out to S3, SSM and package mirrors",
            vpcId,
            egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" }],
            tags: args.tags,
        }, { parent: this, dependsOn: network });

        // The SSM parameter follows every Deep Learning AMI release; a running or finished training run must not be
        // replaced for that, so the AMI resolved at launch is kept (ignoreChanges) unless config pins one.
        const ami = ec2.amiId ?? aws.ssm.getParameterOutput({ name: ec2.amiSsmParameter }, child).value;
        const instance = new aws.ec2.Instance(`${name}-instance`, {
            ami,
            instanceType: ec2.instanceType,
            iamInstanceProfile: profile.name,
            subnetId: ec2.subnetId,
            vpcSecurityGroupIds: [securityGroup.id],
            keyName: ec2.keyName,
            // Stop, not terminate: a stopped instance survives `pulumi refresh`, so the run is not launched again.
            instanceInitiatedShutdownBehavior: "stop",
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
            rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: ec2.rootVolumeGb, deleteOnTermination: true },
            monitoring: true,
            userData: pulumi
                .all([context.region, args.artifactBucket])
                .apply(([region, bucket]) =>
                    renderUserData({
                        region,
                        sourceUri: `s3://${bucket}/${args.sourceKey}`,
                        datasetUri: `s3://${args.dataset.bucket}/${args.dataset.key}`,
                        modelUri: `s3://${bucket}/${modelKey}`,
                        trainingConfig,
                    }),
                ),
            userDataReplaceOnChange: true,
            tags: { ...args.tags, Name: `${name}-training` },
        }, { parent: this, dependsOn: [permissions, ssm, ...network], ignoreChanges: ec2.amiId ? [] : ["ami"] });

        this.instanceId = instance.id;
        this.roleArn = role.arn;
        this.modelArtifactUri = pulumi.interpolate`s3://${args.artifactBucket}/${modelKey}`;
        this.registerOutputs({ instanceId: this.instanceId, modelArtifactUri: this.modelArtifactUri });
    }
}
