/**
 * The approval gate's dynamic resources through the real SageMaker SDK client against a loopback server speaking
 * its JSON 1.1 protocol: registering a trained model, refusing a version nobody approved, and emptying the group
 * on destroy.
 */
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { expect } from "chai";
import {
    ApprovedModelVersionInputs, ApprovedModelVersionProvider, ModelPackageVersionInputs, ModelPackageVersionProvider, ModelRegistryCleanupProvider, RegistryClientFactory,
} from "../components/model-registry";
import { SageMakerAnswer, SageMakerApiServer, SageMakerCall, startSageMakerApiServer } from "../../tools/status/test/support/sagemaker-api-server";

const GROUP = "sagemaker-classifier-prod";
const arnOf = (version: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/${GROUP}/${version}`;

describe("model registry (dynamic providers) against a loopback SageMaker", () => {
    let server: SageMakerApiServer | undefined;
    afterEach(async () => server?.close());

    async function clients(answers: Record<string, SageMakerAnswer>): Promise<{ factory: RegistryClientFactory; calls: SageMakerCall[] }> {
        server = await startSageMakerApiServer(answers);
        const url = server.url;
        return {
            factory: (sdk) => new SageMakerClient({ region: sdk.region, endpoint: url, credentials: { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "s" } }),
            calls: server.calls,
        };
    }

    const trained: ModelPackageVersionInputs = {
        sdk: { region: "us-east-1" },
        groupName: GROUP,
        image: "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312-ubuntu22.04-sagemaker",
        modelDataUrl: "s3://bucket/output/sagemaker/clf-prod-0123456789-002-1a2b3c4d/output/model.tar.gz",
        environment: { SAGEMAKER_PROGRAM: "inference.py", SAGEMAKER_SUBMIT_DIRECTORY: "/opt/ml/model/code" },
        trainingJobName: "clf-prod-0123456789-002-1a2b3c4d",
        metrics: { "test:loss": 0.61, "test:accuracy": 0.83 },
        initialApproval: "PendingManualApproval",
    };

    it("registers a trained model as a version awaiting approval, with its metrics and an idempotency token", async () => {
        const { factory, calls } = await clients({ "SageMaker.CreateModelPackage": () => [200, { ModelPackageArn: arnOf(3) }] });
        const { id, outs } = await new ModelPackageVersionProvider(factory).create(trained);
        expect(id).to.equal(arnOf(3));
        expect(outs).to.include({ modelPackageArn: arnOf(3), version: 3 });
        const body = calls[0].body;
        expect(body).to.deep.include({
            ModelPackageGroupName: GROUP,
            ModelApprovalStatus: "PendingManualApproval",
            CustomerMetadataProperties: { trainingJob: trained.trainingJobName, "metric:test:loss": "0.61", "metric:test:accuracy": "0.83" },
            InferenceSpecification: {
                Containers: [{ Image: trained.image, ModelDataUrl: trained.modelDataUrl, Environment: trained.environment }],
                SupportedContentTypes: ["image/jpeg", "image/png", "application/json"],
                SupportedResponseMIMETypes: ["application/json"],
            },
        });
        expect(body.ClientToken).to.match(/^[0-9a-f]{36}$/);
    });

    it("never diffs on approval (people approve by hand); another model is another version", async () => {
        const provider = new ModelPackageVersionProvider();
        const olds = { ...trained, modelPackageArn: arnOf(3), version: 3 };
        expect(await provider.diff(arnOf(3), olds, { ...trained, initialApproval: "Approved" })).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect((await provider.diff(arnOf(3), olds, { ...trained, modelDataUrl: "s3://bucket/other/model.tar.gz" })).replaces).to.deep.equal(["modelDataUrl"]);
    });

    const pinned: ApprovedModelVersionInputs = { sdk: { region: "us-east-1" }, groupName: GROUP, version: 3, modelPackageArn: arnOf(3) };
    const described = (status: string): SageMakerAnswer => () => [200, {
        ModelPackageArn: arnOf(3), ModelPackageName: GROUP, ModelPackageVersion: 3, ModelApprovalStatus: status, ModelPackageStatus: "Completed",
        InferenceSpecification: { Containers: [{ Image: trained.image, ModelDataUrl: trained.modelDataUrl }], SupportedContentTypes: [], SupportedResponseMIMETypes: [] },
        CreationTime: 0,
    }];

    it("passes an Approved version in check, and outputs what it serves", async () => {
        const { factory, calls } = await clients({ "SageMaker.DescribeModelPackage": described("Approved") });
        const provider = new ApprovedModelVersionProvider(factory);
        expect(await provider.check(pinned, pinned)).to.deep.equal({ inputs: pinned });
        expect((await provider.create(pinned)).outs?.modelDataUrl).to.equal(trained.modelDataUrl);
        expect(calls[0].body).to.deep.equal({ ModelPackageName: arnOf(3) });
    });

    it("refuses, before anything changes, a version nobody approved, naming it and the command that approves it", async () => {
        const { factory } = await clients({ "SageMaker.DescribeModelPackage": described("PendingManualApproval") });
        const error = await new ApprovedModelVersionProvider(factory).check(pinned, pinned).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            `version 3 of model package group ${GROUP} is PendingManualApproval, and the endpoint serves only approved models. Review it (\`npm run status\` shows its metrics), ` +
                `approve it with: aws sagemaker update-model-package --region us-east-1 --model-package-arn ${arnOf(3)} --model-approval-status Approved, and run pulumi up again`,
        );
        await server?.close();
        const rejected = await clients({ "SageMaker.DescribeModelPackage": described("Rejected") });
        const refusal = await new ApprovedModelVersionProvider(rejected.factory).create(pinned).then(() => undefined, (e: Error) => e);
        expect(refusal?.message).to.match(/is Rejected, and the endpoint serves only approved models/);
    });

    it("refuses a version the group does not have, saying how versions come about", async () => {
        const { factory } = await clients({ "SageMaker.DescribeModelPackage": () => [400, { __type: "ValidationException", message: `ModelPackage ${arnOf(3)} does not exist.` }] });
        const error = await new ApprovedModelVersionProvider(factory).check(pinned, pinned).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(/^modelRegistry\.servedVersion is 3, but there is no version 3 of model package group sagemaker-classifier-prod: `npm run status` lists the versions\./);
    });

    it("on destroy, deletes every version (all pages) so that the group can be deleted", async () => {
        const { factory, calls } = await clients({
            "SageMaker.ListModelPackages": (body) => [200, body.NextToken
                ? { ModelPackageSummaryList: [{ ModelPackageArn: arnOf(1), ModelPackageGroupName: GROUP, ModelPackageStatus: "Completed", CreationTime: 0 }] }
                : { ModelPackageSummaryList: [2, 3].map((v) => ({ ModelPackageArn: arnOf(v), ModelPackageGroupName: GROUP, ModelPackageStatus: "Completed", CreationTime: 0 })), NextToken: "page-2" }],
            "SageMaker.DeleteModelPackage": () => [200, {}],
        });
        await new ModelRegistryCleanupProvider(factory).delete(GROUP, { sdk: { region: "us-east-1" }, groupName: GROUP });
        expect(calls.filter((c) => c.target === "SageMaker.DeleteModelPackage").map((c) => c.body.ModelPackageName)).to.deep.equal([arnOf(2), arnOf(3), arnOf(1)]);
        expect(calls[0].body).to.deep.include({ ModelPackageGroupName: GROUP });
    });
});
