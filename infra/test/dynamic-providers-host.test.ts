/**
 * The endpoint's and the model registry's dynamic providers as `pulumi up` runs them: each provider object the
 * program serializes (Pulumi's closure serialization), loaded in a fresh Node process the way the dynamic provider
 * host loads it and configured with the stack config, calling a loopback SageMaker through the real SDK. A provider
 * that does not survive serialization fails here, not in a user's deployment.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram, readStackConfig } from "../../tools/preview/capture";
import { SageMakerAnswer, startSageMakerApiServer } from "../../tools/status/test/support/sagemaker-api-server";
import { runInProviderHost } from "./support/provider-host";

const repoRoot = path.resolve(__dirname, "..", "..");

describe("the endpoint's and the registry's dynamic providers, serialized and run as the provider host runs them", function () {
    this.timeout(180_000);
    let workdir: string;
    const providers = new Map<string, string>();

    before(async () => {
        const config = await readStackConfig(path.join(repoRoot, "Pulumi.prod.yaml"));
        const { resources } = await captureProgram({ program: path.join(repoRoot, "infra", "index.ts"), stack: "prod", config });
        workdir = fs.mkdtempSync(path.join(os.tmpdir(), "providers-host-"));
        for (const type of ["EndpointRollout", "FailedEndpointCleanup", "ApprovedModelVersion", "ModelPackageVersion"]) {
            const resource = resources.find((r) => r.type === `pulumi-nodejs:dynamic/sagemaker-classifier:${type}`);
            expect(resource?.inputs.__provider, `${type} registers a serialized provider`).to.be.a("string");
            const file = path.join(workdir, `${type}.js`);
            fs.writeFileSync(file, resource?.inputs.__provider as string);
            providers.set(type, file);
        }
    });
    after(() => fs.rmSync(workdir, { recursive: true, force: true }));

    async function run(type: string, method: string, args: unknown[], answers: Record<string, SageMakerAnswer>): Promise<Record<string, unknown>> {
        const server = await startSageMakerApiServer(answers);
        try {
            const env = {
                PATH: process.env.PATH, AWS_ENDPOINT_URL_SAGEMAKER: server.url, AWS_ACCESS_KEY_ID: "AKIDLOOPBACK", AWS_SECRET_ACCESS_KEY: "s",
                AWS_CONFIG_FILE: path.join(workdir, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(workdir, "none"),
            };
            const { result } = await runInProviderHost({
                providerFile: providers.get(type) as string, method, args, stackConfig: { "aws:region": "us-east-1" }, env, workdir, cwd: repoRoot,
            });
            return result;
        } finally {
            await server.close();
        }
    }

    const endpoint = { EndpointName: "sagemaker-classifier-prod", EndpointStatus: "InService", EndpointConfigName: "classifier-config-0000002", ProductionVariants: [] };

    it("EndpointRollout reads the configuration the endpoint serves", async () => {
        const result = await run("EndpointRollout", "read", ["sagemaker-classifier-prod", { sdk: { region: "us-east-1" }, endpointName: "sagemaker-classifier-prod", servingConfigName: "old" }],
            { "SageMaker.DescribeEndpoint": () => [200, endpoint] });
        expect(result).to.deep.include({ id: "sagemaker-classifier-prod" });
        expect((result.props as Record<string, unknown>).servingConfigName).to.equal("classifier-config-0000002");
    });

    it("FailedEndpointCleanup marks a Failed endpoint in check", async () => {
        const inputs = { sdk: { region: "us-east-1" }, endpointName: "sagemaker-classifier-prod", failedEndpointCreatedAt: "" };
        const result = await run("FailedEndpointCleanup", "check", [inputs, inputs], {
            "SageMaker.DescribeEndpoint": () => [200, { ...endpoint, EndpointStatus: "Failed", CreationTime: 1764590400 }],
        });
        expect((result.inputs as Record<string, unknown>).failedEndpointCreatedAt).to.equal("2025-12-01T12:00:00.000Z");
    });

    it("ApprovedModelVersion refuses a version awaiting approval", async () => {
        const arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-classifier-prod/1";
        const inputs = { sdk: { region: "us-east-1" }, groupName: "sagemaker-classifier-prod", version: 1, modelPackageArn: arn };
        const result = await run("ApprovedModelVersion", "check", [inputs, inputs], {
            "SageMaker.DescribeModelPackage": () => [200, { ModelPackageArn: arn, ModelApprovalStatus: "PendingManualApproval", CreationTime: 0 }],
        });
        expect(result.error).to.match(/^version 1 of model package group sagemaker-classifier-prod is PendingManualApproval/);
    });

    it("ModelPackageVersion registers a version", async () => {
        const arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-classifier-prod/4";
        const result = await run("ModelPackageVersion", "create", [{
            sdk: { region: "us-east-1" }, groupName: "sagemaker-classifier-prod", image: "img", modelDataUrl: "s3://b/m.tar.gz", environment: {},
            trainingJobName: "j", metrics: { "test:loss": 0.5 }, initialApproval: "PendingManualApproval",
        }], { "SageMaker.CreateModelPackage": () => [200, { ModelPackageArn: arn }] });
        expect(result).to.deep.include({ id: arn });
        expect((result.outs as Record<string, unknown>).version).to.equal(4);
    });
});
