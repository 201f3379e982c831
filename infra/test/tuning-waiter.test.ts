import {
    DescribeHyperParameterTuningJobCommand,
    DescribeHyperParameterTuningJobCommandOutput,
    DescribeTrainingJobCommand,
    ListHyperParameterTuningJobsCommand,
    ListTagsCommand,
    SageMakerClient,
    StopHyperParameterTuningJobCommand,
} from "@aws-sdk/client-sagemaker";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { Clock, TuningJobWaiterProvider, TuningWaiterInputs, TuningWaiterOutputs } from "../components/tuning-waiter";

const sdk = { region: "us-east-1" };
const stackJobs = { jobPrefix: "clf-prod", project: "sagemaker-classifier", stack: "prod" };
const inputs: TuningWaiterInputs = { tuningJobName: "clf-prod-0123456789", sdk, timeoutSeconds: 600, pollSeconds: 60, attempt: 1, stackJobs };

/** A clock whose sleeps advance time instantly, recording each wait. */
function fakeClock(): Clock & { sleeps: number[] } {
    let now = 0;
    const sleeps: number[] = [];
    return {
        sleeps,
        now: () => now,
        sleep: async (ms: number) => {
            sleeps.push(ms);
            now += ms;
        },
    };
}

function tuningJob(status: string, extra: Partial<DescribeHyperParameterTuningJobCommandOutput> = {}) {
    return { HyperParameterTuningJobName: inputs.tuningJobName, HyperParameterTuningJobStatus: status, ...extra } as DescribeHyperParameterTuningJobCommandOutput;
}

const bestJob = {
    BestTrainingJob: {
        TrainingJobName: "clf-prod-0123456789-003-abcdef12",
        FinalHyperParameterTuningJobObjectiveMetric: { MetricName: "test:loss", Value: 0.4213 },
    },
} as Partial<DescribeHyperParameterTuningJobCommandOutput>;

describe("tuning job waiter (dynamic provider)", () => {
    // Mocking patches every SageMakerClient in the process: only while this suite runs, so that suites using
    // the real client against a loopback server are left alone.
    let sagemaker: AwsClientStub<SageMakerClient>;
    before(() => (sagemaker = mockClient(SageMakerClient)));
    after(() => sagemaker.restore());
    let regions: string[];
    let clock: ReturnType<typeof fakeClock>;
    let provider: TuningJobWaiterProvider;
    let progressLines: string[];

    beforeEach(() => {
        sagemaker.reset();
        // No other tuning job of the stack is running unless a test says so.
        sagemaker.on(ListHyperParameterTuningJobsCommand).resolves({ HyperParameterTuningJobSummaries: [] });
        regions = [];
        clock = fakeClock();
        progressLines = [];
        provider = new TuningJobWaiterProvider((settings) => {
            regions.push(settings.region);
            return new SageMakerClient({ region: settings.region, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } });
        }, clock, (line) => progressLines.push(line));
    });

    it("waits while the job is in progress, then outputs the best job, its objective and its model", async () => {
        sagemaker
            .on(DescribeHyperParameterTuningJobCommand, { HyperParameterTuningJobName: inputs.tuningJobName })
            .resolvesOnce(tuningJob("InProgress"))
            .resolvesOnce(tuningJob("InProgress"))
            .resolves(tuningJob("Completed", bestJob));
        sagemaker
            .on(DescribeTrainingJobCommand, { TrainingJobName: "clf-prod-0123456789-003-abcdef12" })
            .resolves({
                ModelArtifacts: { S3ModelArtifacts: "s3://bucket/output/sagemaker/clf-prod-0123456789-003-abcdef12/output/model.tar.gz" },
                FinalMetricDataList: [{ MetricName: "test:loss", Value: 0.4213 }, { MetricName: "test:accuracy", Value: 0.81 }],
            });

        const result = await provider.create(inputs);

        expect(result.id).to.equal(inputs.tuningJobName);
        expect(result.outs).to.include({
            status: "Completed",
            bestTrainingJobName: "clf-prod-0123456789-003-abcdef12",
            objectiveMetricName: "test:loss",
            objectiveValue: 0.4213,
            modelArtifactUri: "s3://bucket/output/sagemaker/clf-prod-0123456789-003-abcdef12/output/model.tar.gz",
        });
        expect(result.outs?.finalMetrics, "the best job's metrics, for the model registry").to.deep.equal({ "test:loss": 0.4213, "test:accuracy": 0.81 });
        expect(clock.sleeps).to.deep.equal([60000, 60000]);
        expect(regions).to.deep.equal(["us-east-1"]);
    });

    it("reports progress when the counts or the best objective change, and at least every 10 minutes", async () => {
        const limits = { HyperParameterTuningJobConfig: { Strategy: "Bayesian", ResourceLimits: { MaxNumberOfTrainingJobs: 4, MaxParallelTrainingJobs: 2 } } } as Partial<DescribeHyperParameterTuningJobCommandOutput>;
        const started = new Date(0);
        const running = tuningJob("InProgress", { ...limits, CreationTime: started, TrainingJobStatusCounters: { InProgress: 2 } });
        const oneDone = tuningJob("InProgress", {
            ...limits,
            CreationTime: started,
            TrainingJobStatusCounters: { Completed: 1, InProgress: 2 },
            BestTrainingJob: { ...bestJob.BestTrainingJob!, FinalHyperParameterTuningJobObjectiveMetric: { MetricName: "test:loss", Value: 0.9 } },
        } as Partial<DescribeHyperParameterTuningJobCommandOutput>);
        const describe = sagemaker.on(DescribeHyperParameterTuningJobCommand);
        // 12 polls a minute apart with nothing new, then one finished job, then the end.
        for (let i = 0; i < 12; i++) describe.resolvesOnce(running);
        describe.resolvesOnce(oneDone).resolves(tuningJob("Completed", { ...limits, ...bestJob, CreationTime: started, HyperParameterTuningEndTime: new Date(20 * 60_000), TrainingJobStatusCounters: { Completed: 4 } }));
        sagemaker.on(DescribeTrainingJobCommand).resolves({ ModelArtifacts: { S3ModelArtifacts: "s3://b/m.tar.gz" } });

        await provider.create({ ...inputs, timeoutSeconds: 3600 });

        expect(progressLines).to.deep.equal([
            "tuning job clf-prod-0123456789: InProgress; 0 of 4 training jobs done, 2 running; no objective value yet; elapsed 0s; time left unknown until a job finishes",
            "tuning job clf-prod-0123456789: InProgress; 0 of 4 training jobs done, 2 running; no objective value yet; elapsed 10m 00s; time left unknown until a job finishes",
            "tuning job clf-prod-0123456789: InProgress; 1 of 4 training jobs done, 2 running; best test:loss 0.9 from clf-prod-0123456789-003-abcdef12; elapsed 12m 00s; about 36m 00s left",
            "tuning job clf-prod-0123456789: Completed; 4 of 4 training jobs done, 0 running; best test:loss 0.4213 from clf-prod-0123456789-003-abcdef12; elapsed 20m 00s",
        ]);
    });

    it("fails with SageMaker's failure reason when the job fails", async () => {
        sagemaker.on(DescribeHyperParameterTuningJobCommand).resolves(
            tuningJob("Failed", { FailureReason: "All training jobs failed. ClientError: Data download failed" }),
        );
        const error = await provider.create(inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.equal(
            "tuning job clf-prod-0123456789 ended with status Failed: All training jobs failed. ClientError: Data download failed. " +
                "SageMaker never reuses a job name, so a new run needs a new one: set training.attempt to 2 " +
                "(pulumi config set --path training.attempt 2) and run pulumi up again",
        );
    });

    it("fails when a completed job has no best training job", async () => {
        sagemaker.on(DescribeHyperParameterTuningJobCommand).resolves(
            tuningJob("Completed", { TrainingJobStatusCounters: { NonRetryableError: 4 } }),
        );
        const error = await provider.create(inputs).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(/completed without a best training job \(4 training jobs failed\)/);
    });

    it("gives up after the timeout without stopping the job, and says how to resume", async () => {
        sagemaker.on(DescribeHyperParameterTuningJobCommand).resolves(tuningJob("InProgress"));
        const error = await provider.create({ ...inputs, timeoutSeconds: 150 }).then(() => undefined, (e: Error) => e);
        expect(error?.message).to.match(/still InProgress after 150 s; it keeps running\. Raise training\.tuning\.waitTimeoutMinutes/);
        // 60 + 60 + the remaining 30 s: never sleeps past the deadline.
        expect(clock.sleeps).to.deep.equal([60000, 60000, 30000]);
        expect(sagemaker.commandCalls(StopHyperParameterTuningJobCommand)).to.have.length(0);
    });

    it("first stops this stack's tuning job that timed out in an earlier up and that the config no longer names", async () => {
        const summary = (name: string) => ({
            HyperParameterTuningJobName: name,
            HyperParameterTuningJobArn: `arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/${name}`,
            HyperParameterTuningJobStatus: "InProgress" as const,
            Strategy: "Bayesian" as const,
            CreationTime: new Date(0),
            TrainingJobStatusCounters: {},
            ObjectiveStatusCounters: {},
        });
        sagemaker.on(ListHyperParameterTuningJobsCommand).resolves({
            HyperParameterTuningJobSummaries: [
                summary(inputs.tuningJobName), // the job this waiter waits for
                summary("clf-prod-aaaaaaaaaa"), // this stack's superseded job
                summary("clf-prod-bbbbbbbbbb"), // another stack's (same environment name, other stack tag)
                summary("clf-prod-ffffffffff-001-12345678"), // a training job name, not a tuning job of the prefix
            ],
        });
        const tagsOf: Record<string, Array<{ Key: string; Value: string }>> = {
            "clf-prod-aaaaaaaaaa": [{ Key: "project", Value: "sagemaker-classifier" }, { Key: "stack", Value: "prod" }],
            "clf-prod-bbbbbbbbbb": [{ Key: "project", Value: "sagemaker-classifier" }, { Key: "stack", Value: "prod-eu" }],
        };
        sagemaker.on(ListTagsCommand).callsFake((input: { ResourceArn: string }) => ({ Tags: tagsOf[input.ResourceArn.split("/").pop() as string] ?? [] }));
        sagemaker.on(StopHyperParameterTuningJobCommand).resolves({});
        sagemaker.on(DescribeHyperParameterTuningJobCommand).resolves(tuningJob("Completed", bestJob));
        sagemaker.on(DescribeTrainingJobCommand).resolves({ ModelArtifacts: { S3ModelArtifacts: "s3://b/m.tar.gz" } });

        await provider.create(inputs);

        expect(sagemaker.commandCalls(ListHyperParameterTuningJobsCommand)[0].args[0].input).to.include({ NameContains: "clf-prod", StatusEquals: "InProgress" });
        expect(sagemaker.commandCalls(StopHyperParameterTuningJobCommand).map((c) => c.args[0].input)).to.deep.equal([{ HyperParameterTuningJobName: "clf-prod-aaaaaaaaaa" }]);
        expect(progressLines[0]).to.equal("tuning job clf-prod-aaaaaaaaaa: stopped; this stack's config no longer names it (it now trains clf-prod-0123456789)");
        // Stopped before the wait began.
        const order = sagemaker.calls().map((c) => (c.args[0] as object).constructor.name);
        expect(order.indexOf("StopHyperParameterTuningJobCommand")).to.be.below(order.indexOf("DescribeHyperParameterTuningJobCommand"));
    });

    it("refresh reads the job's status, and keeps the result of a job SageMaker no longer knows", async () => {
        const outs = { ...inputs, status: "InProgress", bestTrainingJobName: "j", objectiveMetricName: "test:loss", objectiveValue: 1, modelArtifactUri: "s3://b/m.tar.gz", finalMetrics: {} };
        sagemaker.on(DescribeHyperParameterTuningJobCommand).resolvesOnce(tuningJob("Completed", bestJob))
            .rejects(Object.assign(new Error("Amazon SageMaker can't find a tuning job"), { name: "ResourceNotFound" }));
        expect((await provider.read(inputs.tuningJobName, outs)).props).to.include({ status: "Completed", modelArtifactUri: "s3://b/m.tar.gz" });
        expect(await provider.read(inputs.tuningJobName, outs)).to.deep.equal({ id: inputs.tuningJobName, props: outs });
    });

    it("replaces on a new tuning job or region, and updates in place for new wait settings or state that held credentials", async () => {
        const olds = { ...inputs, status: "Completed", bestTrainingJobName: "j", objectiveMetricName: "test:loss", objectiveValue: 1, modelArtifactUri: "s3://b/m.tar.gz", finalMetrics: {} };
        expect(await provider.diff("id", olds, inputs)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await provider.diff("id", olds, { ...inputs, tuningJobName: "clf-prod-ffffffffff" })).to.include({ changes: true }).and.to.have.deep.property("replaces", ["tuningJobName"]);
        expect(await provider.diff("id", olds, { ...inputs, sdk: { ...sdk, region: "eu-west-1" } })).to.have.deep.property("replaces", ["sdk"]);
        const legacy = { ...olds, sdk: undefined, region: "us-east-1" } as unknown as TuningWaiterOutputs;
        expect(await provider.diff("id", legacy, inputs), "state from before the sdk input: same region, no replacement").to.have.deep.property("replaces", []);
        const withProfile = { ...olds, sdk: { ...sdk, profile: "laptop-only", assumeRoles: [] } } as unknown as TuningWaiterOutputs;
        expect(await provider.diff("id", withProfile, inputs), "state that held a profile is rewritten without it, in place")
            .to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        const timeoutOnly = await provider.diff("id", olds, { ...inputs, timeoutSeconds: 1200 });
        expect(timeoutOnly).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        const updated = await provider.update("id", olds, { ...inputs, timeoutSeconds: 1200 });
        expect(updated.outs).to.include({ timeoutSeconds: 1200, bestTrainingJobName: "j", modelArtifactUri: "s3://b/m.tar.gz" });
    });
});
