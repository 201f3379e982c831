/** The policies added for the industry controls (docs/policy-controls.md), each passing and failing in process. */
import { expect } from "chai";
import { iamServiceTrustNoConfusedDeputy } from "../policies/iam/iam-service-trust-no-confused-deputy";
import { kmsKeyRotationAndDeletionWindow } from "../policies/kms/kms-key-rotation-and-deletion-window";
import { lambdaCodeSigningRequired } from "../policies/lambda/lambda-code-signing-required";
import { lambdaEnvironmentEncryptedWithCmk } from "../policies/lambda/lambda-environment-encrypted-with-cmk";
import { lambdaExplicitMemoryAndTimeout } from "../policies/lambda/lambda-explicit-memory-and-timeout";
import { lambdaFunctionUrlNoWildcardCors } from "../policies/lambda/lambda-function-url-no-wildcard-cors";
import { lambdaNoForeignLayers } from "../policies/lambda/lambda-no-foreign-layers";
import { lambdaReservedConcurrencySet } from "../policies/lambda/lambda-reserved-concurrency-set";
import { lambdaSupportedRuntime } from "../policies/lambda/lambda-supported-runtime";
import { lambdaXrayTracingActive } from "../policies/lambda/lambda-xray-tracing-active";
import { cloudwatchAlarmActionsEnabled } from "../policies/observability/cloudwatch-alarm-actions-enabled";
import { cloudwatchLogGroupEncryptedWithKms } from "../policies/observability/cloudwatch-log-group-encrypted-with-kms";
import { cloudwatchLogGroupRetention } from "../policies/observability/cloudwatch-log-group-retention";
import { s3BucketPolicyRequiresTls } from "../policies/s3/s3-bucket-policy-requires-tls";
import { s3ServerAccessLogging } from "../policies/s3/s3-server-access-logging";
import { sagemakerDataProtection } from "../policies/sagemaker/sagemaker-data-protection";
import { sagemakerDistributedJobsEncryptInterContainerTraffic } from "../policies/sagemaker/sagemaker-distributed-jobs-encrypt-inter-container-traffic";
import { sagemakerModelsAndJobsInVpc } from "../policies/sagemaker/sagemaker-models-and-jobs-in-vpc";
import { sagemakerNotebookVpcImdsv2AndSupportedPlatform } from "../policies/sagemaker/sagemaker-notebook-vpc-imdsv2-and-supported-platform";
import { noPlaintextSecrets } from "../policies/security/no-plaintext-secrets";
import { generatedStack, projectStack, spec } from "./fixtures";
import { Outcome, Spec, U, validateResource, validateStack } from "./harness";

const messages = (o: Outcome) => o.violations.map((v) => v.message);
const fn = (props: Record<string, unknown>): Spec => ({ type: "aws:lambda/function:Function", name: "fn", props: { runtime: "nodejs22.x", memorySize: 512, timeout: 30, ...props } });

describe("iam-service-trust-no-confused-deputy", () => {
    const policy = iamServiceTrustNoConfusedDeputy;
    const role = (statement: object): Spec => ({ type: "aws:iam/role:Role", name: "r", props: { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }) } });
    const sagemaker = { Effect: "Allow", Principal: { Service: "sagemaker.amazonaws.com" }, Action: "sts:AssumeRole" };

    it("passes a service trust pinned by aws:SourceAccount or aws:SourceArn, EC2's, and the project's roles", async () => {
        for (const Condition of [{ StringEquals: { "aws:SourceAccount": "123456789012" } }, { ArnLike: { "aws:SourceArn": "arn:aws:sagemaker:us-east-1:123456789012:*" } }]) {
            expect(messages(await validateResource(policy, role({ ...sagemaker, Condition })))).to.deep.equal([]);
        }
        expect(messages(await validateResource(policy, role({ ...sagemaker, Principal: { Service: "ec2.amazonaws.com" } })))).to.deep.equal([]);
        for (const resource of projectStack("prod").filter((s) => s.type === "aws:iam/role:Role")) expect(messages(await validateResource(policy, resource)), resource.name).to.deep.equal([]);
    });

    it("rejects a service trust without them, or with one that lets a request without the key through", async () => {
        for (const Condition of [undefined, { StringEqualsIfExists: { "aws:SourceAccount": "123456789012" } }, { StringLike: { "aws:SourceAccount": "*" } }, { Bool: { "aws:SecureTransport": "true" } }]) {
            const [message, ...rest] = messages(await validateResource(policy, role({ ...sagemaker, ...(Condition ? { Condition } : {}) })));
            expect(rest, JSON.stringify(Condition)).to.deep.equal([]);
            expect(message).to.include("lets sagemaker.amazonaws.com assume the role with no condition on aws:SourceAccount").and.include("servicesWithoutSourceKeys");
        }
        // The exemption is the config's: EC2 refused once removed from it.
        const ec2 = role({ ...sagemaker, Principal: { Service: "ec2.amazonaws.com" } });
        expect(messages(await validateResource(policy, ec2, { servicesWithoutSourceKeys: [] }))).to.have.length(1);
    });

    it("reports an unknown trust policy as unchecked", async () => {
        const out = await validateResource(policy, { type: "aws:iam/role:Role", name: "r", props: { assumeRolePolicy: U } });
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("assumeRolePolicy of Role 'r'");
    });
});

describe("kms-key-rotation-and-deletion-window", () => {
    const policy = kmsKeyRotationAndDeletionWindow;
    const key = (props: Record<string, unknown>): Spec => ({ type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true, deletionWindowInDays: 30, ...props } });

    it("passes a rotating key with a 30-day window, and an asymmetric key that cannot rotate", async () => {
        expect(messages(await validateResource(policy, key({})))).to.deep.equal([]);
        expect(messages(await validateResource(policy, key({ deletionWindowInDays: undefined })))).to.deep.equal([]);
        expect(messages(await validateResource(policy, key({ enableKeyRotation: undefined, customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })))).to.deep.equal([]);
    });

    it("rejects a key without rotation, with a short deletion window, or created disabled", async () => {
        expect(messages(await validateResource(policy, key({ enableKeyRotation: undefined })))[0]).to.include("does not rotate its key material");
        expect(messages(await validateResource(policy, key({ deletionWindowInDays: 7 })))[0]).to.include("7 days after its deletion is scheduled, less than 30");
        expect(messages(await validateResource(policy, key({ deletionWindowInDays: 7 }), { minDeletionWindowDays: 7 }))).to.deep.equal([]);
        expect(messages(await validateResource(policy, key({ isEnabled: false })))[0]).to.include("created disabled");
    });
});

describe("s3-bucket-policy-requires-tls", () => {
    const policy = s3BucketPolicyRequiresTls;
    const bucketName = "sagemaker-classifier-prod-bucket-9f8e7d6";
    const withBucketPolicy = (...Statement: object[]) => {
        const specs = projectStack("prod");
        spec(specs, "artifacts-tls-only").props.policy = JSON.stringify({ Version: "2012-10-17", Statement });
        return specs;
    };
    const tlsDeny = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } };

    it("passes the project's TLS-only bucket policy, as the simulator decides", async () => {
        const out = await validateStack(policy, projectStack("prod"));
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.equal(undefined);
    });

    it("rejects a bucket without a policy, and a policy whose Deny misses the objects or plain HTTP", async () => {
        const none = projectStack("prod").filter((s) => s.name !== "artifacts-tls-only");
        expect(messages(await validateStack(policy, none))[0]).to.include("has no bucket policy, so it accepts requests over plain HTTP");
        const bucketOnly = messages(await validateStack(policy, withBucketPolicy({ ...tlsDeny, Resource: `arn:aws:s3:::${bucketName}` })));
        expect(bucketOnly[0]).to.include("does not deny s3:GetObject on arn:aws:s3:::sagemaker-classifier-prod-bucket-9f8e7d6/probe-key, s3:PutObject");
        const tlsTrue = messages(await validateStack(policy, withBucketPolicy({ ...tlsDeny, Condition: { Bool: { "aws:SecureTransport": "true" } } })));
        expect(tlsTrue).to.have.length(1);
        const allowOnly = messages(await validateStack(policy, withBucketPolicy({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucketName}/*` })));
        expect(allowOnly).to.have.length(1);
    });

    it("reports a policy unknown during preview as unchecked", async () => {
        const specs = projectStack("prod");
        spec(specs, "artifacts-tls-only").props.policy = U;
        const out = await validateStack(policy, specs);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("BucketPolicy 'artifacts-tls-only'");
    });
});

describe("sagemaker-notebook-vpc-imdsv2-and-supported-platform", () => {
    const policy = sagemakerNotebookVpcImdsv2AndSupportedPlatform;
    const notebook = (props: Record<string, unknown>): Spec => ({
        type: "aws:sagemaker/notebookInstance:NotebookInstance",
        name: "nb",
        props: {
            subnetId: "subnet-0123456789abcdef0",
            securityGroups: ["sg-0123456789abcdef0"],
            instanceMetadataServiceConfiguration: { minimumInstanceMetadataServiceVersion: "2" },
            platformIdentifier: "notebook-al2023-v1",
            ...props,
        },
    });

    it("passes a notebook in a VPC subnet, IMDSv2 only, on a supported platform", async () => {
        expect(messages(await validateResource(policy, notebook({})))).to.deep.equal([]);
    });

    it("rejects a notebook outside your VPC, answering IMDSv1, or on an old or unset platform", async () => {
        expect(messages(await validateResource(policy, notebook({ subnetId: undefined })))[0]).to.include("does not run in your VPC");
        expect(messages(await validateResource(policy, notebook({ securityGroups: [] })))[0]).to.include("does not run in your VPC");
        expect(messages(await validateResource(policy, notebook({ instanceMetadataServiceConfiguration: undefined })))[0]).to.include("answers IMDSv1");
        expect(messages(await validateResource(policy, notebook({ platformIdentifier: "notebook-al2-v2" })))[0]).to.include("runs platform notebook-al2-v2, not one AWS still patches");
        expect(messages(await validateResource(policy, notebook({ platformIdentifier: undefined })))[0]).to.include("(unset");
    });
});

describe("sagemaker-distributed-jobs-encrypt-inter-container-traffic", () => {
    const policy = sagemakerDistributedJobsEncryptInterContainerTraffic;
    const tuning = (instanceCount: number, encrypt?: boolean): Spec => ({
        type: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
        name: "t",
        props: { trainingJobDefinition: { resourceConfig: { instanceCount, instanceType: "ml.m5.xlarge" }, ...(encrypt === undefined ? {} : { enableInterContainerTrafficEncryption: encrypt }) } },
    });

    it("passes a single-instance job (nothing crosses between instances) and an encrypted distributed one", async () => {
        expect(messages(await validateResource(policy, tuning(1)))).to.deep.equal([]);
        expect(messages(await validateResource(policy, tuning(4, true)))).to.deep.equal([]);
        const job: Spec = { type: "aws:sagemaker/trainingJob:TrainingJob", name: "j", props: { resourceConfig: { instanceGroups: [{ instanceCount: 1 }, { instanceCount: 2 }] }, enableInterContainerTrafficEncryption: true } };
        expect(messages(await validateResource(policy, job))).to.deep.equal([]);
    });

    it("rejects a distributed training or tuning job, and a monitoring job definition, without it", async () => {
        expect(messages(await validateResource(policy, tuning(2)))[0]).to.include("runs each trial on 2 instances without encrypting the traffic");
        expect(messages(await validateResource(policy, tuning(2, false)))).to.have.length(1);
        const job: Spec = { type: "aws:sagemaker/trainingJob:TrainingJob", name: "j", props: { resourceConfig: { instanceGroups: [{ instanceCount: 1 }, { instanceCount: 2 }] } } };
        expect(messages(await validateResource(policy, job))[0]).to.include("runs its job on 3 instances");
        const monitoring: Spec = { type: "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", name: "dq", props: { jobResources: { clusterConfig: { instanceCount: 1 } } } };
        expect(messages(await validateResource(policy, monitoring))[0]).to.include("networkConfig.enableInterContainerTrafficEncryption");
    });
});

describe("sagemaker-data-protection: volumes, monitoring jobs and domains", () => {
    const policy = sagemakerDataProtection;
    it("asks for the training volume's key and a monitoring job's and a domain's, and passes them set", async () => {
        const bare: Spec = { type: "aws:sagemaker/trainingJob:TrainingJob", name: "j", props: { outputDataConfig: { kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/k" }, resourceConfig: {} } };
        expect(messages(await validateResource(policy, bare))[0]).to.include("resourceConfig.volumeKmsKeyId");
        const keyed = { ...bare, props: { ...bare.props, resourceConfig: { volumeKmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/k" } } };
        expect(messages(await validateResource(policy, keyed))).to.deep.equal([]);
        const domain: Spec = { type: "aws:sagemaker/domain:Domain", name: "d", props: {} };
        expect(messages(await validateResource(policy, domain))[0]).to.include("no KMS key at kmsKeyId");
        const monitoring: Spec = { type: "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", name: "dq", props: {} };
        expect(messages(await validateResource(policy, monitoring))).to.have.length(2);
        expect(messages(await validateResource(policy, monitoring, { requireNetworkIsolation: true }))).to.have.length(3);
    });
});

describe("sagemaker-models-and-jobs-in-vpc", () => {
    const policy = sagemakerModelsAndJobsInVpc;
    const vpcConfig = { subnets: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0123456789abcdef0"] };
    it("passes models and jobs in a VPC, and reports them outside one", async () => {
        expect(messages(await validateResource(policy, { type: "aws:sagemaker/model:Model", name: "m", props: { vpcConfig } }))).to.deep.equal([]);
        expect(messages(await validateResource(policy, { type: "aws:sagemaker/model:Model", name: "m", props: {} }))[0]).to.include("runs its containers outside your VPC (vpcConfig unset)");
        const tuning = (definition: object): Spec => ({ type: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob", name: "t", props: { trainingJobDefinition: definition } });
        expect(messages(await validateResource(policy, tuning({ vpcConfig })))).to.deep.equal([]);
        expect(messages(await validateResource(policy, tuning({ vpcConfig: { subnets: [], securityGroupIds: ["sg-1"] } })))[0]).to.include("without subnets or security groups");
    });
});

describe("lambda-supported-runtime", () => {
    const policy = lambdaSupportedRuntime;
    it("passes supported runtimes and container images, and rejects deprecated ones unless accepted", async () => {
        for (const runtime of ["python3.13", "nodejs24.x", "java21"]) expect(messages(await validateResource(policy, fn({ runtime }))), runtime).to.deep.equal([]);
        expect(messages(await validateResource(policy, fn({ runtime: undefined, packageType: "Image" })))).to.deep.equal([]);
        for (const runtime of ["nodejs16.x", "python3.8", "go1.x", "java8"]) {
            const [message] = messages(await validateResource(policy, fn({ runtime })));
            expect(message, runtime).to.include(`uses ${runtime}, which AWS deprecated on`).and.include("acceptedDeprecatedRuntimes");
        }
        expect(messages(await validateResource(policy, fn({ runtime: "nodejs16.x" }), { acceptedDeprecatedRuntimes: ["nodejs16.x"] }))).to.deep.equal([]);
        expect(messages(await validateResource(policy, fn({ runtime: undefined })))[0]).to.include("no runtime");
    });

    it("reports a runtime the schedule does not know as undecidable, not as a pass", async () => {
        const out = await validateResource(policy, fn({ runtime: "nodejs99.x" }));
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("nodejs99.x").and.include("not in the pack's deprecation schedule");
    });
});

describe("no-plaintext-secrets", () => {
    const policy = noPlaintextSecrets;
    const env = (variables: Record<string, unknown>) => fn({ environment: { variables } });

    it("passes names, switches, references to a secret store and values computed by other resources", async () => {
        const out = await validateResource(policy, env({ ENDPOINT_NAME: "sagemaker-classifier-prod", ALLOW_HTTP_IMAGE_URLS: "false", API_KEY_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:api", DB_PASSWORD_PARAMETER: "/prod/db/password", TOKEN: U }));
        expect(out.violations).to.deep.equal([]);
    });

    it("rejects credential shapes under any name and literals under secret names, without repeating them", async () => {
        const cases: [Record<string, string>, string][] = [
            [{ KEY_ID: "AKIAABCDEFGHIJKLMNOP" }, "an AWS access key id"],
            [{ SIGNING: "-----BEGIN RSA PRIVATE KEY-----\nMIIE" }, "a private key"],
            [{ DATABASE_URL: "postgres://app:s3cr3t-pass@db.internal:5432/app" }, "credentials in a URL"],
            [{ DB_PASSWORD: "correct-horse-battery" }, "a literal value under the name DB_PASSWORD"],
            [{ GITHUB: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }, "a GitHub token"],
        ];
        for (const [variables, kind] of cases) {
            const [message, ...rest] = messages(await validateResource(policy, env(variables)));
            expect(rest).to.deep.equal([]);
            expect(message).to.include(kind).and.include("Secrets Manager");
            for (const value of Object.values(variables)) expect(message).not.to.include(value);
        }
    });

    it("rejects a notebook lifecycle script holding a secret, and passes one reading it from Secrets Manager", async () => {
        const lifecycle = (script: string): Spec => ({
            type: "aws:sagemaker/notebookInstanceLifecycleConfiguration:NotebookInstanceLifecycleConfiguration",
            name: "lc",
            props: { onStart: Buffer.from(script).toString("base64") },
        });
        const bad = messages(await validateResource(policy, lifecycle("#!/bin/bash\nexport HF_TOKEN=hf_abcdefghijklmnop\naws configure set aws_secret_access_key wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n")));
        expect(bad.join("\n")).to.include("onStart script holds a literal value under the name HF_TOKEN").and.include("a literal aws_secret_access_key given to aws configure");
        const good = "#!/bin/bash\nexport HF_TOKEN=$(aws secretsmanager get-secret-value --secret-id hf --query SecretString --output text)\n";
        expect(messages(await validateResource(policy, lifecycle(good)))).to.deep.equal([]);
    });
});

describe("lambda-function-url-no-wildcard-cors", () => {
    const policy = lambdaFunctionUrlNoWildcardCors;
    const url = (allowOrigins?: string[]): Spec => ({ type: "aws:lambda/functionUrl:FunctionUrl", name: "u", props: { authorizationType: "AWS_IAM", ...(allowOrigins ? { cors: { allowOrigins } } : {}) } });
    it("passes named origins and no CORS, and rejects '*'", async () => {
        expect(messages(await validateResource(policy, url()))).to.deep.equal([]);
        expect(messages(await validateResource(policy, url(["https://app.example.com"])))).to.deep.equal([]);
        expect(messages(await validateResource(policy, url(["https://app.example.com", "*"])))[0]).to.include('lets any web page call the function from a browser (cors.allowOrigins ["*"])');
    });
});

describe("lambda-no-foreign-layers", () => {
    const policy = lambdaNoForeignLayers;
    const withLayers = (layers: string[]) => {
        const specs = projectStack("prod");
        spec(specs, "inference").props.layers = layers;
        return specs;
    };
    it("passes the stack's own account's layers and trusted ones, and rejects another account's", async () => {
        expect(messages(await validateStack(policy, withLayers(["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"])))).to.deep.equal([]);
        const foreign = ["arn:aws:lambda:us-east-1:210987654321:layer:shared:1"];
        expect(messages(await validateStack(policy, withLayers(foreign)))[0]).to.include("loads layer arn:aws:lambda:us-east-1:210987654321:layer:shared:1 from account 210987654321");
        expect(messages(await validateStack(policy, withLayers(foreign), { trustedLayerAccounts: ["210987654321"] }))).to.deep.equal([]);
    });
});

describe("lambda settings checked as advisories and the reserved-concurrency limit", () => {
    it("lambda-xray-tracing-active: Active passes, anything else is reported", async () => {
        expect(messages(await validateResource(lambdaXrayTracingActive, fn({ tracingConfig: { mode: "Active" } })))).to.deep.equal([]);
        expect(messages(await validateResource(lambdaXrayTracingActive, fn({ tracingConfig: { mode: "PassThrough" } })))[0]).to.include("does not trace with X-Ray");
    });

    it("lambda-environment-encrypted-with-cmk: a key (known or not yet) passes, variables without one are reported", async () => {
        const variables = { environment: { variables: { A: "b" } } };
        expect(messages(await validateResource(lambdaEnvironmentEncryptedWithCmk, fn({ ...variables, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k" })))).to.deep.equal([]);
        expect((await validateResource(lambdaEnvironmentEncryptedWithCmk, fn({ ...variables, kmsKeyArn: U }))).violations).to.deep.equal([]);
        expect(messages(await validateResource(lambdaEnvironmentEncryptedWithCmk, fn({})))).to.deep.equal([]);
        expect(messages(await validateResource(lambdaEnvironmentEncryptedWithCmk, fn(variables)))[0]).to.include("Lambda's AWS managed key");
    });

    it("lambda-code-signing-required: a configuration passes, none is reported, images are exempt", async () => {
        expect(messages(await validateResource(lambdaCodeSigningRequired, fn({ codeSigningConfigArn: "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-1" })))).to.deep.equal([]);
        expect(messages(await validateResource(lambdaCodeSigningRequired, fn({ packageType: "Image" })))).to.deep.equal([]);
        expect(messages(await validateResource(lambdaCodeSigningRequired, fn({})))[0]).to.include("no codeSigningConfigArn");
    });

    it("lambda-explicit-memory-and-timeout: chosen values pass, defaults are reported", async () => {
        expect(messages(await validateResource(lambdaExplicitMemoryAndTimeout, fn({})))).to.deep.equal([]);
        expect(messages(await validateResource(lambdaExplicitMemoryAndTimeout, fn({ memorySize: 128, timeout: undefined })))).to.have.length(2);
    });

    it("lambda-reserved-concurrency-set: a limit passes, none or 0 is reported", async () => {
        expect(messages(await validateResource(lambdaReservedConcurrencySet, fn({ reservedConcurrentExecutions: 20 })))).to.deep.equal([]);
        for (const reserved of [undefined, 0, -1]) expect(messages(await validateResource(lambdaReservedConcurrencySet, fn({ reservedConcurrentExecutions: reserved }))), String(reserved)).to.have.length(1);
    });
});

describe("cloudwatch-log-group-retention", () => {
    const policy = cloudwatchLogGroupRetention;
    it("passes the project's stacks and the generated stack", async () => {
        for (const specs of [projectStack("prod"), projectStack("dev"), projectStack("prod", true), generatedStack(100)]) expect(messages(await validateStack(policy, specs))).to.deep.equal([]);
    });

    it("rejects a log group kept forever or shorter than configured, and a function logging to a group the stack does not create", async () => {
        const forever = projectStack("prod");
        delete spec(forever, "inference-logs").props.retentionInDays;
        expect(messages(await validateStack(policy, forever))[0]).to.include("keeps its logs forever");
        expect(messages(await validateStack(policy, projectStack("dev"), { minRetentionDays: 30 }))[0]).to.include("keeps its logs 7 days, less than 30");
        const orphan = projectStack("prod").filter((s) => s.name !== "inference-logs");
        spec(orphan, "inference").dependsOn = [];
        expect(messages(await validateStack(policy, orphan))[0]).to.include("writes to log group /aws/lambda/inference-prod-a1b2c3d, which this stack does not create");
    });
});

describe("cloudwatch-log-group-encrypted-with-kms and cloudwatch-alarm-actions-enabled", () => {
    it("log groups: a key passes (an ARN unknown during preview too), none is reported", async () => {
        const group = (kmsKeyId?: unknown): Spec => ({ type: "aws:cloudwatch/logGroup:LogGroup", name: "g", props: { name: "/aws/lambda/x", ...(kmsKeyId ? { kmsKeyId } : {}) } });
        expect(messages(await validateResource(cloudwatchLogGroupEncryptedWithKms, group("arn:aws:kms:us-east-1:123456789012:key/k")))).to.deep.equal([]);
        expect(await validateResource(cloudwatchLogGroupEncryptedWithKms, group(U))).to.deep.equal({ violations: [] });
        expect(messages(await validateResource(cloudwatchLogGroupEncryptedWithKms, group()))[0]).to.include("CloudWatch Logs' own key");
    });

    it("alarms: an enabled action passes, no action or disabled actions are reported", async () => {
        const alarm = (props: Record<string, unknown>): Spec => ({ type: "aws:cloudwatch/metricAlarm:MetricAlarm", name: "a", props: { alarmActions: ["arn:aws:sns:us-east-1:123456789012:t"], ...props } });
        expect(messages(await validateResource(cloudwatchAlarmActionsEnabled, alarm({})))).to.deep.equal([]);
        expect(messages(await validateResource(cloudwatchAlarmActionsEnabled, alarm({ alarmActions: [U] })))).to.deep.equal([]);
        expect(messages(await validateResource(cloudwatchAlarmActionsEnabled, alarm({ alarmActions: [] })))[0]).to.include("notifies nobody");
        expect(messages(await validateResource(cloudwatchAlarmActionsEnabled, alarm({ actionsEnabled: false })))[0]).to.include("actions disabled");
    });
});

describe("s3-server-access-logging", () => {
    it("passes a bucket with a logging configuration (and the log bucket itself), and reports one without", async () => {
        expect(messages(await validateStack(s3ServerAccessLogging, projectStack("prod")))[0]).to.include("records no server access logs");
        const logged = projectStack("prod");
        logged.push(
            { type: "aws:s3/bucket:Bucket", name: "logs", props: { bucket: "access-logs-bucket" } },
            { type: "aws:s3/bucketLogging:BucketLogging", name: "artifacts-logging", props: { bucket: "sagemaker-classifier-prod-bucket-9f8e7d6", targetBucket: "access-logs-bucket", targetPrefix: "artifacts/" } },
        );
        expect(messages(await validateStack(s3ServerAccessLogging, logged))).to.deep.equal([]);
    });
});
