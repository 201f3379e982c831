import { expect } from "chai";
import { allowedInstanceTypes } from "../policies/compute/allowed-instance-types";
import { ec2EncryptedVolumes } from "../policies/ec2/ec2-encrypted-volumes";
import { ec2Imdsv2Required } from "../policies/ec2/ec2-imdsv2-required";
import { ec2NoPublicIngress } from "../policies/ec2/ec2-no-public-ingress";
import { s3PublicAccessBlocked } from "../policies/s3/s3-public-access-blocked";
import { s3ServerSideEncryption } from "../policies/s3/s3-server-side-encryption";
import { sagemakerDataProtection } from "../policies/sagemaker/sagemaker-data-protection";
import dev from "../config/dev.json";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, U, validateResource, validateStack } from "./harness";

const instance = (props: Record<string, unknown>): Spec => ({
    type: "aws:ec2/instance:Instance",
    name: "trainer",
    props: { instanceType: "m5.xlarge", metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true }, ...props },
});

describe("allowed-instance-types", () => {
    const policy = allowedInstanceTypes;
    const devTypes = dev["allowed-instance-types"];
    const prodTypes = prod["allowed-instance-types"];

    it("passes every resource of the project's stacks", async () => {
        for (const [stack, config] of [["dev", devTypes], ["prod", prodTypes]] as const) {
            for (const resource of projectStack(stack)) {
                expect((await validateResource(policy, resource, config)).violations, `${stack} ${resource.name}`).to.deep.equal([]);
            }
        }
    });

    it("rejects an endpoint variant, a tuning job and an EC2 instance outside the allow list", async () => {
        const specs = projectStack("prod");
        (spec(specs, "endpoint-config").props.productionVariants as Record<string, unknown>[])[0].instanceType = "ml.p4d.24xlarge";
        const variant = await validateResource(policy, spec(specs, "endpoint-config"), prodTypes);
        expect(variant.violations[0].message).to.include("ml.p4d.24xlarge at productionVariants[0].instanceType");
        const tuning = spec(specs, "tuning");
        (tuning.props.trainingJobDefinition as { resourceConfig: Record<string, unknown> }).resourceConfig.instanceType = "ml.m5.large";
        expect((await validateResource(policy, tuning, prodTypes)).violations[0].message).to.include("trainingInstanceTypes");
        expect((await validateResource(policy, instance({ instanceType: "p3.2xlarge" }), prodTypes)).violations).to.have.length(1);
    });

    it("rejects a training job type outside the list", async () => {
        const job: Spec = { type: "aws:sagemaker/trainingJob:TrainingJob", name: "train", props: { trainingJobName: "t", roleArn: "r", resourceConfig: { instanceType: "ml.g5.48xlarge", instanceCount: 1 } } };
        expect((await validateResource(policy, job)).violations[0].message).to.include("ml.g5.48xlarge");
    });

    it("checks every instance type a tuning or training job can name: instance groups and tuning instance configs", async () => {
        const tuning = (definition: Record<string, unknown>, plural: boolean): Spec => ({
            type: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
            name: "tuning",
            props: plural ? { trainingJobDefinitions: [{ roleArn: "r" }, definition] } : { trainingJobDefinition: definition },
        });
        const group = (type: string) => ({ instanceGroupName: "g", instanceCount: 4, instanceType: type });
        const definitions: [Record<string, unknown>, string][] = [
            [{ resourceConfig: { instanceGroups: [group("ml.m5.xlarge"), group("ml.p4d.24xlarge")] } }, "resourceConfig.instanceGroups[1].instanceType"],
            [{ hyperParameterTuningResourceConfig: { instanceConfigs: [{ instanceCount: 4, instanceType: "ml.p4d.24xlarge", volumeSizeInGb: 30 }] } }, "hyperParameterTuningResourceConfig.instanceConfigs[0].instanceType"],
            [{ hyperParameterTuningResourceConfig: { instanceType: "ml.p4d.24xlarge" } }, "hyperParameterTuningResourceConfig.instanceType"],
            [{ resourceConfig: { instanceType: "ml.p4d.24xlarge" } }, "resourceConfig.instanceType"],
        ];
        for (const [definition, where] of definitions) {
            const single = await validateResource(policy, tuning(definition, false), prodTypes);
            expect(single.violations.map((v) => v.message), where).to.have.length(1);
            expect(single.violations[0].message).to.include(`ml.p4d.24xlarge at trainingJobDefinition.${where}`);
            const plural = await validateResource(policy, tuning(definition, true), prodTypes);
            expect(plural.violations.map((v) => v.message), `plural ${where}`).to.have.length(1);
            expect(plural.violations[0].message).to.include(`ml.p4d.24xlarge at trainingJobDefinitions[1].${where}`);
        }
        const allowed = await validateResource(policy, tuning({ resourceConfig: { instanceGroups: [group("ml.m5.xlarge")] } }, true), prodTypes);
        expect(allowed.violations).to.deep.equal([]);
        const job: Spec = { type: "aws:sagemaker/trainingJob:TrainingJob", name: "train", props: { resourceConfig: { instanceGroups: [group("ml.p4d.24xlarge")] } } };
        expect((await validateResource(policy, job, prodTypes)).violations[0].message).to.include("ml.p4d.24xlarge at resourceConfig.instanceGroups[0].instanceType");
    });

    it("reports an unknown instance type", async () => {
        const out = await validateResource(policy, instance({ instanceType: U }));
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("instanceType of Instance 'trainer'");
    });
});

describe("ec2 policies", () => {
    it("ec2-imdsv2-required passes required tokens and rejects optional or unset", async () => {
        expect((await validateResource(ec2Imdsv2Required, instance({}))).violations).to.deep.equal([]);
        expect((await validateResource(ec2Imdsv2Required, instance({ metadataOptions: { httpTokens: "optional" } }))).violations).to.have.length(1);
        const unset = await validateResource(ec2Imdsv2Required, instance({ metadataOptions: undefined }));
        expect(unset.violations[0].message).to.include("defaults to optional");
        const template: Spec = { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "lt", props: { metadataOptions: { httpTokens: "optional" } } };
        expect((await validateResource(ec2Imdsv2Required, template)).violations).to.have.length(1);
    });

    it("an instance launched from a launch template defers what it leaves unset to the template, and is judged on what it sets", async () => {
        const fromTemplate = (props: Record<string, unknown>): Spec => ({
            type: "aws:ec2/instance:Instance",
            name: "from-template",
            props: { ami: "ami-1", launchTemplate: { id: "lt-0123456789abcdef0", version: "$Latest" }, ...props },
        });
        for (const launchTemplate of [{ id: "lt-0123456789abcdef0", version: "$Latest" }, { name: U }, U]) {
            const bare = fromTemplate({ launchTemplate });
            expect((await validateResource(ec2Imdsv2Required, bare)).violations, JSON.stringify(launchTemplate)).to.deep.equal([]);
            expect((await validateResource(ec2EncryptedVolumes, bare)).violations, JSON.stringify(launchTemplate)).to.deep.equal([]);
        }
        const optional = await validateResource(ec2Imdsv2Required, fromTemplate({ metadataOptions: { httpTokens: "optional" } }));
        expect(optional.violations[0].message).to.include("httpTokens is optional");
        const unencrypted = await validateResource(ec2EncryptedVolumes, fromTemplate({ rootBlockDevice: { encrypted: false } }));
        expect(unencrypted.violations[0].message).to.include("rootBlockDevice.encrypted is false");
        const ebs = await validateResource(ec2EncryptedVolumes, fromTemplate({ ebsBlockDevices: [{ deviceName: "/dev/sdf" }] }));
        expect(ebs.violations[0].message).to.include("ebsBlockDevices[0].encrypted is unset");
    });

    it("ec2-encrypted-volumes passes encrypted devices and rejects each unencrypted one", async () => {
        expect((await validateResource(ec2EncryptedVolumes, instance({ ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }] }))).violations).to.deep.equal([]);
        expect((await validateResource(ec2EncryptedVolumes, instance({ rootBlockDevice: { volumeSize: 100 } }))).violations[0].message).to.include("rootBlockDevice.encrypted is unset");
        const ebs = await validateResource(ec2EncryptedVolumes, instance({ ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }] }));
        expect(ebs.violations[0].message).to.include("ebsBlockDevices[0].encrypted");
        const volume: Spec = { type: "aws:ebs/volume:Volume", name: "v", props: { availabilityZone: "us-east-1a", size: 10 } };
        expect((await validateResource(ec2EncryptedVolumes, volume)).violations).to.have.length(1);
        const template: Spec = { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "lt", props: { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] } };
        expect((await validateResource(ec2EncryptedVolumes, template)).violations).to.have.length(1);
    });

    it("ec2-no-public-ingress sees the internet however it is spelt: ::0/0, or 0.0.0.0/0 split into halves", async () => {
        const sg = (ingress: unknown[]): Spec => ({ type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", props: { ingress } });
        const split = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] }]));
        expect(split.violations).to.have.length(1);
        expect(split.violations[0].message).to.contain("0.0.0.0/1 and 128.0.0.0/1");
        const v6 = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 443, toPort: 443, ipv6CidrBlocks: ["::0/0"] }]));
        expect(v6.violations).to.have.length(1);
        const narrow = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["203.0.113.0/24", "10.0.0.0/8"], ipv6CidrBlocks: ["2001:db8::/32"] }]));
        expect(narrow.violations).to.deep.equal([]);
    });

    it("ec2-no-public-ingress rejects 0.0.0.0/0 and ::/0 on SSH or any port", async () => {
        const sg = (ingress: unknown[]): Spec => ({ type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", props: { ingress } });
        expect((await validateResource(ec2NoPublicIngress, spec(projectStack("prod"), "ec2-sg"))).violations).to.deep.equal([]);
        expect((await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"] }]))).violations).to.deep.equal([]);
        const ssh = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]));
        expect(ssh.violations[0].message).to.include("including SSH (22)");
        const https6 = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 443, toPort: 443, ipv6CidrBlocks: ["::/0"] }]));
        expect(https6.violations[0].message).to.include("::/0 on port 443");
        const rule: Spec = { type: "aws:ec2/securityGroupRule:SecurityGroupRule", name: "r", props: { type: "ingress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-1" } };
        expect((await validateResource(ec2NoPublicIngress, rule)).violations[0].message).to.include("all ports");
        const egress: Spec = { ...rule, props: { ...rule.props, type: "egress" } };
        expect((await validateResource(ec2NoPublicIngress, egress)).violations).to.deep.equal([]);
        const vpcRule: Spec = { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "v", props: { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" } };
        expect((await validateResource(ec2NoPublicIngress, vpcRule)).violations).to.have.length(1);
        const unknown = await validateResource(ec2NoPublicIngress, sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [U] }]));
        expect(unknown.unchecked).to.include("CIDR blocks");
    });
});

describe("s3 policies", () => {
    it("pass the project's buckets, after update and under preview", async () => {
        for (const preview of [false, true]) {
            const specs = projectStack("prod", preview);
            expect((await validateStack(s3PublicAccessBlocked, specs)).violations).to.deep.equal([]);
            expect((await validateStack(s3ServerSideEncryption, specs, { requireKms: true })).violations).to.deep.equal([]);
        }
    });

    it("s3-public-access-blocked rejects a missing block and a block with a flag off", async () => {
        const missing = projectStack("prod").filter((s) => s.name !== "artifacts-pab");
        expect((await validateStack(s3PublicAccessBlocked, missing)).violations[0].message).to.include("has no aws.s3.BucketPublicAccessBlock");
        const partial = projectStack("prod");
        spec(partial, "artifacts-pab").props.restrictPublicBuckets = false;
        expect((await validateStack(s3PublicAccessBlocked, partial)).violations[0].message).to.include("leaves restrictPublicBuckets off");
    });

    it("s3-server-side-encryption rejects a missing configuration, and SSE-S3 when KMS is required", async () => {
        const missing = projectStack("prod").filter((s) => s.name !== "artifacts-sse");
        expect((await validateStack(s3ServerSideEncryption, missing)).violations[0].message).to.include("no server-side encryption configuration");
        const aes = projectStack("prod");
        spec(aes, "artifacts-sse").props.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];
        expect((await validateStack(s3ServerSideEncryption, aes)).violations).to.deep.equal([]);
        expect((await validateStack(s3ServerSideEncryption, aes, { requireKms: true })).violations[0].message).to.include("requireKms");
    });

    it("links configurations by dependency when the bucket name is unknown", async () => {
        const specs = projectStack("prod", true);
        spec(specs, "artifacts-pab").props.bucket = U;
        expect((await validateStack(s3PublicAccessBlocked, specs)).violations).to.deep.equal([]);
        spec(specs, "artifacts-pab").propertyDependencies = {};
        const out = await validateStack(s3PublicAccessBlocked, specs);
        expect(out.violations[0].message).to.include("has no aws.s3.BucketPublicAccessBlock");
        expect(out.unchecked).to.include("which bucket");
    });
});

describe("sagemaker-data-protection", () => {
    it("passes configurations with KMS keys and rejects those without", async () => {
        const config = spec(projectStack("prod"), "endpoint-config");
        expect((await validateResource(sagemakerDataProtection, config)).violations[0].message).to.include("no KMS key at kmsKeyArn");
        config.props.kmsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/abc";
        expect((await validateResource(sagemakerDataProtection, config)).violations).to.deep.equal([]);
        const tuning = spec(projectStack("prod"), "tuning");
        expect((await validateResource(sagemakerDataProtection, tuning)).violations[0].message).to.include("trainingJobDefinition.outputDataConfig.kmsKeyId");
    });

    it("requires network isolation only when configured", async () => {
        const model = spec(projectStack("dev"), "model");
        expect((await validateResource(sagemakerDataProtection, model)).violations).to.deep.equal([]);
        expect((await validateResource(sagemakerDataProtection, model, { requireNetworkIsolation: true })).violations[0].message).to.include("enableNetworkIsolation");
        model.props.enableNetworkIsolation = true;
        expect((await validateResource(sagemakerDataProtection, model, { requireNetworkIsolation: true })).violations).to.deep.equal([]);
    });
});

describe("EC2 by other routes: spot instance requests and the default security group", () => {
    const spot = (props: object): Spec => ({
        type: "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
        name: "spot",
        props: { ami: "ami-1", instanceType: "m5.xlarge", metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true }, ...props },
    });

    it("passes a spot request configured like the project's instance", async () => {
        for (const policy of [ec2Imdsv2Required, ec2EncryptedVolumes, allowedInstanceTypes]) {
            const config = policy === allowedInstanceTypes ? prod["allowed-instance-types"] : {};
            expect((await validateResource(policy, spot({}), config)).violations, policy.name).to.deep.equal([]);
        }
    });

    it("rejects a spot request with IMDSv1, an unencrypted root volume or another instance type", async () => {
        expect((await validateResource(ec2Imdsv2Required, spot({ metadataOptions: {} }))).violations[0].message).to.include("SpotInstanceRequest 'spot' allows IMDSv1");
        expect((await validateResource(ec2EncryptedVolumes, spot({ rootBlockDevice: { encrypted: false } }))).violations[0].message).to.include("SpotInstanceRequest 'spot' has an unencrypted volume");
        expect((await validateResource(ec2EncryptedVolumes, spot({ ebsBlockDevices: [{ deviceName: "/dev/sdb", encrypted: false }] }))).violations).to.have.length(1);
        const types = await validateResource(allowedInstanceTypes, spot({ instanceType: "p4d.24xlarge" }), prod["allowed-instance-types"]);
        expect(types.violations[0].message).to.include("uses instance type p4d.24xlarge");
    });

    it("rejects internet ingress on the VPC's default security group, and passes it closed", async () => {
        const dsg = (ingress: object[]): Spec => ({ type: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", name: "default", props: { vpcId: "vpc-1", ingress } });
        const open = await validateResource(ec2NoPublicIngress, dsg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]));
        expect(open.violations[0].message).to.include("DefaultSecurityGroup 'default' ingress[0] allows ingress from 0.0.0.0/0 on port 22 including SSH (22)");
        expect((await validateResource(ec2NoPublicIngress, dsg([]))).violations).to.deep.equal([]);
    });
});
