/**
 * What the cloud provider would answer, without a cloud: the planned state of a new resource (preview) or
 * realistic outputs after a create (dryRun false), and the answers of the data-source invokes the project
 * uses. Values are in the engine's wire form (the same plain JSON a Struct carries).
 */
import { createHash } from "node:crypto";
import { getPolicyDocument } from "./policy-document";

/** The engine's marker for a value that is not known until the resource exists. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const ACCOUNT_ID = "123456789012";

export type Wire = Record<string, unknown>;

/**
 * Properties the AWS provider fills in during Check when the program leaves them out ("autonaming"):
 * the logical name plus a random suffix, limited to the service's maximum length. The provider does this
 * in Check, so the name is already known during a preview.
 */
const AUTONAMED: Record<string, { property: string; maxLength: number; lowercase?: boolean }> = {
    "aws:s3/bucket:Bucket": { property: "bucket", maxLength: 63, lowercase: true },
    "aws:s3/bucketV2:BucketV2": { property: "bucket", maxLength: 63, lowercase: true },
    "aws:iam/role:Role": { property: "name", maxLength: 64 },
    "aws:iam/policy:Policy": { property: "name", maxLength: 128 },
    "aws:iam/instanceProfile:InstanceProfile": { property: "name", maxLength: 128 },
    "aws:iam/rolePolicy:RolePolicy": { property: "name", maxLength: 128 },
    "aws:iam/user:User": { property: "name", maxLength: 64 },
    "aws:lambda/function:Function": { property: "name", maxLength: 64 },
    "aws:lambda/alias:Alias": { property: "name", maxLength: 128 },
    "aws:sagemaker/model:Model": { property: "name", maxLength: 63 },
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": { property: "name", maxLength: 63 },
    "aws:sagemaker/endpoint:Endpoint": { property: "name", maxLength: 63 },
    "aws:ec2/securityGroup:SecurityGroup": { property: "name", maxLength: 255 },
    "aws:ec2/launchTemplate:LaunchTemplate": { property: "name", maxLength: 128 },
    "aws:cloudwatch/logGroup:LogGroup": { property: "name", maxLength: 512 },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { property: "name", maxLength: 255 },
    "aws:appautoscaling/policy:Policy": { property: "name", maxLength: 255 },
    "aws:sqs/queue:Queue": { property: "name", maxLength: 80 },
    "aws:sns/topic:Topic": { property: "name", maxLength: 256 },
    "aws:ecr/repository:Repository": { property: "name", maxLength: 256, lowercase: true },
};

/** Deterministic per URN, so that two previews of the same program print the same names. */
function hex(seed: string, length: number): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

function autoname(urn: string, name: string, maxLength: number, lowercase: boolean): string {
    const suffix = "-" + hex(urn, 7);
    const base = (lowercase ? name.toLowerCase() : name).slice(0, Math.max(1, maxLength - suffix.length));
    return base + suffix;
}

/** The inputs after the provider's Check: the registered inputs plus autonamed properties. */
export function checkInputs(type: string, urn: string, name: string, inputs: Wire): Wire {
    const rule = AUTONAMED[type];
    if (!rule || inputs[rule.property] !== undefined || inputs[rule.property + "Prefix"] !== undefined) return inputs;
    return { ...inputs, [rule.property]: autoname(urn, name, rule.maxLength, rule.lowercase === true) };
}

function str(value: unknown, fallback: string): string {
    return typeof value === "string" && value !== UNKNOWN ? value : fallback;
}

interface CreateContext {
    urn: string;
    name: string;
    region: string;
}

/** Outputs of a completed create: what the AWS API would return for the types the project uses. */
function createdOutputs(type: string, props: Wire, ctx: CreateContext): { id: string; state: Wire } {
    const { region } = ctx;
    const arn = (service: string, resource: string, regional = true) =>
        `arn:aws:${service}:${regional ? region : ""}:${service === "s3" ? "" : ACCOUNT_ID}:${resource}`;
    const name = str(props.name, ctx.name);
    const shortId = (prefix: string) => `${prefix}-${hex(ctx.urn, 17)}`;
    switch (type) {
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2": {
            const bucket = str(props.bucket, ctx.name);
            return {
                id: bucket,
                state: {
                    arn: `arn:aws:s3:::${bucket}`,
                    bucketDomainName: `${bucket}.s3.amazonaws.com`,
                    bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                    hostedZoneId: "Z3AQBSTGFYJSTF",
                    region,
                },
            };
        }
        case "aws:s3/bucketObjectv2:BucketObjectv2":
            return { id: str(props.key, ctx.name), state: { etag: hex(ctx.urn, 32), versionId: hex(ctx.urn + "v", 32) } };
        case "aws:iam/role:Role":
            return { id: name, state: { arn: arn("iam", `role${str(props.path, "/")}${name}`, false), uniqueId: "AROA" + hex(ctx.urn, 17).toUpperCase() } };
        case "aws:iam/policy:Policy":
            return { id: arn("iam", `policy/${name}`, false), state: { arn: arn("iam", `policy/${name}`, false), policyId: "ANPA" + hex(ctx.urn, 17).toUpperCase() } };
        case "aws:iam/instanceProfile:InstanceProfile":
            return { id: name, state: { arn: arn("iam", `instance-profile/${name}`, false), uniqueId: "AIPA" + hex(ctx.urn, 17).toUpperCase() } };
        case "aws:iam/rolePolicy:RolePolicy":
            return { id: `${str(props.role, "role")}:${name}`, state: {} };
        case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            return { id: `${str(props.role, "role")}-${hex(ctx.urn, 26)}`, state: {} };
        case "aws:lambda/function:Function": {
            const functionArn = arn("lambda", `function:${name}`);
            const version = props.publish === true ? "1" : "$LATEST";
            const invoke = (target: string) => `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${target}/invocations`;
            return {
                id: name,
                state: {
                    arn: functionArn,
                    version,
                    qualifiedArn: `${functionArn}:${version}`,
                    invokeArn: invoke(functionArn),
                    qualifiedInvokeArn: invoke(`${functionArn}:${version}`),
                    lastModified: "2025-01-01T00:00:00.000+0000",
                    sourceCodeHash: hex(ctx.urn, 44),
                },
            };
        }
        case "aws:lambda/alias:Alias": {
            const aliasArn = arn("lambda", `function:${str(props.functionName, "function")}:${name}`);
            return { id: aliasArn, state: { arn: aliasArn, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${aliasArn}/invocations` } };
        }
        case "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
            return { id: `${str(props.functionName, "function")},${str(props.qualifier, "qualifier")}`, state: {} };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { id: name, state: { arn: arn("logs", `log-group:${name}`) } };
        case "aws:sagemaker/model:Model":
            return { id: name, state: { arn: arn("sagemaker", `model/${name.toLowerCase()}`) } };
        case "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
            return { id: name, state: { arn: arn("sagemaker", `endpoint-config/${name.toLowerCase()}`) } };
        case "aws:sagemaker/endpoint:Endpoint":
            return { id: name, state: { arn: arn("sagemaker", `endpoint/${name.toLowerCase()}`) } };
        case "aws:sagemaker/trainingJob:TrainingJob": {
            const job = str(props.trainingJobName, name);
            return { id: job, state: { arn: arn("sagemaker", `training-job/${job.toLowerCase()}`) } };
        }
        case "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob": {
            const job = str(props.hyperParameterTuningJobName, name);
            return { id: job, state: { arn: arn("sagemaker", `hyper-parameter-tuning-job/${job.toLowerCase()}`) } };
        }
        case "aws:ec2/securityGroup:SecurityGroup": {
            const id = shortId("sg");
            return { id, state: { arn: arn("ec2", `security-group/${id}`), ownerId: ACCOUNT_ID } };
        }
        case "aws:ec2/instance:Instance": {
            const id = shortId("i");
            return { id, state: { arn: arn("ec2", `instance/${id}`), privateIp: "10.0.0.10", primaryNetworkInterfaceId: shortId("eni"), instanceState: "running" } };
        }
        case "aws:appautoscaling/target:Target": {
            const resourceId = str(props.resourceId, ctx.name);
            return { id: resourceId, state: { arn: arn("application-autoscaling", `scalable-target/${hex(ctx.urn, 30)}`) } };
        }
        case "aws:appautoscaling/policy:Policy":
            return {
                id: name,
                state: {
                    arn: arn("autoscaling", `scalingPolicy:${hex(ctx.urn, 8)}-${hex(ctx.urn + "1", 4)}-${hex(ctx.urn + "2", 4)}-${hex(ctx.urn + "3", 4)}-${hex(ctx.urn + "4", 12)}:resource/${str(props.serviceNamespace, "service")}/${str(props.resourceId, "resource")}:policyName/${name}`),
                    alarmArns: [],
                },
            };
        // This project's dynamic resources, as their providers answer once their job is done (see infra/components).
        case "pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult": {
            const job = str(props.tuningJobName, ctx.name);
            const best = `${job}-001-${hex(job, 8)}`;
            return {
                id: job,
                state: {
                    status: "Completed", bestTrainingJobName: best, objectiveMetricName: "test:loss", objectiveValue: 0.5,
                    modelArtifactUri: `s3://sagemaker-output/${best}/output/model.tar.gz`, finalMetrics: { "test:loss": 0.5 },
                },
            };
        }
        case "pulumi-nodejs:dynamic/sagemaker-classifier:TrainingJobResult": {
            const job = str(props.trainingJobName, ctx.name);
            return { id: job, state: { status: "Completed", modelArtifactUri: `s3://sagemaker-output/${job}/output/model.tar.gz`, finalMetrics: { "test:loss": 0.5 } } };
        }
        case "pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion": {
            const arn = `arn:aws:sagemaker:${region}:${ACCOUNT_ID}:model-package/${str(props.groupName, "group")}/1`;
            return { id: arn, state: { modelPackageArn: arn, version: 1 } };
        }
        case "pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout":
            return { id: str(props.endpointName, ctx.name), state: { servingConfigName: str(props.endpointConfigName, "") } };
        default: {
            // Any other type: an id derived from the name and, for AWS types, an ARN in the service's namespace.
            const [pkg, mod] = type.split(":");
            const service = (mod ?? "").split("/")[0];
            const state: Wire = {};
            if (pkg === "aws" && service) state.arn = arn(service, `${type.split(":")[2]?.toLowerCase() ?? "resource"}/${name}`);
            return { id: `${ctx.name}-${hex(ctx.urn, 8)}`, state };
        }
    }
}

/**
 * The state the engine hands back for a new custom resource. Under preview it is the checked inputs and
 * nothing else: the SDK then resolves every other output as unknown, as it does against the real engine,
 * and the id is unknown. After a create it also carries the outputs the provider would report.
 */
export function plannedState(
    type: string,
    urn: string,
    name: string,
    checked: Wire,
    dryRun: boolean,
    region: string,
): { id: string; state: Wire } {
    if (dryRun) return { id: "", state: checked };
    const created = createdOutputs(type, checked, { urn, name, region });
    return { id: created.id, state: { ...checked, ...created.state, id: created.id } };
}

const AMI_ID = "ami-0c02fb55956c7d316";

type InvokeHandler = (args: Wire, region: string) => Wire;

const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** A secret argument arrives wrapped; the provider sees its value. */
function revealed(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealed);
    if (value !== null && typeof value === "object") {
        const record = value as Wire;
        if (record[SIGNATURE_KEY] === SECRET_SIGNATURE) return revealed(record.value);
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealed(v)]));
    }
    return value;
}

/** Answers of the data-source invokes, as the AWS provider shapes them. */
const INVOKES: Record<string, InvokeHandler> = {
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/preview`, userId: "AIDAPREVIEWUSER000000", id: ACCOUNT_ID }),
    "aws:index/getRegion:getRegion": (args, region) => {
        const name = str(args.region ?? args.name, region);
        return { name, region: name, id: name, description: name, endpoint: `ec2.${name}.amazonaws.com` };
    },
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", id: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" }),
    "aws:index/getAvailabilityZones:getAvailabilityZones": (args, region) => {
        const names = ["a", "b", "c"].map((z) => region + z);
        return { ...args, id: region, names, zoneIds: names.map((_, i) => `use1-az${i + 1}`), groupNames: [region] };
    },
    "aws:ssm/getParameter:getParameter": (args, region) => {
        const name = str(args.name, "parameter");
        const value = /ami/i.test(name) ? AMI_ID : "preview-value";
        return {
            ...args,
            id: name,
            name,
            arn: `arn:aws:ssm:${region}:${ACCOUNT_ID}:parameter${name.startsWith("/") ? "" : "/"}${name}`,
            type: "String",
            value,
            insecureValue: value,
            version: 1,
            withDecryption: args.withDecryption ?? true,
        };
    },
    "aws:ec2/getAmi:getAmi": (args, region) => ({
        ...args,
        id: AMI_ID,
        imageId: AMI_ID,
        arn: `arn:aws:ec2:${region}::image/${AMI_ID}`,
        architecture: "x86_64",
        name: "al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64",
        ownerId: "137112412989",
        rootDeviceName: "/dev/xvda",
        rootDeviceType: "ebs",
        virtualizationType: "hvm",
        state: "available",
    }),
    "aws:sagemaker/getPrebuiltEcrImage:getPrebuiltEcrImage": (args, region) => {
        // The provider's table maps the PyTorch/TensorFlow deep learning containers to AWS's DLC
        // account in the commercial regions.
        const imageRegion = str(args.region, region);
        const dnsSuffix = str(args.dnsSuffix, "amazonaws.com");
        const repositoryName = str(args.repositoryName, "repository");
        const imageTag = str(args.imageTag, "1");
        const registryId = "763104351884";
        return {
            ...args,
            id: registryId,
            registryId,
            region: imageRegion,
            dnsSuffix,
            repositoryName,
            imageTag,
            registryPath: `${registryId}.dkr.ecr.${imageRegion}.${dnsSuffix}/${repositoryName}:${imageTag}`,
        };
    },
    "aws:ec2/getSubnet:getSubnet": (args, region) => {
        const id = str(args.id, "subnet-0a1b2c3d4e5f60718");
        return { ...args, id, vpcId: "vpc-0a1b2c3d4e5f60718", availabilityZone: `${region}a`, cidrBlock: "10.0.1.0/24", arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:subnet/${id}`, ownerId: ACCOUNT_ID };
    },
    "aws:ec2/getVpc:getVpc": (args, region) => {
        const id = str(args.id, "vpc-0a1b2c3d4e5f60718");
        return { ...args, id, cidrBlock: "10.0.0.0/16", default: args.default ?? true, arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:vpc/${id}`, ownerId: ACCOUNT_ID };
    },
    "aws:iam/getPolicyDocument:getPolicyDocument": (args) => getPolicyDocument(revealed(args) as Wire),
};

/**
 * The answer of a data-source invoke. An invoke this preview cannot answer is an error naming it: echoing
 * the arguments back would give the program a result without the data source's outputs, which would reach
 * the policies as missing values and pass unchecked.
 */
export function invoke(token: string, args: Wire, region: string): Wire {
    const handler = INVOKES[token];
    if (!handler) {
        throw new Error(
            `the offline preview has no answer for this data source (it answers ${Object.keys(INVOKES).join(", ")}); ` +
                "pass the value in as stack config instead, or teach tools/preview/provider.ts the data source",
        );
    }
    return handler(args, region);
}
