/**
 * The real program under Pulumi mocks, with each stack's own Pulumi.<stack>.yaml, through the same capture
 * the offline preview uses: what would `pulumi up` create, and is every link and permission right?
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { CapturedResource, captureProgram, readStackConfig, UNKNOWN } from "../../tools/preview/capture";

const repoRoot = path.resolve(__dirname, "..", "..");
const program = path.join(repoRoot, "infra", "index.ts");
const contract = JSON.parse(fs.readFileSync(path.join(repoRoot, "training-scripts", "contract.json"), "utf8"));

interface Statement {
    Sid: string;
    Effect: string;
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
}

class Stack {
    constructor(readonly resources: CapturedResource[], readonly outputs: Record<string, unknown>, readonly programOutput = "") {}

    all(type: string): CapturedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    one(type: string, name?: string): CapturedResource {
        const found = this.all(type).filter((r) => name === undefined || r.name === name);
        expect(found, `${type}${name ? ` ${name}` : ""}`).to.have.length(1);
        return found[0];
    }

    byUrn(urn: string): CapturedResource {
        const found = this.resources.find((r) => r.urn === urn);
        if (!found) throw new Error(`no resource ${urn}`);
        return found;
    }

    /** The inline policy statements attached to a role. */
    statementsOf(role: CapturedResource): Statement[] {
        return this.all("aws:iam/rolePolicy:RolePolicy")
            .filter((p) => p.inputs.role === role.outputs.name)
            .flatMap((p) => (JSON.parse(p.inputs.policy as string) as { Statement: Statement[] }).Statement);
    }

    attachmentsOf(role: CapturedResource): string[] {
        return this.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((a) => a.inputs.role === role.outputs.name)
            .map((a) => a.inputs.policyArn as string);
    }
}

async function capture(stack: string, overrides: Record<string, unknown> = {}, dryRun = false): Promise<Stack> {
    const config = await readStackConfig(path.join(repoRoot, `Pulumi.${stack}.yaml`));
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) delete config[key];
        else config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const result = await captureProgram({ program, stack, config, dryRun });
    return new Stack(result.resources, result.stackOutputs, result.programOutput);
}

const resources = (list: Array<string | string[]>) => list.flat();

describe("the Pulumi program under mocks", function () {
    this.timeout(120_000);
    let prod: Stack;
    let dev: Stack;
    let devPreview: Stack;

    before(async () => {
        [prod, dev, devPreview] = await Promise.all([capture("prod"), capture("dev"), capture("dev", {}, true)]);
    });

    it("prod creates every piece, one component per concern", () => {
        for (const type of [
            "aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketObjectv2:BucketObjectv2",
            "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob", "pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult",
            "aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws:sagemaker/endpoint:Endpoint",
            "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy", "aws:ec2/instance:Instance",
            "aws:lambda/function:Function", "aws:lambda/alias:Alias", "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        ]) {
            prod.one(type);
        }
        const components = prod.resources.filter((r) => r.type.startsWith("sagemaker-classifier:")).map((r) => r.type);
        expect(components).to.have.members([
            "sagemaker-classifier:storage:ArtifactStore", "sagemaker-classifier:iam:SageMakerExecutionRole",
            "sagemaker-classifier:training:SageMakerTraining", "sagemaker-classifier:training:Ec2Training",
            "sagemaker-classifier:serving:InferenceEndpoint", "sagemaker-classifier:serving:EndpointAutoscaling",
            "sagemaker-classifier:api:InferenceApi", "sagemaker-classifier:api:HttpApi", "sagemaker-classifier:monitoring:Monitoring",
            "sagemaker-classifier:registry:ModelRegistry",
        ]);
        for (const r of prod.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) {
            expect(prod.byUrn(r.parent as string).type, `${r.name}'s parent`).to.match(/^sagemaker-classifier:/);
        }
    });

    it("dev deploys the existing model: no training job, no EC2 instance, the model from config", () => {
        expect(dev.all("aws:sagemaker/trainingJob:TrainingJob")).to.be.empty;
        expect(dev.all("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob")).to.be.empty;
        expect(dev.all("aws:ec2/instance:Instance")).to.be.empty;
        const model = dev.one("aws:sagemaker/model:Model");
        const container = model.inputs.primaryContainer as Record<string, unknown>;
        expect(container.modelDataUrl).to.equal("s3://sagemaker-us-east-1-123456789012/dog-breed-classifier/model/model.tar.gz");
    });

    it("the model serves inference.py from the PyTorch inference container for the region", () => {
        const container = dev.one("aws:sagemaker/model:Model").inputs.primaryContainer as Record<string, unknown>;
        expect(container.image).to.equal("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312-ubuntu22.04-sagemaker");
        expect(container.environment).to.include({ SAGEMAKER_PROGRAM: "inference.py", TS_DEFAULT_SERVICE_HANDLER: "serving_handler:handle" });
        // Variables sagemaker-pytorch-inference 2.0.25 never reads are not set: they would only mislead.
        const environment = container.environment as Record<string, string>;
        for (const noOp of ["SAGEMAKER_SUBMIT_DIRECTORY", "SAGEMAKER_REGION", "SAGEMAKER_CONTAINER_LOG_LEVEL"]) expect(environment).not.to.have.property(noOp);
        // prod registers the tuning job's best model with the same image and entry point, and serves an approved version.
        const registered = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion");
        expect(registered.inputs.image).to.equal(container.image);
        expect(registered.inputs.environment).to.deep.equal({ SAGEMAKER_PROGRAM: "inference.py" });
        const best = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult");
        expect(registered.propertyDependencies.modelDataUrl).to.include(best.urn);
        expect(registered.inputs.metrics, "the best job's final metrics").to.deep.equal({ "test:loss": 0.5 });
    });

    it("prod serves only the approved model package version its config pins, checked before the model is created", () => {
        const group = prod.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup");
        expect(group.inputs.modelPackageGroupName).to.equal("sagemaker-classifier-prod");
        expect(group.options.retainOnDelete, "versions and approvals outlive the stack, as the bucket does").to.equal(true);
        expect(prod.all("pulumi-nodejs:dynamic/sagemaker-classifier:ModelRegistryCleanup")).to.deep.equal([]);
        expect(prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion").inputs).to.include({ groupName: "sagemaker-classifier-prod", initialApproval: "PendingManualApproval" });
        const gate = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:ApprovedModelVersion");
        expect(gate.inputs).to.include({ groupName: "sagemaker-classifier-prod", version: 1, modelPackageArn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-classifier-prod/1" });
        const model = prod.one("aws:sagemaker/model:Model");
        const container = model.inputs.primaryContainer as Record<string, unknown>;
        expect(container.modelPackageName).to.equal(gate.inputs.modelPackageArn);
        expect(container, "image and artifact come from the approved version").to.not.have.any.keys("image", "modelDataUrl");
        expect(model.propertyDependencies.primaryContainer).to.include(gate.urn);
        expect(prod.outputs).to.include({ modelPackageGroup: "sagemaker-classifier-prod", servedModelPackage: gate.inputs.modelPackageArn });
        // dev deletes its registry on destroy: the cleanup empties the group first (SageMaker refuses to delete one with versions).
        const devGroup = dev.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup");
        expect(devGroup.options.retainOnDelete ?? false).to.equal(false);
        expect(dev.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelRegistryCleanup").dependencies).to.include(devGroup.urn);
    });

    it("a stack that approves by hand and pins no version deploys no endpoint yet, and says what to do", async () => {
        const stack = await capture("prod", { "sagemaker-classifier:modelRegistry": { approval: "manual" } });
        for (const type of ["aws:sagemaker/model:Model", "aws:sagemaker/endpoint:Endpoint", "aws:lambda/function:Function", "aws:appautoscaling/target:Target"]) {
            expect(stack.all(type), type).to.deep.equal([]);
        }
        stack.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion");
        expect(stack.outputs).to.not.have.any.keys("endpointName", "invokeCommand", "servedModelPackage");
        expect(stack.programOutput).to.include("No endpoint yet: this stack registers what it trains for approval");
        // Approving automatically, it serves what it trained, from the version it registered as Approved.
        const auto = await capture("prod", { "sagemaker-classifier:modelRegistry": { approval: "auto" } });
        const registered = auto.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion");
        expect(registered.inputs.initialApproval).to.equal("Approved");
        expect(auto.one("aws:sagemaker/model:Model").propertyDependencies.primaryContainer).to.include(registered.urn);
    });

    it("TorchServe's workers and batching are always explicit: one worker per two vCPUs, one on serverless", async () => {
        const defaults = (prod.one("aws:sagemaker/model:Model").inputs.primaryContainer as { environment: Record<string, string> }).environment;
        expect(defaults).to.include({ SAGEMAKER_TS_BATCH_SIZE: "1", SAGEMAKER_TS_MIN_WORKERS: "1", SAGEMAKER_TS_MAX_WORKERS: "1" });
        const environmentOf = async (modelServer: Record<string, unknown>, instanceType = "ml.m5.large") => {
            const stack = await capture("dev", { "sagemaker-classifier:endpoint": { instanceType, modelServer } });
            return (stack.one("aws:sagemaker/model:Model").inputs.primaryContainer as { environment: Record<string, string> }).environment;
        };
        const [batched, workers, serverless] = await Promise.all([
            environmentOf({ batchSize: 4, maxBatchDelayMs: 20 }, "ml.c5.2xlarge"),
            environmentOf({ workers: 3 }),
            capture("dev", { "sagemaker-classifier:endpoint": { mode: "serverless" } }).then(
                (stack) => (stack.one("aws:sagemaker/model:Model").inputs.primaryContainer as { environment: Record<string, string> }).environment,
            ),
        ]);
        // Without SAGEMAKER_TS_* the container would start one worker (one model copy) per CPU of the serverless worker.
        expect(serverless).to.include({ SAGEMAKER_TS_MIN_WORKERS: "1", SAGEMAKER_TS_MAX_WORKERS: "1" });
        // Without a worker count, one per two vCPUs of the instance type (4 on ml.c5.2xlarge's 8), not the toolkit's 1.
        expect(batched).to.include({ SAGEMAKER_TS_BATCH_SIZE: "4", SAGEMAKER_TS_MAX_BATCH_DELAY: "20", SAGEMAKER_TS_MIN_WORKERS: "4", SAGEMAKER_TS_MAX_WORKERS: "4", SAGEMAKER_PROGRAM: "inference.py" });
        expect(workers).to.include({ SAGEMAKER_TS_BATCH_SIZE: "1", SAGEMAKER_TS_MAX_BATCH_DELAY: "100", SAGEMAKER_TS_MIN_WORKERS: "3", SAGEMAKER_TS_MAX_WORKERS: "3" });
    });

    it("the endpoint runs ml.m5.large behind an auto-named configuration", () => {
        const config = prod.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration");
        expect(config.inputs.name, "auto-named, so a change creates a new config before deleting the old").to.match(/^classifier-config-[0-9a-f]{7}$/);
        const [variant] = config.inputs.productionVariants as Array<Record<string, unknown>>;
        expect(variant).to.include({ variantName: "AllTraffic", instanceType: "ml.m5.large", initialInstanceCount: 1 });
        const endpoint = prod.one("aws:sagemaker/endpoint:Endpoint");
        expect(endpoint.inputs).to.include({ name: "sagemaker-classifier-prod", endpointConfigName: config.outputs.name });
        // The fixed name leaves a replacement only one way: delete first.
        expect(endpoint.options.deleteBeforeReplace).to.equal(true);
    });

    it("the provider only creates the endpoint; EndpointRollout moves it to each new configuration and checks it got there", () => {
        for (const s of [prod, dev]) {
            const config = s.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration");
            const endpoint = s.one("aws:sagemaker/endpoint:Endpoint");
            expect(endpoint.options.ignoreChanges, "the provider would update without checking where the endpoint ended up").to.deep.equal(["endpointConfigName"]);
            // Create-before-delete: the old configuration goes only when every step, the rollout's check included, succeeded.
            expect(config.options.deleteBeforeReplace ?? false, "deleting first would delete the configuration that serves").to.equal(false);
            expect(config.options.retainOnDelete ?? false, "old configurations are deleted, once nothing serves them").to.equal(false);
            const rollout = s.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout");
            expect(rollout.inputs).to.include({ endpointName: endpoint.inputs.name, endpointConfigName: config.outputs.name, timeoutSeconds: 7200 });
            expect(rollout.propertyDependencies.endpointConfigName).to.include(config.urn);
            expect(rollout.dependencies, "it rolls an endpoint that exists").to.include(endpoint.urn);
            expect(rollout.inputs.sdk).to.deep.equal({ region: "us-east-1" });
            // A Failed endpoint is deleted before the provider would collide with its name, and created again by the rollout.
            const cleanup = s.one("pulumi-nodejs:dynamic/sagemaker-classifier:FailedEndpointCleanup");
            expect(endpoint.dependencies).to.include(cleanup.urn);
            expect(rollout.propertyDependencies.recreateAfter).to.include(cleanup.urn);
        }
        const rollout = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout");
        const shape = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:VariantShape");
        expect(rollout.propertyDependencies.variantShape, "a new instance type rolls out after auto-scaling is deregistered").to.include(shape.urn);
        expect(prod.one("aws:appautoscaling/target:Target").propertyDependencies.resourceId, "registered again after the rollout").to.include(rollout.urn);
        expect(dev.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout").inputs.variantShape).to.equal("serverless");
    });

    it("dev serves from a serverless variant: no instances, no Application Auto Scaling", () => {
        const [variant] = dev.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.productionVariants as Array<Record<string, unknown>>;
        expect(variant).to.deep.include({ variantName: "AllTraffic", serverlessConfig: { memorySizeInMb: 3072, maxConcurrency: 2 } });
        expect(variant).to.not.have.any.keys("instanceType", "initialInstanceCount");
        expect(dev.all("aws:appautoscaling/target:Target")).to.be.empty;
        expect(dev.all("aws:appautoscaling/policy:Policy")).to.be.empty;
        expect(dev.one("aws:sagemaker/endpoint:Endpoint").inputs).to.include({ name: "sagemaker-classifier-dev" });
    });

    it("a serverless variant gets provisioned concurrency only when the stack asks for it", async () => {
        const warm = await capture("dev", { "sagemaker-classifier:endpoint": { mode: "serverless", serverless: { memorySizeMb: 6144, maxConcurrency: 10, provisionedConcurrency: 2 } } });
        const [variant] = warm.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs.productionVariants as Array<Record<string, unknown>>;
        expect(variant.serverlessConfig).to.deep.equal({ memorySizeInMb: 6144, maxConcurrency: 10, provisionedConcurrency: 2 });
    });

    it("prod: the scalable target names the real endpoint and variant and waits for the endpoint", () => {
        const s = prod;
        const endpoint = s.one("aws:sagemaker/endpoint:Endpoint");
        const target = s.one("aws:appautoscaling/target:Target");
        expect(target.inputs).to.include({
            serviceNamespace: "sagemaker",
            scalableDimension: "sagemaker:variant:DesiredInstanceCount",
            resourceId: "endpoint/sagemaker-classifier-prod/variant/AllTraffic",
            minCapacity: 1,
            maxCapacity: 4,
        });
        const rollout = s.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout");
        expect(target.dependencies, "registered once the endpoint serves its configuration").to.include(rollout.urn);
        expect(rollout.dependencies).to.include(endpoint.urn);
        const policy = s.one("aws:appautoscaling/policy:Policy");
        expect(policy.inputs).to.include({ policyType: "TargetTrackingScaling", resourceId: target.inputs.resourceId });
        expect(policy.inputs.targetTrackingScalingPolicyConfiguration).to.deep.equal({
            targetValue: 10,
            scaleInCooldown: 30,
            scaleOutCooldown: 30,
            predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
        });
    });

    it("prod rolls out with guardrails that roll back on the stack's own 5xx and latency alarms; dev's serverless variant has none", () => {
        const rollout = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout");
        const alarms = prod.all("aws:cloudwatch/metricAlarm:MetricAlarm");
        const guardrail = rollout.inputs.guardrail as { alarmNames: string[] } & Record<string, unknown>;
        expect(guardrail).to.deep.include({ trafficShifting: "canary", canaryPercent: 25, linearStepPercent: 25, waitIntervalSeconds: 300, bakingPeriodSeconds: 900 });
        expect(guardrail.alarmNames).to.deep.equal(["sagemaker-classifier-prod-AllTraffic-5xx", "sagemaker-classifier-prod-AllTraffic-latency-p99"]);
        for (const name of guardrail.alarmNames) {
            const alarm = alarms.find((a) => a.inputs.name === name);
            expect(alarm, `alarm ${name} is the stack's own`).to.not.equal(undefined);
            expect(alarm?.inputs.dimensions).to.deep.equal({ EndpointName: "sagemaker-classifier-prod", VariantName: "AllTraffic" });
            expect(rollout.dependencies, `${name} exists before a rollout watches it`).to.include(alarm?.urn);
        }
        // The provider's endpoint never gets a deploymentConfig: it marks autoRollbackConfiguration ForceNew, and
        // replacing an endpoint with a fixed name collides.
        expect(prod.one("aws:sagemaker/endpoint:Endpoint").inputs.deploymentConfig).to.equal(undefined);
        expect(dev.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout").inputs.guardrail).to.equal(undefined);
    });

    it("a new endpoint instance type re-registers the scalable target around the rollout, in one pulumi up", () => {
        const shape = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:VariantShape");
        expect(shape.inputs).to.include({ instanceType: "ml.m5.large", scalableResourceId: "endpoint/sagemaker-classifier-prod/variant/AllTraffic" });
        expect(shape.options.deleteBeforeReplace).to.equal(true);
        // The target's replace-on-change resource id comes from the shape: replacing the shape deletes target and policy first.
        expect(prod.one("aws:appautoscaling/target:Target").propertyDependencies.resourceId).to.include(shape.urn);
        // The rollout's in-place input comes from the shape: it waits until the target is gone.
        const rollout = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout");
        expect(rollout.inputs.variantShape).to.equal("ml.m5.large");
        expect(prod.one("aws:sagemaker/endpoint:Endpoint").inputs.tags).to.deep.equal({ project: "sagemaker-classifier", stack: "prod", environment: "prod", "cost-center": "ml-prod" });
    });

    it("the scalable target's resource id is known at preview, so policies can link it to the endpoint", async () => {
        const instances = await capture("dev", { "sagemaker-classifier:endpoint": { mode: "instances" } }, true);
        expect(instances.one("aws:appautoscaling/target:Target").inputs.resourceId).to.equal("endpoint/sagemaker-classifier-dev/variant/AllTraffic");
    });

    it("provisioned concurrency sits on the alias of a published version, never $LATEST", () => {
        const fn = prod.one("aws:lambda/function:Function");
        const alias = prod.one("aws:lambda/alias:Alias");
        const pc = prod.one("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig");
        expect(fn.inputs).to.include({ publish: true, runtime: "nodejs22.x", handler: "index.handler", reservedConcurrentExecutions: 20 });
        expect(alias.inputs).to.include({ name: "live", functionName: fn.outputs.name, functionVersion: fn.outputs.version });
        expect(alias.inputs.functionVersion).to.not.equal("$LATEST");
        expect(pc.inputs).to.include({ functionName: fn.outputs.name, qualifier: "live", provisionedConcurrentExecutions: 3 });
        expect(pc.propertyDependencies.qualifier).to.include(alias.urn);
        expect(dev.one("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig").inputs.provisionedConcurrentExecutions).to.equal(1);
        // dev reserves nothing (small accounts cannot), and both stacks check the account's concurrency first.
        expect(dev.one("aws:lambda/function:Function").inputs.reservedConcurrentExecutions).to.equal(undefined);
        for (const s of [prod, dev]) {
            const check = s.one("pulumi-nodejs:dynamic/sagemaker-classifier:LambdaConcurrencyCheck");
            expect(s.one("aws:lambda/function:Function").dependencies, "the check runs before the function changes").to.include(check.urn);
        }
        expect(prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:LambdaConcurrencyCheck").inputs).to.include({ reservedConcurrency: 20, provisionedConcurrency: 3 });
    });

    it("the Lambda is configured with the endpoint's name and ships the bundled handler", () => {
        const fn = prod.one("aws:lambda/function:Function");
        const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
        expect(env).to.include({ ENDPOINT_NAME: "sagemaker-classifier-prod", ALLOW_HTTP_IMAGE_URLS: "false" });
        expect(Number(env.IMAGE_FETCH_TIMEOUT_MS) + Number(env.INVOKE_TIMEOUT_MS)).to.be.below((fn.inputs.timeout as number) * 1000);
        // The image is the whole invocation payload: SageMaker takes 6 MB on instances, 4 MB serverless (dev).
        expect(env.MAX_IMAGE_BYTES).to.equal("6000000");
        const devEnv = (dev.one("aws:lambda/function:Function").inputs.environment as { variables: Record<string, string> }).variables;
        expect(devEnv.MAX_IMAGE_BYTES).to.equal("4000000");
        const code = fn.inputs.code as Record<string, unknown>;
        expect(code.path).to.be.a("string").and.match(/lambda-src[\\/]dist$/);
        expect(fs.existsSync(path.join(code.path as string, "index.js"))).to.equal(true);
        const logGroup = prod.one("aws:cloudwatch/logGroup:LogGroup", "inference-api-logs");
        expect(fn.inputs.loggingConfig).to.include({ logGroup: logGroup.outputs.name, logFormat: "JSON" });
        expect(logGroup.inputs.retentionInDays).to.equal(90);
        // Encrypted with its own rotating key, which CloudWatch Logs may use for this log group only.
        const key = prod.one("aws:kms/key:Key", "inference-api-logs-key");
        expect(logGroup.inputs.kmsKeyId).to.equal(key.outputs.arn);
        expect(key.inputs).to.include({ enableKeyRotation: true, deletionWindowInDays: 30 });
        const forLogs = (JSON.parse(key.inputs.policy as string) as { Statement: Array<Record<string, unknown>> }).Statement.find(
            (s) => (s.Principal as Record<string, string>).Service === "logs.us-east-1.amazonaws.com",
        );
        expect(forLogs?.Condition).to.deep.equal({
            ArnEquals: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/sagemaker-classifier-prod-inference-api" },
        });
    });

    it("prod's model runs network-isolated and takes image bytes only; dev's may reach the network", () => {
        const model = prod.one("aws:sagemaker/model:Model");
        expect(model.inputs.enableNetworkIsolation).to.equal(true);
        expect((model.inputs.primaryContainer as { environment: Record<string, string> }).environment).to.include({ IMAGE_URL_INPUT: "false" });
        const devModel = dev.one("aws:sagemaker/model:Model");
        expect(devModel.inputs.enableNetworkIsolation).to.equal(false);
        expect((devModel.inputs.primaryContainer as { environment: Record<string, string> }).environment).to.include({ IMAGE_URL_INPUT: "false" });
    });

    it("prod has an HTTPS front on the live alias: IAM-authorised, throttled, access-logged, no CORS; dev has none", () => {
        const api = prod.one("aws:apigatewayv2/api:Api");
        expect(api.inputs).to.include({ protocolType: "HTTP" });
        expect(api.inputs.corsConfiguration).to.equal(undefined);
        const route = prod.one("aws:apigatewayv2/route:Route");
        expect(route.inputs).to.include({ routeKey: "POST /predict", authorizationType: "AWS_IAM" });
        const integration = prod.one("aws:apigatewayv2/integration:Integration");
        const alias = prod.one("aws:lambda/alias:Alias");
        expect(integration.inputs).to.include({ integrationType: "AWS_PROXY", payloadFormatVersion: "2.0", integrationUri: alias.outputs.arn, timeoutMilliseconds: 30000 });
        const stage = prod.one("aws:apigatewayv2/stage:Stage");
        expect(stage.inputs.defaultRouteSettings).to.deep.include({ throttlingRateLimit: 20, throttlingBurstLimit: 40 });
        const accessLogs = prod.one("aws:cloudwatch/logGroup:LogGroup", "http-api-access-logs");
        expect(accessLogs.inputs.retentionInDays).to.equal(90);
        const accessLog = stage.inputs.accessLogSettings as { destinationArn: string; format: string };
        expect(accessLog.destinationArn).to.equal(accessLogs.outputs.arn);
        expect(Object.keys(JSON.parse(accessLog.format))).to.include.members(["requestId", "status", "iamPrincipal", "authorizerError"]);
        const permission = prod.one("aws:lambda/permission:Permission");
        expect(permission.inputs).to.include({ action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com", qualifier: "live" });
        expect(permission.inputs.sourceArn).to.match(/\/\*\/POST\/predict$/);
        expect(prod.outputs.httpApiUrl).to.be.a("string");
        expect(prod.outputs.httpApiRouteArn).to.equal(permission.inputs.sourceArn);
        expect(dev.all("aws:apigatewayv2/api:Api")).to.be.empty;
        expect(dev.outputs).to.not.have.property("httpApiUrl");
    });

    it("the Lambda role may invoke this one endpoint and write its own logs, nothing more", () => {
        const fn = prod.one("aws:lambda/function:Function");
        const role = prod.resources.find((r) => r.type === "aws:iam/role:Role" && r.outputs.arn === fn.inputs.role) as CapturedResource;
        expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Principal).to.deep.equal({ Service: "lambda.amazonaws.com" });
        expect(prod.attachmentsOf(role)).to.be.empty;
        const statements = prod.statementsOf(role);
        expect(statements.map((s) => [s.Action, s.Resource])).to.deep.equal([
            [["sagemaker:InvokeEndpoint"], "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sagemaker-classifier-prod"],
            [["logs:CreateLogStream", "logs:PutLogEvents"], `${prod.one("aws:cloudwatch/logGroup:LogGroup", "inference-api-logs").outputs.arn}:*`],
        ]);
        // Known already at preview, so the least-privilege policies can judge it before anything exists.
        const previewRole = devPreview.one("aws:iam/rolePolicy:RolePolicy", "inference-api-permissions");
        expect(JSON.parse(previewRole.inputs.policy as string).Statement.map((s: Statement) => s.Resource)).to.deep.equal([
            "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sagemaker-classifier-dev",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/sagemaker-classifier-dev-inference-api:*",
        ]);
    });

    it("the SageMaker role reads the dataset and code, writes its output prefix, and uses '*' only where IAM offers no resource", () => {
        const role = prod.one("aws:iam/role:Role", "sagemaker-role");
        expect(prod.attachmentsOf(role), "no AmazonSageMakerFullAccess or any managed policy").to.be.empty;
        const statements = prod.statementsOf(role);
        const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
        const bucket = prod.one("aws:s3/bucket:Bucket").outputs.bucket;
        expect(bySid.ReadDataset.Resource).to.equal("arn:aws:s3:::sagemaker-us-east-1-123456789012/dog-breed-classifier/dogImages/*");
        expect(bySid.WriteAndReadOutput.Resource).to.equal(`arn:aws:s3:::${bucket}/output/sagemaker/*`);
        expect(bySid.PullFrameworkImages.Resource).to.have.members([
            "arn:aws:ecr:us-east-1:763104351884:repository/pytorch-training",
            "arn:aws:ecr:us-east-1:763104351884:repository/pytorch-inference",
        ]);
        const wildcards = statements.filter((s) => resources([s.Resource]).includes("*"));
        expect(wildcards.map((s) => s.Action).flat()).to.have.members(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"]);
        for (const s of statements) expect(s.Action.every((a) => !a.includes("*")), s.Sid).to.equal(true);
        expect(bySid.ReadDeployedModel).to.equal(undefined);
        // dev serves an existing model: it may read that object, and no dataset.
        const devStatements = Object.fromEntries(dev.statementsOf(dev.one("aws:iam/role:Role", "sagemaker-role")).map((s) => [s.Sid, s]));
        expect(devStatements.ReadDeployedModel.Resource).to.equal("arn:aws:s3:::sagemaker-us-east-1-123456789012/dog-breed-classifier/model/model.tar.gz");
        expect(devStatements.ReadDataset).to.equal(undefined);
    });

    it("an existing model's read grant is its own policy, named by the model, which the model waits for", async () => {
        const grantsOf = (s: Stack) => s.all("aws:iam/rolePolicy:RolePolicy").filter((p) => /^sagemaker-read-model-[0-9a-f]{8}$/.test(p.name));
        const [grant] = grantsOf(dev);
        expect(grantsOf(dev)).to.have.length(1);
        expect(JSON.parse(grant.inputs.policy as string).Statement.map((st: Statement) => st.Sid)).to.deep.equal(["ReadDeployedModel"]);
        expect(dev.one("aws:sagemaker/model:Model").propertyDependencies.executionRoleArn).to.include(grant.urn);
        expect(grantsOf(prod), "a training stack reads its models from its output prefix").to.deep.equal([]);
        // A new model is a new grant (a new resource), not an edit of the old one: the old is deleted only once the
        // whole up has succeeded, so the serving model stays readable through the rollout and a rollback.
        const v2 = await capture("dev", { "sagemaker-classifier:training": { mode: "existing", modelDataUrl: "s3://sagemaker-us-east-1-123456789012/dog-breed-classifier/model-v2/model.tar.gz" } });
        expect(grantsOf(v2).map((g) => g.name)).to.have.length(1).and.not.include(grant.name);
    });

    it("tuning runs script mode over the course's search space and minimizes the test loss train.py prints", () => {
        const tuning = prod.one("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob");
        expect(tuning.inputs.name).to.match(/^clf-prod-[0-9a-f]{10}$/);
        expect((tuning.inputs.name as string).length).to.be.at.most(32);
        const config = tuning.inputs.config as Record<string, unknown>;
        expect(config.objective).to.deep.equal({ metricName: "test:loss", type: "Minimize" });
        expect(config.resourceLimits).to.deep.equal({ maxNumberOfTrainingJobs: 4, maxParallelTrainingJobs: 2 });
        expect(config.parameterRanges).to.deep.equal({
            continuousParameterRanges: [{ name: "lr", minValue: "0.001", maxValue: "0.1", scalingType: "Auto" }],
            categoricalParameterRanges: [{ name: "batch-size", values: ["32", "64", "128", "256", "512"] }],
        });
        const definition = tuning.inputs.trainingJobDefinition as Record<string, Record<string, unknown>>;
        expect(definition.algorithmSpecification).to.deep.equal({
            trainingImage: "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10.0-cpu-py313-ubuntu22.04-sagemaker",
            trainingInputMode: "File",
            metricDefinitions: contract.metrics.definitions,
        });
        const bucket = prod.one("aws:s3/bucket:Bucket").outputs.bucket;
        const sourceKey = prod.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs.key;
        expect(definition.staticHyperParameters).to.deep.equal({
            sagemaker_program: "train.py",
            sagemaker_submit_directory: `s3://${bucket}/${sourceKey}`,
            sagemaker_region: "us-east-1",
            sagemaker_container_log_level: "20",
            epochs: "2",
            "model-name": "resnet50",
            pretrained: "true",
            // training.quantization's defaults: train.py ships int8 only at >= 99% agreement and <= 0.5 points lost.
            quantize: "true",
            "quantization-min-agreement": "0.99",
            "quantization-max-accuracy-drop": "0.005",
        });
        expect(definition.resourceConfig).to.deep.equal({ instanceType: "ml.m5.xlarge", instanceCount: 1, volumeSizeInGb: 30 });
        const [channel] = definition.inputDataConfigs as unknown as Array<Record<string, unknown>>;
        expect(channel.channelName).to.equal("training");
        expect(definition.outputDataConfig).to.deep.equal({ s3OutputPath: `s3://${bucket}/output/sagemaker` });
        const best = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult");
        expect(best.inputs).to.include({ tuningJobName: tuning.inputs.name, timeoutSeconds: 480 * 60, attempt: 1 });
        expect(best.inputs.sdk, "only where the job runs: who to call it as is read at run time").to.deep.equal({ region: "us-east-1" });
    });

    it("keeps the machine's AWS profile and assumed roles out of every dynamic resource's state", async () => {
        const stack = await capture("prod", {
            "aws:profile": "ml-deployer",
            "aws:assumeRoles": [{ roleArn: "arn:aws:iam::123456789012:role/deploy", externalId: "x-1", duration: "1h30m" }],
        });
        const dynamic = stack.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
        expect(dynamic.length).to.be.at.least(4);
        for (const r of dynamic) {
            // The serialized provider (__provider) included: it reads the config when it runs and captures none of it.
            const saved = JSON.stringify(r.inputs);
            expect(saved, r.name).to.not.include("ml-deployer");
            expect(saved, r.name).to.not.include("role/deploy");
        }
        expect(stack.one("pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult").inputs.sdk).to.deep.equal({ region: "us-east-1" });
    });

    it("single mode runs one training job, checked before and read after, and registers the model the job reports", async () => {
        const single = await capture("prod", { "sagemaker-classifier:training": { mode: "single", hyperparameters: { epochs: 1, learningRate: 0.02, batchSize: 64 } } });
        expect(single.all("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob")).to.be.empty;
        const job = single.one("aws:sagemaker/trainingJob:TrainingJob");
        expect(job.inputs.hyperParameters).to.include({ sagemaker_program: "train.py", epochs: "1", lr: "0.02", "batch-size": "64", "model-name": "resnet50" });
        expect(single.outputs.trainingJobName).to.equal(job.inputs.trainingJobName);
        const check = single.one("pulumi-nodejs:dynamic/sagemaker-classifier:TrainingJobNameCheck");
        expect(check.inputs).to.include({ trainingJobName: job.inputs.trainingJobName, attempt: 1 });
        expect(job.dependencies, "the name is checked before the job is created").to.include(check.urn);
        const result = single.one("pulumi-nodejs:dynamic/sagemaker-classifier:TrainingJobResult");
        expect(result.inputs).to.include({ trainingJobName: job.inputs.trainingJobName });
        expect(result.propertyDependencies.trainingJobName).to.include(job.urn);
        // The model registered is what DescribeTrainingJob reports for a Completed job, not a path guessed from the job name.
        expect(single.one("pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion").propertyDependencies.modelDataUrl).to.include(result.urn);
    });

    it("training.quantization reaches train.py on SageMaker and ec2_train.py on EC2 as the same hyperparameters", async () => {
        const stack = await capture("prod", {
            "sagemaker-classifier:training": { mode: "single", quantization: { enabled: false, minAgreement: 0.995, maxAccuracyDrop: 0.01 } },
        });
        const expected = { quantize: "false", "quantization-min-agreement": "0.995", "quantization-max-accuracy-drop": "0.01" };
        expect(stack.one("aws:sagemaker/trainingJob:TrainingJob").inputs.hyperParameters).to.include(expected);
        const userData = stack.one("aws:ec2/instance:Instance").inputs.userData as string;
        const ec2Config = JSON.parse(/<<'TRAINING_CONFIG'\n([\s\S]*?)\nTRAINING_CONFIG/.exec(userData)?.[1] ?? "{}");
        expect(ec2Config).to.include({ quantize: false, "quantization-min-agreement": 0.995, "quantization-max-accuracy-drop": 0.01 });
    });

    it("the EC2 instance: DLAMI from SSM, IMDSv2, encrypted root, no SSH, stops itself after training", () => {
        const instance = prod.one("aws:ec2/instance:Instance");
        // Stop, not terminate: the provider drops a terminated instance from the state on refresh, and the next
        // pulumi up would launch the run again.
        expect(instance.inputs).to.include({ instanceType: "m5.xlarge", instanceInitiatedShutdownBehavior: "stop", ami: "ami-0c02fb55956c7d316" });
        expect(instance.inputs.keyName).to.equal(undefined);
        expect(instance.options.ignoreChanges, "a new Deep Learning AMI release does not replace (retrain) the instance").to.deep.equal(["ami"]);
        expect(instance.inputs.metadataOptions).to.include({ httpTokens: "required" });
        expect(instance.inputs.rootBlockDevice).to.include({ encrypted: true, volumeSize: 100, deleteOnTermination: true });
        const sg = prod.one("aws:ec2/securityGroup:SecurityGroup");
        expect(sg.inputs.ingress ?? []).to.be.empty;
        const userData = instance.inputs.userData as string;
        expect(userData).to.match(/^#!\/bin\/bash\nset -euo pipefail/);
        expect(userData, "the DLAMI's documented python_location").to.include("PYTHON=/opt/pytorch/bin/python;");
        expect(userData).to.include("ec2_train.py --config");
        expect(userData).to.include("shutdown -h now");
        // Only ec2_train.py writes the model, and only when its key is free: the script uploads nothing itself.
        expect(userData).to.not.match(/aws s3 (cp|mv|sync) [^\n]*model/);
        const config = JSON.parse(/<<'TRAINING_CONFIG'\n([\s\S]*?)\nTRAINING_CONFIG/.exec(userData)?.[1] ?? "{}");
        expect(config).to.include({ epochs: 2, lr: 0.01, "batch-size": 32, "model-name": "resnet50", pretrained: true });
        const modelUri = prod.outputs.ec2ModelArtifact as string;
        expect(modelUri).to.match(/^s3:\/\/[^/]+\/.+\/ec2\/[0-9a-f]{12}\/model\.tar\.gz$/);
        expect(config["model-uri"], "the run checks and writes exactly the stack output's model").to.equal(modelUri);
        const role = prod.one("aws:iam/role:Role", "ec2-role");
        expect(prod.attachmentsOf(role)).to.deep.equal(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(modelUri) as RegExpExecArray;
        const runPrefix = key.replace(/\/model\.tar\.gz$/, "");
        const statements = prod.statementsOf(role);
        // HeadObject needs GetObject; without ListBucket S3 answers 403 for a model not there yet.
        expect(statements.find((st) => st.Sid === "CheckModel")).to.deep.include({ Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${bucket}/${key}` });
        expect(statements.find((st) => st.Sid === "ListModel")).to.deep.include({
            Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": [runPrefix, `${runPrefix}/*`] } },
        });
    });

    it("pulumi destroy: prod retains the bucket with its settings and every object version, dev empties and deletes it", () => {
        const store = (s: Stack) => s.resources.filter((r) => r.custom && r.parent === s.one("sagemaker-classifier:storage:ArtifactStore").urn);
        expect(store(prod).length).to.be.at.least(8);
        for (const r of store(prod)) expect(r.options.retainOnDelete, `prod ${r.name}`).to.equal(true);
        expect(prod.one("aws:s3/bucket:Bucket").inputs.forceDestroy).to.equal(false);
        for (const r of store(dev)) expect(r.options.retainOnDelete ?? false, `dev ${r.name}`).to.equal(false);
        expect(dev.one("aws:s3/bucket:Bucket").inputs.forceDestroy, "a versioned bucket is deleted only with every version").to.equal(true);
    });

    it("without ec2Training.subnetId the default VPC is checked first; with one there is no check", async () => {
        const check = prod.one("pulumi-nodejs:dynamic/sagemaker-classifier:DefaultVpcCheck");
        expect(check.inputs.sdk).to.include({ region: "us-east-1" });
        expect(prod.one("aws:ec2/instance:Instance").dependencies, "the instance waits for the check").to.include(check.urn);
        expect(prod.one("aws:ec2/securityGroup:SecurityGroup").dependencies, "so does its security group").to.include(check.urn);
        const inSubnet = await capture("prod", { "sagemaker-classifier:ec2Training": { enabled: true, instanceType: "m5.xlarge", subnetId: "subnet-0123456789abcdef0" } });
        expect(inSubnet.all("pulumi-nodejs:dynamic/sagemaker-classifier:DefaultVpcCheck")).to.deep.equal([]);
        expect(inSubnet.one("aws:ec2/instance:Instance").inputs.subnetId).to.equal("subnet-0123456789abcdef0");
        expect(dev.all("pulumi-nodejs:dynamic/sagemaker-classifier:DefaultVpcCheck"), "no EC2 training, no check").to.deep.equal([]);
    });

    it("ec2Training.amiId pins the AMI: changing it is a new run (a new model key), and nothing is ignored", async () => {
        const pin = (amiId: string) => capture("prod", { "sagemaker-classifier:ec2Training": { enabled: true, instanceType: "m5.xlarge", amiId } });
        const [pinned, repinned] = await Promise.all([pin("ami-0123456789abcdef0"), pin("ami-0fedcba9876543210")]);
        const instance = pinned.one("aws:ec2/instance:Instance");
        expect(instance.inputs.ami).to.equal("ami-0123456789abcdef0");
        expect(instance.options.ignoreChanges ?? []).to.deep.equal([]);
        // Otherwise the replaced instance would find the old AMI's model and skip the run.
        expect(repinned.outputs.ec2ModelArtifact).to.not.equal(pinned.outputs.ec2ModelArtifact);
    });

    it("the bucket is private, encrypted and versioned", () => {
        expect(prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).to.include({
            blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
        });
        const [rule] = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules as Array<Record<string, Record<string, string>>>;
        expect(rule.applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("aws:kms");
        expect(prod.one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).to.deep.equal({ status: "Enabled" });
    });

    it("outputs what a user needs: endpoint, alias ARN and how to invoke it, bucket, training job and model", () => {
        expect(prod.outputs).to.include.keys("endpointName", "lambdaAliasArn", "invokeCommand", "bucketName", "trainingMode");
        expect(dev.outputs).to.include({ trainingMode: "existing", modelArtifact: "s3://sagemaker-us-east-1-123456789012/dog-breed-classifier/model/model.tar.gz" });
        expect(dev.outputs, "no training, no EC2: no empty outputs").to.not.have.any.keys("trainingJobName", "ec2InstanceId", "ec2ModelArtifact");
        expect(prod.outputs).to.include.keys("ec2InstanceId", "ec2ModelArtifact");
        expect(prod.outputs.endpointName).to.equal("sagemaker-classifier-prod");
        expect(prod.outputs.invokeCommand).to.match(/^aws lambda invoke --function-name arn:aws:lambda:us-east-1:123456789012:function:.+:live /);
        expect(devPreview.outputs.lambdaAliasArn, "an ARN is unknown until the alias exists").to.equal(UNKNOWN);
    });

    const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
        ["max below min", { "sagemaker-classifier:autoscaling": { minCapacity: 3, maxCapacity: 1 } }, /autoscaling\.maxCapacity \(1\) must be at least autoscaling\.minCapacity \(3\)/],
        ["a serverless memory size SageMaker does not offer", { "sagemaker-classifier:endpoint": { mode: "serverless", serverless: { memorySizeMb: 1500 } } }, /endpoint\.serverless\.memorySizeMb must be one of 1024, 2048, 3072, 4096, 5120, 6144, got 1500/],
        ["more provisioned than maximum serverless concurrency", { "sagemaker-classifier:endpoint": { mode: "serverless", serverless: { maxConcurrency: 2, provisionedConcurrency: 3 } } }, /endpoint\.serverless\.provisionedConcurrency \(3\) must be at most endpoint\.serverless\.maxConcurrency \(2\)/],
        ["a GPU image on a serverless endpoint", { "sagemaker-classifier:images": { pytorchInferenceTag: "2.6.0-gpu-py312-cu124-ubuntu22.04-sagemaker" } }, /images\.pytorchInferenceTag \(2\.6\.0-gpu-py312-cu124-ubuntu22\.04-sagemaker\) is a GPU image, but endpoint\.mode serverless has no GPU/],
        ["an unknown instance type", { "sagemaker-classifier:endpoint": { instanceType: "ml.x9.large" } }, /endpoint\.instanceType must be a SageMaker instance type/],
        ["existing mode without a model", { "sagemaker-classifier:training": { mode: "existing" } }, /training\.modelDataUrl is required when training\.mode is existing/],
        ["a misspelt top-level key", { "sagemaker-classifier:autoscalling": { maxCapacity: 3 } }, /sagemaker-classifier:autoscalling is not a known setting/],
        ["deployment guardrails on a serverless endpoint", { "sagemaker-classifier:endpoint": { mode: "serverless", deployment: { guardrails: true } } },
            /endpoint\.deployment\.guardrails needs endpoint\.mode instances: Serverless Inference has no deployment guardrails/],
        ["a baking period the latency alarm cannot fire within", { "sagemaker-classifier:endpoint": { mode: "instances", deployment: { guardrails: true, bakingPeriodSeconds: 600 } } },
            /endpoint\.deployment\.bakingPeriodSeconds \(600\) must be at least 900 with deployment guardrails/],
    ];
    for (const [what, overrides, message] of invalid) {
        it(`stops before creating anything on ${what}, naming the key`, async () => {
            const error = await capture("dev", overrides).then(() => undefined, (e: Error) => e);
            expect(error?.message).to.match(message);
            expect(error?.message).to.not.match(/\n\s+at /);
        });
    }
});
