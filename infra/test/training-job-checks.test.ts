import { DescribeTrainingJobCommand, DescribeTrainingJobCommandOutput, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import { TrainingJobNameCheckProvider, TrainingJobRef, TrainingJobResultProvider } from "../components/training-job-checks";

const ref: TrainingJobRef = { trainingJobName: "clf-prod-0123456789", sdk: { region: "us-east-1" }, attempt: 1 };
const factory = () => new SageMakerClient({ region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } });
const job = (status: string, extra: Partial<DescribeTrainingJobCommandOutput> = {}) =>
    ({ TrainingJobName: ref.trainingJobName, TrainingJobStatus: status, ...extra }) as DescribeTrainingJobCommandOutput;
const notFound = Object.assign(new Error("Requested resource not found."), { name: "ValidationException" });

describe("training job checks (dynamic providers)", () => {
    // Mocking patches every SageMakerClient in the process: only while this suite runs, so other suites (and their own
    // mocks of a client instance) are left alone.
    let sagemaker: AwsClientStub<SageMakerClient>;
    before(() => (sagemaker = mockClient(SageMakerClient)));
    after(() => sagemaker.restore());
    beforeEach(() => sagemaker.reset());

    describe("the name check before the job", () => {
        const provider = new TrainingJobNameCheckProvider(factory);

        it("passes a name SageMaker has never seen, and the stack's own completed job", async () => {
            sagemaker.on(DescribeTrainingJobCommand).rejectsOnce(notFound).resolves(job("Completed"));
            expect(await provider.check(ref, ref)).to.deep.equal({ inputs: ref });
            expect(await provider.check(ref, ref)).to.deep.equal({ inputs: ref });
            expect(sagemaker.commandCalls(DescribeTrainingJobCommand)[0].args[0].input).to.deep.equal({ TrainingJobName: ref.trainingJobName });
        });

        it("refuses a name whose job already failed, saying why and to raise training.attempt", async () => {
            sagemaker.on(DescribeTrainingJobCommand).resolves(job("Failed", { SecondaryStatus: "Failed", FailureReason: "AlgorithmError: CUDA out of memory" }));
            const error = await provider.check(ref, ref).then(() => undefined, (e: Error) => e);
            expect(error?.message).to.equal(
                "training job clf-prod-0123456789 already ran and ended Failed: AlgorithmError: CUDA out of memory. " +
                    "SageMaker never reuses a job name, so a new run needs a new one: set training.attempt to 2 " +
                    "(pulumi config set --path training.attempt 2) and run pulumi up again",
            );
        });

        it("refuses a job that is still running from a wait that timed out, naming both ways out", async () => {
            sagemaker.on(DescribeTrainingJobCommand).resolves(job("InProgress", { SecondaryStatus: "Training" }));
            const error = await provider.check(ref, { ...ref, attempt: 4 }).then(() => undefined, (e: Error) => e);
            expect(error?.message).to.match(/still running from an earlier pulumi up.*import it.*set training\.attempt to 5/);
        });
    });

    describe("the result after the job", () => {
        const provider = new TrainingJobResultProvider(factory);

        it("outputs the model artifact and final metrics SageMaker reports for a completed job", async () => {
            sagemaker.on(DescribeTrainingJobCommand).resolves(job("Completed", {
                ModelArtifacts: { S3ModelArtifacts: "s3://b/output/sagemaker/j/output/model.tar.gz" },
                FinalMetricDataList: [{ MetricName: "test:loss", Value: 0.61 }, { MetricName: "test:accuracy", Value: 0.83 }],
            }));
            const result = await provider.create(ref);
            expect(result.outs).to.include({ status: "Completed", modelArtifactUri: "s3://b/output/sagemaker/j/output/model.tar.gz" });
            expect(result.outs?.finalMetrics, "what the model registry records").to.deep.equal({ "test:loss": 0.61, "test:accuracy": 0.83 });
        });

        it("never deploys a job that hit its runtime limit: Stopped is an error with the way out", async () => {
            sagemaker.on(DescribeTrainingJobCommand).resolves(job("Stopped", {
                SecondaryStatus: "MaxRuntimeExceeded",
                ModelArtifacts: { S3ModelArtifacts: "s3://b/partial/model.tar.gz" },
            }));
            const error = await provider.create(ref).then(() => undefined, (e: Error) => e);
            expect(error?.message).to.match(/^training job clf-prod-0123456789 ended Stopped \(MaxRuntimeExceeded\), so its model is not deployed\. Raise training\.maxRuntimeSeconds/);
            expect(error?.message).to.include("set training.attempt to 2");
        });

        it("replaces for a new job and otherwise keeps the result", async () => {
            const olds = { ...ref, status: "Completed", modelArtifactUri: "s3://b/m.tar.gz", finalMetrics: {} };
            expect(await provider.diff("id", olds, ref)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
            expect(await provider.diff("id", olds, { ...ref, trainingJobName: "clf-prod-ffffffffff" })).to.have.deep.property("replaces", ["trainingJobName"]);
        });
    });
});
