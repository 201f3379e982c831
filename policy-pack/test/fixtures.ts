/**
 * The project's stacks as resource sets, shaped like infra/ registers them (see the policy-pack brief):
 * after an update every value is known; under preview, ARNs, versions and the inline policies built from
 * them are unknown and links run through property dependencies.
 */
import { Spec, U } from "./harness";

export type StackName = "dev" | "prod";

const account = "123456789012";
const region = "us-east-1";

export interface StackShape {
    endpointName: string;
    functionName: string;
    provisioned: number;
    reserved: number;
    maxInstances: number;
    training: "existing" | "tuning";
    ec2: boolean;
}

export const shapes: Record<StackName, StackShape> = {
    dev: { endpointName: "sagemaker-classifier-dev", functionName: "inference-dev-a1b2c3d", provisioned: 1, reserved: 5, maxInstances: 2, training: "existing", ec2: false },
    prod: { endpointName: "sagemaker-classifier-prod", functionName: "inference-prod-a1b2c3d", provisioned: 3, reserved: 20, maxInstances: 4, training: "tuning", ec2: true },
};

function arnOr(preview: boolean, value: string): string {
    return preview ? U : value;
}

export function lambdaPolicy(endpointName: string, functionName: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: `arn:aws:sagemaker:${region}:${account}:endpoint/${endpointName}` },
            {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: [`arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${functionName}`, `arn:aws:logs:${region}:${account}:log-group:/aws/lambda/${functionName}:*`],
            },
        ],
    });
}

function sagemakerPolicy(bucket: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadData", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/data/*`, `arn:aws:s3:::${bucket}/code/sourcedir.tar.gz`] },
            { Sid: "ListData", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}` },
            { Sid: "WriteOutput", Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::${bucket}/output/*` },
            { Sid: "EcrToken", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
            {
                Sid: "EcrPull",
                Effect: "Allow",
                Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                Resource: "arn:aws:ecr:us-east-1:763104351884:repository/pytorch-training",
            },
            {
                Sid: "Logs",
                Effect: "Allow",
                Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: `arn:aws:logs:${region}:${account}:log-group:/aws/sagemaker/*`,
            },
            {
                Sid: "Metrics",
                Effect: "Allow",
                Action: "cloudwatch:PutMetricData",
                Resource: "*",
                Condition: { StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } },
            },
        ],
    });
}

function ec2Policy(bucket: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadData", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/data/*`, `arn:aws:s3:::${bucket}/code/sourcedir.tar.gz`] },
            { Sid: "ListData", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}` },
            { Sid: "WriteModel", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `arn:aws:s3:::${bucket}/output/ec2/*` },
        ],
    });
}

/** A service's trust policy as infra/iam.ts writes it: pinned to the account, except for EC2, which sends no aws:SourceAccount. */
const trust = (service: string) =>
    JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: service },
                Action: "sts:AssumeRole",
                ...(service === "ec2.amazonaws.com" ? {} : { Condition: { StringEquals: { "aws:SourceAccount": account } } }),
            },
        ],
    });

/** The key encrypting a function's log group, as infra/components/inference-api.ts creates it. */
const logsKeyArn = (i: number | string) => `arn:aws:kms:${region}:${account}:key/0000000${i}-1111-2222-3333-444444444444`;

/** The project's resources for a stack; `preview` leaves unknown what `pulumi preview` cannot know. */
export function projectStack(stack: StackName, preview = false): Spec[] {
    const s = shapes[stack];
    const bucket = `sagemaker-classifier-${stack}-bucket-9f8e7d6`;
    const configName = `endpoint-config-${stack}-1a2b3c4`;
    const specs: Spec[] = [
        { type: "aws:s3/bucket:Bucket", name: "artifacts", props: { bucket, arn: arnOr(preview, `arn:aws:s3:::${bucket}`) } },
        {
            type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            name: "artifacts-pab",
            props: { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            propertyDependencies: { bucket: ["artifacts"] },
        },
        {
            type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            name: "artifacts-ownership",
            props: { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
            propertyDependencies: { bucket: ["artifacts"] },
        },
        {
            type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            name: "artifacts-sse",
            props: { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] },
            propertyDependencies: { bucket: ["artifacts"] },
        },
        { type: "aws:s3/bucketVersioning:BucketVersioning", name: "artifacts-versioning", props: { bucket, versioningConfiguration: { status: "Enabled" } } },
        {
            type: "aws:s3/bucketPolicy:BucketPolicy",
            name: "artifacts-tls-only",
            props: {
                bucket,
                policy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
                }),
            },
        },
        { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "sourcedir", props: { bucket, key: "code/sourcedir.tar.gz" } },
        {
            type: "aws:iam/role:Role",
            name: "sagemaker-role",
            props: { name: `sagemaker-role-${stack}-11aa22b`, assumeRolePolicy: trust("sagemaker.amazonaws.com"), arn: arnOr(preview, `arn:aws:iam::${account}:role/sagemaker-role-${stack}-11aa22b`) },
        },
        {
            type: "aws:iam/rolePolicy:RolePolicy",
            name: "sagemaker-role-policy",
            props: { role: `sagemaker-role-${stack}-11aa22b`, policy: sagemakerPolicy(bucket) },
            propertyDependencies: { role: ["sagemaker-role"] },
        },
        {
            type: "aws:iam/role:Role",
            name: "lambda-role",
            props: { name: `lambda-role-${stack}-33cc44d`, assumeRolePolicy: trust("lambda.amazonaws.com"), arn: arnOr(preview, `arn:aws:iam::${account}:role/lambda-role-${stack}-33cc44d`) },
        },
        {
            type: "aws:iam/rolePolicy:RolePolicy",
            name: "lambda-role-policy",
            // Built from the log group's ARN, so the whole document is unknown during preview.
            props: { role: `lambda-role-${stack}-33cc44d`, policy: preview ? U : lambdaPolicy(s.endpointName, s.functionName) },
            propertyDependencies: { role: ["lambda-role"], policy: ["endpoint", "inference-logs"] },
        },
        { type: "aws:cloudwatch/logGroup:LogGroup", name: "inference-logs", props: { name: `/aws/lambda/${s.functionName}`, retentionInDays: stack === "prod" ? 90 : 7, kmsKeyId: arnOr(preview, logsKeyArn(stack)) } },
        {
            type: "aws:sagemaker/model:Model",
            name: "model",
            props: { name: `model-${stack}-5e6f7a8`, executionRoleArn: arnOr(preview, `arn:aws:iam::${account}:role/sagemaker-role-${stack}-11aa22b`), enableNetworkIsolation: stack === "prod" },
            propertyDependencies: { executionRoleArn: ["sagemaker-role"] },
        },
        {
            type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            name: "endpoint-config",
            props: { name: configName, productionVariants: [{ variantName: "AllTraffic", modelName: `model-${stack}-5e6f7a8`, instanceType: "ml.m5.large", initialInstanceCount: 1 }] },
            propertyDependencies: { productionVariants: ["model"] },
        },
        {
            type: "aws:sagemaker/endpoint:Endpoint",
            name: "endpoint",
            props: { name: s.endpointName, endpointConfigName: preview ? U : configName },
            propertyDependencies: { endpointConfigName: ["endpoint-config"] },
        },
        {
            type: "aws:appautoscaling/target:Target",
            name: "endpoint-target",
            props: {
                serviceNamespace: "sagemaker",
                scalableDimension: "sagemaker:variant:DesiredInstanceCount",
                resourceId: `endpoint/${s.endpointName}/variant/AllTraffic`,
                minCapacity: 1,
                maxCapacity: s.maxInstances,
            },
            dependsOn: ["endpoint"],
        },
        {
            type: "aws:appautoscaling/policy:Policy",
            name: "endpoint-scaling",
            props: {
                policyType: "TargetTrackingScaling",
                resourceId: `endpoint/${s.endpointName}/variant/AllTraffic`,
                scalableDimension: "sagemaker:variant:DesiredInstanceCount",
                serviceNamespace: "sagemaker",
                targetTrackingScalingPolicyConfiguration: {
                    targetValue: 10,
                    scaleInCooldown: 30,
                    scaleOutCooldown: 30,
                    predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
                },
            },
            propertyDependencies: { resourceId: ["endpoint-target"], scalableDimension: ["endpoint-target"], serviceNamespace: ["endpoint-target"] },
        },
        {
            type: "aws:lambda/function:Function",
            name: "inference",
            props: {
                name: s.functionName,
                runtime: "nodejs22.x",
                handler: "index.handler",
                memorySize: 512,
                timeout: 30,
                publish: true,
                reservedConcurrentExecutions: s.reserved,
                role: arnOr(preview, `arn:aws:iam::${account}:role/lambda-role-${stack}-33cc44d`),
                environment: { variables: { ENDPOINT_NAME: s.endpointName } },
                version: preview ? U : "1",
                arn: arnOr(preview, `arn:aws:lambda:${region}:${account}:function:${s.functionName}`),
            },
            propertyDependencies: { role: ["lambda-role"], environment: ["endpoint"] },
            dependsOn: ["inference-logs", "lambda-role-policy"],
        },
        {
            type: "aws:lambda/alias:Alias",
            name: "inference-live",
            props: { name: "live", functionName: s.functionName, functionVersion: preview ? U : "1" },
            propertyDependencies: { functionName: ["inference"], functionVersion: ["inference"] },
        },
        {
            type: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
            name: "inference-warm",
            props: { functionName: s.functionName, qualifier: "live", provisionedConcurrentExecutions: s.provisioned },
            propertyDependencies: { functionName: ["inference"], qualifier: ["inference-live"] },
        },
    ];
    if (s.training === "tuning") {
        specs.push({
            type: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
            name: "tuning",
            props: {
                name: `tuning-${stack}-0a1b2c3`,
                config: { strategy: "Bayesian", resourceLimits: { maxNumberOfTrainingJobs: 4, maxParallelTrainingJobs: 2 } },
                trainingJobDefinition: {
                    roleArn: arnOr(preview, `arn:aws:iam::${account}:role/sagemaker-role-${stack}-11aa22b`),
                    resourceConfig: { instanceType: "ml.m5.xlarge", instanceCount: 1, volumeSizeInGb: 30 },
                    outputDataConfig: { s3OutputPath: `s3://${bucket}/output/` },
                    stoppingCondition: { maxRuntimeInSeconds: 3600 },
                },
            },
            propertyDependencies: { trainingJobDefinition: ["sagemaker-role", "artifacts"] },
        });
        specs.push({ type: "pulumi-nodejs:dynamic:Resource", name: "best-model", props: { tuningJobName: `tuning-${stack}-0a1b2c3` }, dependsOn: ["tuning"] });
    }
    if (s.ec2) {
        specs.push(
            {
                type: "aws:iam/role:Role",
                name: "ec2-role",
                props: { name: `ec2-role-${stack}-55ee66f`, assumeRolePolicy: trust("ec2.amazonaws.com"), arn: arnOr(preview, `arn:aws:iam::${account}:role/ec2-role-${stack}-55ee66f`) },
            },
            {
                type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                name: "ec2-ssm",
                props: { role: `ec2-role-${stack}-55ee66f`, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
                propertyDependencies: { role: ["ec2-role"] },
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                name: "ec2-role-policy",
                props: { role: `ec2-role-${stack}-55ee66f`, policy: ec2Policy(bucket) },
                propertyDependencies: { role: ["ec2-role"] },
            },
            { type: "aws:iam/instanceProfile:InstanceProfile", name: "ec2-profile", props: { role: `ec2-role-${stack}-55ee66f` } },
            {
                type: "aws:ec2/securityGroup:SecurityGroup",
                name: "ec2-sg",
                props: { ingress: [], egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] },
            },
            {
                type: "aws:ec2/instance:Instance",
                name: "ec2-trainer",
                props: {
                    instanceType: "m5.xlarge",
                    ami: "ami-0123456789abcdef0",
                    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
                    rootBlockDevice: { encrypted: true, volumeSize: 100, volumeType: "gp3" },
                    vpcSecurityGroupIds: [preview ? U : "sg-0123456789abcdef0"],
                },
                propertyDependencies: { vpcSecurityGroupIds: ["ec2-sg"], iamInstanceProfile: ["ec2-profile"] },
            },
        );
    }
    return specs;
}

/** The spec named `name` in a resource set (throws if absent, so a fault never silently misses). */
export function spec(specs: Spec[], name: string): Spec {
    const found = specs.find((s) => s.name === name);
    if (!found) throw new Error(`no resource ${name} in the test stack`);
    return found;
}

/**
 * Conditions that leave s3:GetObject on "*" reaching every bucket: on the caller's transport, time or network,
 * or let through when the key is missing (IfExists, ForAllValues on an empty set), present (Null: false) or
 * anything but one foreign value. Each is a route around a least-privilege check.
 */
export const conditionsNarrowingNothing: [string, object][] = [
    ["TLS only", { Bool: { "aws:SecureTransport": "true" } }],
    ["a time window", { DateLessThan: { "aws:CurrentTime": "2099-01-01T00:00:00Z" } }],
    ["the caller's own VPC", { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } }],
    ["IfExists on a key the request lacks", { StringEqualsIfExists: { "s3:ExistingObjectTag/project": "classifier" } }],
    ["Null: false (the key only has to exist)", { Null: { "aws:ResourceTag/project": "false" } }],
    ["ForAllValues on an empty set", { "ForAllValues:StringEquals": { "aws:TagKeys": ["project"] } }],
    ["StringNotEquals a foreign value", { StringNotEquals: { "aws:ResourceAccount": "999999999999" } }],
];

/** Resources per unit of the generated stack. */
const UNIT = 21;

/**
 * A synthetic stack of `count` resources (rounded down to whole units of twenty-one): per unit an inference API
 * with its role, inline policy, log group, function, alias and provisioned concurrency, an endpoint
 * with its configuration, scalable target and scaling policy, rolled out blue/green with rollback on its alarms,
 * error and latency alarms on the variant and the function, a SageMaker execution role with the project's policy
 * and the network-isolated model it serves (the unit's approved model package version, with the check of its
 * approval), and an EC2 training role with its policy and the SSM core policy.
 * Every unit is compliant, so policies walk their full pass path (the IAM simulator included: every
 * document is distinct, so its cache never answers for another unit); names are unique per unit as in a real stack.
 */
export function generatedStack(count: number): Spec[] {
    const specs: Spec[] = [];
    for (let i = 0; i < Math.floor(count / UNIT); i++) {
        const endpointName = `endpoint-${i}`;
        const functionName = `inference-${i}`;
        const roleName = `lambda-role-${i}`;
        const resourceId = `endpoint/${endpointName}/variant/AllTraffic`;
        specs.push(...serviceRoles(i));
        specs.push(
            { type: "aws:iam/role:Role", name: `role-${i}`, props: { name: roleName, assumeRolePolicy: trust("lambda.amazonaws.com") } },
            { type: "aws:iam/rolePolicy:RolePolicy", name: `role-policy-${i}`, props: { role: roleName, policy: lambdaPolicy(endpointName, functionName) }, propertyDependencies: { role: [`role-${i}`] } },
            { type: "aws:cloudwatch/logGroup:LogGroup", name: `logs-${i}`, props: { name: `/aws/lambda/${functionName}`, retentionInDays: 90, kmsKeyId: logsKeyArn(i) } },
            {
                type: "aws:lambda/function:Function",
                name: `function-${i}`,
                props: {
                    name: functionName,
                    runtime: "nodejs22.x",
                    memorySize: 512,
                    timeout: 30,
                    publish: true,
                    reservedConcurrentExecutions: 5,
                    role: `arn:aws:iam::${account}:role/${roleName}`,
                    environment: { variables: { ENDPOINT_NAME: endpointName } },
                    version: "1",
                },
                propertyDependencies: { role: [`role-${i}`], environment: [`endpoint-${i}`] },
            },
            { type: "aws:lambda/alias:Alias", name: `alias-${i}`, props: { name: "live", functionName, functionVersion: "1" }, propertyDependencies: { functionName: [`function-${i}`] } },
            {
                type: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
                name: `warm-${i}`,
                props: { functionName, qualifier: "live", provisionedConcurrentExecutions: 3 },
                propertyDependencies: { functionName: [`function-${i}`], qualifier: [`alias-${i}`] },
            },
            {
                type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
                name: `config-${i}`,
                props: { name: `config-${i}`, productionVariants: [{ variantName: "AllTraffic", modelName: `model-${i}`, instanceType: "ml.m5.large", initialInstanceCount: 1 }] },
                propertyDependencies: { productionVariants: [`model-${i}`] },
            },
            {
                type: "aws:sagemaker/endpoint:Endpoint",
                name: `endpoint-${i}`,
                props: {
                    name: endpointName,
                    endpointConfigName: `config-${i}`,
                    deploymentConfig: {
                        blueGreenUpdatePolicy: { terminationWaitInSeconds: 600, trafficRoutingConfiguration: { type: "ALL_AT_ONCE", waitIntervalInSeconds: 60 } },
                        autoRollbackConfiguration: { alarms: [{ alarmName: `alarm-5xx-${i}` }, { alarmName: `alarm-latency-${i}` }] },
                    },
                },
            },
            {
                type: "aws:appautoscaling/target:Target",
                name: `target-${i}`,
                props: { serviceNamespace: "sagemaker", scalableDimension: "sagemaker:variant:DesiredInstanceCount", resourceId, minCapacity: 1, maxCapacity: 4 },
                dependsOn: [`endpoint-${i}`],
            },
            {
                type: "aws:appautoscaling/policy:Policy",
                name: `scaling-${i}`,
                props: {
                    policyType: "TargetTrackingScaling",
                    resourceId,
                    scalableDimension: "sagemaker:variant:DesiredInstanceCount",
                    serviceNamespace: "sagemaker",
                    targetTrackingScalingPolicyConfiguration: { targetValue: 10, scaleInCooldown: 30, scaleOutCooldown: 30, predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" } },
                },
                propertyDependencies: { resourceId: [`target-${i}`] },
            },
            ...alarms(i, endpointName, functionName),
        );
    }
    return specs;
}

/** One unit's SageMaker execution role, the check of its model version's approval and its model, and its EC2 training role (seven resources). */
function serviceRoles(i: number): Spec[] {
    const bucket = `bench-artifacts-${i}`;
    const sagemakerRole = `sagemaker-role-${i}`;
    const ec2Role = `ec2-role-${i}`;
    const group = `bench-models-${i}`;
    const modelPackageArn = `arn:aws:sagemaker:${region}:${account}:model-package/${group}/1`;
    return [
        { type: "aws:iam/role:Role", name: `sm-role-${i}`, props: { name: sagemakerRole, assumeRolePolicy: trust("sagemaker.amazonaws.com") } },
        { type: "aws:iam/rolePolicy:RolePolicy", name: `sm-role-policy-${i}`, props: { role: sagemakerRole, policy: sagemakerPolicy(bucket) }, propertyDependencies: { role: [`sm-role-${i}`] } },
        {
            type: "pulumi-nodejs:dynamic/sagemaker-classifier:ApprovedModelVersion",
            name: `served-version-${i}`,
            // The version's artifact, which the execution role reads: the unit's bucket is the stack's through it.
            props: { groupName: group, version: 1, modelPackageArn, modelDataUrl: `s3://${bucket}/output/model.tar.gz` },
        },
        {
            type: "aws:sagemaker/model:Model",
            name: `model-${i}`,
            props: {
                name: `model-${i}`,
                executionRoleArn: `arn:aws:iam::${account}:role/${sagemakerRole}`,
                enableNetworkIsolation: true,
                primaryContainer: { modelPackageName: modelPackageArn },
            },
            propertyDependencies: { executionRoleArn: [`sm-role-${i}`], primaryContainer: [`served-version-${i}`] },
        },
        { type: "aws:iam/role:Role", name: `ec2-role-${i}`, props: { name: ec2Role, assumeRolePolicy: trust("ec2.amazonaws.com") } },
        { type: "aws:iam/rolePolicy:RolePolicy", name: `ec2-role-policy-${i}`, props: { role: ec2Role, policy: ec2Policy(bucket) }, propertyDependencies: { role: [`ec2-role-${i}`] } },
        {
            type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            name: `ec2-ssm-${i}`,
            props: { role: ec2Role, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
            propertyDependencies: { role: [`ec2-role-${i}`] },
        },
    ];
}

/** The four alarms observability-alarms-required asks of one unit: errors and latency, of the variant and of the function. */
function alarms(i: number, endpointName: string, functionName: string): Spec[] {
    const topic = `arn:aws:sns:${region}:${account}:alarms`;
    const alarm = (what: string, namespace: string, metricName: string, dimensions: Record<string, string>, on: string): Spec => ({
        type: "aws:cloudwatch/metricAlarm:MetricAlarm",
        name: `alarm-${what}-${i}`,
        props: { name: `alarm-${what}-${i}`, namespace, metricName, dimensions, statistic: "Sum", period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: "GreaterThanOrEqualToThreshold", alarmActions: [topic] },
        propertyDependencies: { dimensions: [on] },
    });
    const variant = { EndpointName: endpointName, VariantName: "AllTraffic" };
    const fn = { FunctionName: functionName, Resource: `${functionName}:live` };
    return [
        alarm("5xx", "AWS/SageMaker", "Invocation5XXErrors", variant, `endpoint-${i}`),
        alarm("latency", "AWS/SageMaker", "ModelLatency", variant, `endpoint-${i}`),
        alarm("errors", "AWS/Lambda", "Errors", fn, `function-${i}`),
        alarm("duration", "AWS/Lambda", "Duration", fn, `function-${i}`),
    ];
}
