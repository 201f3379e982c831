import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import { DefaultVpcCheckProvider } from "../components/default-vpc-check";

const sdk = { region: "eu-west-1" };

describe("default VPC check for EC2 training (dynamic provider)", () => {
    const provider = new DefaultVpcCheckProvider(() => new EC2Client({ region: "eu-west-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } }));
    // Mocking patches every EC2Client in the process: only while this suite runs, so other suites (and their own
    // mocks of a client instance) are left alone.
    let ec2: AwsClientStub<EC2Client>;
    before(() => (ec2 = mockClient(EC2Client)));
    after(() => ec2.restore());
    beforeEach(() => ec2.reset());

    it("passes when the region has a default VPC, asking EC2 for exactly that", async () => {
        ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: "vpc-0a1b2c3d", IsDefault: true }] });
        expect(await provider.check({ sdk }, { sdk })).to.deep.equal({ inputs: { sdk } });
        const calls = ec2.commandCalls(DescribeVpcsCommand);
        expect(calls).to.have.length(1);
        expect(calls[0].args[0].input).to.deep.equal({ Filters: [{ Name: "isDefault", Values: ["true"] }] });
    });

    it("fails in Check, before anything is created, naming the config key and the command that fixes it", async () => {
        ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [] });
        const error = await provider.check({ sdk }, { sdk }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            "ec2Training.enabled is true and sagemaker-classifier:ec2Training.subnetId is not set, so the training instance would launch in " +
                "the default VPC, but this account has no default VPC in eu-west-1. Pick a subnet whose instances reach S3 and Session Manager " +
                "over HTTPS (a public subnet that assigns public IPs, a NAT gateway, or VPC endpoints) and run: " +
                "pulumi config set --path ec2Training.subnetId subnet-...",
        );
    });

    it("treats an answer without a Vpcs list as no default VPC", async () => {
        ec2.on(DescribeVpcsCommand).resolves({});
        const error = await provider.check({ sdk }, { sdk }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(/no default VPC in eu-west-1\. .*pulumi config set --path ec2Training\.subnetId subnet-\.\.\.$/);
    });

    it("lets an EC2 API error (such as missing ec2:DescribeVpcs permission) through unchanged", async () => {
        ec2.on(DescribeVpcsCommand).rejects(Object.assign(new Error("You are not authorized to perform this operation."), { name: "UnauthorizedOperation" }));
        const error = await provider.check({ sdk }, { sdk }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal("You are not authorized to perform this operation.");
    });

    it("a region change replaces the check, nothing else changes it", async () => {
        expect(await provider.diff("id", { sdk }, { sdk: { ...sdk } })).to.deep.include({ changes: false, replaces: [] });
        expect(await provider.diff("id", { sdk }, { sdk: { ...sdk, region: "us-east-1" } })).to.deep.include({ changes: true, replaces: ["sdk"] });
        expect((await provider.create({ sdk })).id).to.equal("default-vpc-eu-west-1");
    });
});
