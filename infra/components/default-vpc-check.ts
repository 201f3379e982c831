/**
 * Without `ec2Training.subnetId` the training instance and its security group go to the region's default VPC.
 * Many accounts have none (deleted by policy, or organisations that never create one), and there EC2 refuses the
 * security group halfway through `pulumi up` with an opaque "VPCIdNotSpecified". This dynamic resource looks the
 * default VPC up (EC2 DescribeVpcs, isDefault=true, as the stack's provider identity) in Check, so `pulumi
 * preview` and `pulumi up` fail before anything is created, naming the config key and the command that fixes it.
 */
import * as pulumi from "@pulumi/pulumi";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";

export interface DefaultVpcRequest {
    sdk: AwsSdkSettings;
}

export interface Ec2Api {
    send: EC2Client["send"];
}

export type Ec2ClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => Ec2Api;

export function noDefaultVpcMessage(region: string): string {
    return `ec2Training.enabled is true and sagemaker-classifier:ec2Training.subnetId is not set, so the training instance would ` +
        `launch in the default VPC, but this account has no default VPC in ${region}. Pick a subnet whose instances reach S3 and ` +
        `Session Manager over HTTPS (a public subnet that assigns public IPs, a NAT gateway, or VPC endpoints) and run: ` +
        `pulumi config set --path ec2Training.subnetId subnet-...`;
}

export class DefaultVpcCheckProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: Ec2ClientFactory = (sdk, identity) => new EC2Client(sdkClientConfig(sdk, identity))) {
        super();
    }

    async check(_olds: DefaultVpcRequest, news: DefaultVpcRequest): Promise<pulumi.dynamic.CheckResult<DefaultVpcRequest>> {
        const answer = await this.clientFactory(news.sdk, this.identity).send(new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] }));
        if (!answer.Vpcs?.some((vpc) => vpc.VpcId)) throw new Error(noDefaultVpcMessage(news.sdk.region));
        return { inputs: news };
    }

    async create(inputs: DefaultVpcRequest): Promise<pulumi.dynamic.CreateResult<DefaultVpcRequest>> {
        return { id: `default-vpc-${inputs.sdk.region}`, outs: inputs };
    }

    async diff(_id: string, olds: DefaultVpcRequest, news: DefaultVpcRequest): Promise<pulumi.dynamic.DiffResult> {
        const regionChanged = olds.sdk?.region !== news.sdk.region;
        return { changes: JSON.stringify(olds) !== JSON.stringify(news), replaces: regionChanged ? ["sdk"] : [], deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: DefaultVpcRequest, news: DefaultVpcRequest): Promise<pulumi.dynamic.UpdateResult<DefaultVpcRequest>> {
        return { outs: news };
    }
}

export interface DefaultVpcCheckArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
}

export class DefaultVpcCheck extends pulumi.dynamic.Resource {
    constructor(name: string, args: DefaultVpcCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(new DefaultVpcCheckProvider(), name, { ...args }, opts, "sagemaker-classifier", "DefaultVpcCheck");
    }
}
