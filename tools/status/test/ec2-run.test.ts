/**
 * `npm run status` on a stack with an EC2 training run: the real EC2 and S3 clients under aws-sdk-client-mock
 * (what they are asked), the SageMaker side against the loopback server, and what the user is told: running,
 * finished with a model, stopped without one (a failed run, exit 1), or not knowable.
 */
import { DescribeInstancesCommand, EC2Client, InstanceStateName } from "@aws-sdk/client-ec2";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { expect } from "chai";
import * as path from "node:path";
import { run } from "../cli";
import { epochSeconds, SageMakerApiServer, startSageMakerApiServer } from "./support/sagemaker-api-server";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const credentials = { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback-secret" };
const INSTANCE = "i-0123456789abcdef0";
const BUCKET = "artifacts-bucket-1a2b3c4";
const KEY = "output/ec2/0123456789ab/model.tar.gz";
const outputs = {
    endpointName: "classifier-endpoint",
    trainingMode: "tuning",
    tuningJobName: "clf-prod-0123456789",
    ec2InstanceId: INSTANCE,
    ec2ModelArtifact: `s3://${BUCKET}/${KEY}`,
};
const s3Error = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const instances = (state: InstanceStateName) => ({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: state } }] }] });

describe("npm run status: the EC2 training run", function () {
    this.timeout(60_000);
    let server: SageMakerApiServer;
    const ec2 = new EC2Client({ region: "us-east-1", credentials });
    const s3 = new S3Client({ region: "us-east-1", credentials });
    // Mocked only while this suite runs: a mock made at load time would collide with other suites' mocks of the class.
    let ec2Mock: AwsClientStub<EC2Client>;
    let s3Mock: AwsClientStub<S3Client>;

    before(async () => {
        server = await startSageMakerApiServer({
            // The prod stack trains, so status lists its model package versions too: none registered yet here.
            "SageMaker.ListModelPackages": () => [200, { ModelPackageSummaryList: [] }],
            "SageMaker.DescribeHyperParameterTuningJob": (body) => [200, {
                HyperParameterTuningJobName: body.HyperParameterTuningJobName,
                HyperParameterTuningJobStatus: "Completed",
                CreationTime: epochSeconds(new Date("2026-01-05T10:00:00Z")),
                HyperParameterTuningJobEndTime: epochSeconds(new Date("2026-01-05T12:00:00Z")),
                HyperParameterTuningJobConfig: {
                    Strategy: "Bayesian",
                    HyperParameterTuningJobObjective: { Type: "Minimize", MetricName: "test:loss" },
                    ResourceLimits: { MaxNumberOfTrainingJobs: 4, MaxParallelTrainingJobs: 2 },
                },
                TrainingJobStatusCounters: { Completed: 4 },
                ObjectiveStatusCounters: { Succeeded: 4 },
            }],
            "SageMaker.DescribeEndpoint": (body) => [200, {
                EndpointName: body.EndpointName,
                EndpointStatus: "InService",
                ProductionVariants: [{ VariantName: "AllTraffic", CurrentInstanceCount: 1, DesiredInstanceCount: 1 }],
            }],
        });
    });
    after(() => server.close());
    before(() => {
        ec2Mock = mockClient(ec2);
        s3Mock = mockClient(s3);
    });
    after(() => {
        ec2Mock.restore();
        s3Mock.restore();
    });
    beforeEach(() => {
        ec2Mock.reset();
        s3Mock.reset();
    });

    async function status(argv: string[], stackOutputs: Record<string, unknown> = outputs) {
        const out: string[] = [];
        const err: string[] = [];
        const sleeps: number[] = [];
        const code = await run(["--stack", "prod", ...argv], {
            cwd: repoRoot,
            out: (t) => out.push(t),
            err: (t) => err.push(t),
            clientFor: (region) => new SageMakerClient({ region, endpoint: server.url, credentials }),
            ec2ClientsFor: () => ({ ec2, s3 }),
            now: () => Date.parse("2026-01-05T13:00:00Z"),
            sleep: async (ms) => void sleeps.push(ms),
            readPulumiOutputs: async () => stackOutputs,
        });
        return { code, out: out.join("\n"), err: err.join("\n"), sleeps };
    }

    it("a stopped instance with its model: the run finished, and what the stopped instance still costs", async () => {
        ec2Mock.on(DescribeInstancesCommand).resolves(instances("stopped"));
        s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 1234 });
        const r = await status([]);
        expect(r.code, r.err).to.equal(0);
        expect(r.out).to.include(`EC2 run ${INSTANCE}: finished, model at s3://${BUCKET}/${KEY}; the instance is stopped (only its volume is billed`);
        expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input).to.deep.equal({ InstanceIds: [INSTANCE] });
        expect(s3Mock.commandCalls(HeadObjectCommand)[0].args[0].input).to.deep.equal({ Bucket: BUCKET, Key: KEY });
    });

    it("a stopped instance without a model is a failed run: exit 1, where its log is and how to run it again", async () => {
        ec2Mock.on(DescribeInstancesCommand).resolves(instances("stopped"));
        s3Mock.on(HeadObjectCommand).rejects(s3Error(404, "NotFound"));
        const r = await status([]);
        expect(r.code).to.equal(1);
        expect(r.out).to.include(`EC2 run ${INSTANCE}: stopped without a model at s3://${BUCKET}/${KEY}: the run failed`);
        expect(r.out).to.include("/var/log/ml-train.log").and.include("pulumi up --replace");
    });

    it("--watch follows a running instance until it stops with its model, without asking S3 while it runs", async () => {
        ec2Mock.on(DescribeInstancesCommand).resolvesOnce(instances("running")).resolves(instances("stopped"));
        s3Mock.on(HeadObjectCommand).resolves({});
        const r = await status(["--watch", "--interval", "60"]);
        expect(r.code, r.err).to.equal(0);
        expect(r.sleeps).to.deep.equal([60_000]);
        const [first, second] = r.out.split("\n\n");
        expect(first).to.include(`EC2 run ${INSTANCE}: running, training; the model goes to s3://${BUCKET}/${KEY}`);
        expect(second).to.include(`EC2 run ${INSTANCE}: finished`);
        expect(s3Mock.commandCalls(HeadObjectCommand)).to.have.length(1);
    });

    it("S3 refusing the check leaves the outcome unknown, naming the permissions, and is not a failure", async () => {
        ec2Mock.on(DescribeInstancesCommand).resolves(instances("stopped"));
        s3Mock.on(HeadObjectCommand).rejects(s3Error(403, "Forbidden"));
        const r = await status([]);
        expect(r.code).to.equal(0);
        expect(r.out).to.include(`whether s3://${BUCKET}/${KEY} exists is unknown: S3 refused (the status needs s3:GetObject on it and s3:ListBucket on its bucket)`);
    });

    it("an instance EC2 no longer knows, and a stack without an EC2 run", async () => {
        ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error(`The instance ID '${INSTANCE}' does not exist`), { name: "InvalidInstanceID.NotFound" }));
        const gone = await status([]);
        expect(gone.code).to.equal(0);
        expect(gone.out).to.include(`EC2 run: instance ${INSTANCE} not found in us-east-1`);

        ec2Mock.reset();
        const { ec2InstanceId: _id, ec2ModelArtifact: _uri, ...withoutEc2 } = outputs;
        const none = await status([], withoutEc2);
        expect(none.code).to.equal(0);
        expect(none.out).to.not.include("EC2 run");
        expect(ec2Mock.calls()).to.have.length(0);
    });

    it("EC2 refusing DescribeInstances is an AWS error naming the permission (exit 2)", async () => {
        ec2Mock.on(DescribeInstancesCommand).rejects(Object.assign(new Error("You are not authorized to perform this operation."), { name: "UnauthorizedOperation" }));
        const r = await status([]);
        expect(r.code).to.equal(2);
        expect(r.err).to.include("ec2:DescribeInstances");
    });
});
