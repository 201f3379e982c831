/**
 * The tuning waiter as `pulumi up` really runs it: the provider object the program serializes (Pulumi's
 * closure serialization), loaded in a fresh Node process the way the dynamic provider host loads it, calling
 * a loopback server that speaks SageMaker's JSON 1.1 protocol through the real SDK. A provider that does not
 * survive serialization fails here, not in a user's deployment.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureProgram, readStackConfig } from "../../tools/preview/capture";
import { SageMakerAnswer, SageMakerCall, startSageMakerApiServer } from "../../tools/status/test/support/sagemaker-api-server";
import { runInProviderHost } from "./support/provider-host";

const repoRoot = path.resolve(__dirname, "..", "..");

describe("tuning waiter, serialized and run as the dynamic provider host runs it", function () {
    this.timeout(120_000);
    let workdir: string;
    let providerFile: string;

    before(async () => {
        const config = await readStackConfig(path.join(repoRoot, "Pulumi.prod.yaml"));
        const { resources } = await captureProgram({ program: path.join(repoRoot, "infra", "index.ts"), stack: "prod", config });
        const waiter = resources.find((r) => r.type === "pulumi-nodejs:dynamic/sagemaker-classifier:BestTuningResult");
        expect(waiter?.inputs.__provider, "the program registers a serialized provider").to.be.a("string");
        workdir = fs.mkdtempSync(path.join(os.tmpdir(), "waiter-host-"));
        providerFile = path.join(workdir, "provider.js");
        fs.writeFileSync(providerFile, waiter?.inputs.__provider as string);
    });
    after(() => fs.rmSync(workdir, { recursive: true, force: true }));

    /** The call's result, and the lines it printed (which the CLI shows as info diagnostics). */
    /** One call as the host makes it, with `stackConfig` as the engine's Configure hands it over (all of it). */
    async function run(method: string, args: unknown[], url: string, stackConfig: Record<string, string> = {}, extraEnv: Record<string, string> = {}):
        Promise<{ result: Record<string, unknown>; stdout: string[] }> {
        const env = {
            PATH: process.env.PATH,
            AWS_ENDPOINT_URL_SAGEMAKER: url,
            AWS_ACCESS_KEY_ID: "AKIDLOOPBACK",
            AWS_SECRET_ACCESS_KEY: "loopback-secret",
            AWS_REGION: "us-east-1",
            // Nothing from this machine's own AWS files.
            AWS_CONFIG_FILE: path.join(workdir, "no-config"),
            AWS_SHARED_CREDENTIALS_FILE: path.join(workdir, "no-credentials"),
            ...extraEnv,
        };
        return runInProviderHost({ providerFile, method, args, stackConfig, env, workdir, cwd: repoRoot });
    }

    async function withServer<T>(answers: Record<string, SageMakerAnswer>, body: (url: string, calls: SageMakerCall[]) => Promise<T>): Promise<T> {
        const server = await startSageMakerApiServer(answers);
        try {
            return await body(server.url, server.calls);
        } finally {
            await server.close();
        }
    }

    const inputs = {
        tuningJobName: "clf-prod-0123456789", sdk: { region: "us-east-1" }, timeoutSeconds: 60, pollSeconds: 1, attempt: 3,
        stackJobs: { jobPrefix: "clf-prod", project: "sagemaker-classifier", stack: "prod" },
    };
    const noOtherJobs: Record<string, SageMakerAnswer> = { "SageMaker.ListHyperParameterTuningJobs": () => [200, { HyperParameterTuningJobSummaries: [] }] };

    it("create: waits for the tuning job and returns the best job's model, through the real SDK", async () => {
        let describes = 0;
        await withServer({
            ...noOtherJobs,
            "SageMaker.DescribeHyperParameterTuningJob": () => {
                describes++;
                return [200, describes === 1
                    ? {
                        HyperParameterTuningJobName: inputs.tuningJobName,
                        HyperParameterTuningJobStatus: "InProgress",
                        HyperParameterTuningJobConfig: { Strategy: "Bayesian", ResourceLimits: { MaxNumberOfTrainingJobs: 4, MaxParallelTrainingJobs: 2 } },
                        TrainingJobStatusCounters: { InProgress: 2 },
                    }
                    : {
                        HyperParameterTuningJobName: inputs.tuningJobName,
                        HyperParameterTuningJobStatus: "Completed",
                        TrainingJobStatusCounters: { Completed: 4 },
                        BestTrainingJob: {
                            TrainingJobName: "clf-prod-0123456789-002-1a2b3c4d",
                            FinalHyperParameterTuningJobObjectiveMetric: { MetricName: "test:loss", Value: 0.61 },
                        },
                    }];
            },
            "SageMaker.DescribeTrainingJob": (body) => [200, {
                TrainingJobName: body.TrainingJobName,
                ModelArtifacts: { S3ModelArtifacts: `s3://bucket/output/sagemaker/${body.TrainingJobName}/output/model.tar.gz` },
            }],
        }, async (url, calls) => {
            const { result, stdout } = await run("create", [inputs], url);
            expect(result).to.deep.include({ id: inputs.tuningJobName });
            // What `pulumi up` shows while it waits: the serialized provider's own progress lines.
            expect(stdout).to.have.length(2);
            expect(stdout[0]).to.match(/^tuning job clf-prod-0123456789: InProgress; 0 of 4 training jobs done, 2 running; no objective value yet; elapsed /);
            expect(stdout[1]).to.match(/^tuning job clf-prod-0123456789: Completed; 4 training jobs done, 0 running; best test:loss 0\.61 from clf-prod-0123456789-002-1a2b3c4d; /);
            expect(result.outs).to.include({
                bestTrainingJobName: "clf-prod-0123456789-002-1a2b3c4d",
                objectiveValue: 0.61,
                modelArtifactUri: "s3://bucket/output/sagemaker/clf-prod-0123456789-002-1a2b3c4d/output/model.tar.gz",
            });
            expect(calls.map((c) => c.target)).to.deep.equal([
                "SageMaker.ListHyperParameterTuningJobs",
                "SageMaker.DescribeHyperParameterTuningJob", "SageMaker.DescribeHyperParameterTuningJob", "SageMaker.DescribeTrainingJob",
            ]);
            expect(calls[1].body).to.deep.equal({ HyperParameterTuningJobName: inputs.tuningJobName });
            expect(calls[1].authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
        });
    });

    it("create: surfaces SageMaker's failure reason", async () => {
        await withServer({
            ...noOtherJobs,
            "SageMaker.DescribeHyperParameterTuningJob": () => [200, {
                HyperParameterTuningJobStatus: "Failed",
                FailureReason: "ClientError: No S3 objects found under S3 URL",
            }],
        }, async (url) => {
            const { result } = await run("create", [inputs], url);
            expect(result.error).to.equal(
                `tuning job ${inputs.tuningJobName} ended with status Failed: ClientError: No S3 objects found under S3 URL. ` +
                    "SageMaker never reuses a job name, so a new run needs a new one: set training.attempt to 4 " +
                    "(pulumi config set --path training.attempt 4) and run pulumi up again",
            );
        });
    });

    const completed = { HyperParameterTuningJobName: inputs.tuningJobName, HyperParameterTuningJobStatus: "Completed" };
    const state = { ...inputs, status: "InProgress", bestTrainingJobName: "j", objectiveMetricName: "test:loss", objectiveValue: 0.6, modelArtifactUri: "s3://b/m.tar.gz" };

    it("refresh on another machine: state written with a laptop's profile is read with this machine's credentials", async () => {
        // What the waiter saved before credentials moved out of the state: a profile that exists only on the laptop.
        const laptopState = { ...state, sdk: { region: "us-east-1", profile: "laptop-only", assumeRoles: [] } };
        await withServer({ "SageMaker.DescribeHyperParameterTuningJob": () => [200, completed] }, async (url, calls) => {
            const { result } = await run("read", [inputs.tuningJobName, laptopState], url);
            expect(result.error, "no profile lookup on this machine").to.equal(undefined);
            expect(result.props).to.include({ status: "Completed" });
            expect(calls[0].authorization).to.match(/Credential=AKIDLOOPBACK\//);
        });
    });

    it("the stack config of the run decides who calls AWS: its aws:profile, read when the provider is configured", async () => {
        const credentials = path.join(workdir, "credentials");
        fs.writeFileSync(credentials, "[ci-deployer]\naws_access_key_id = AKIDCIPROFILE\naws_secret_access_key = ci-secret\n");
        await withServer({ "SageMaker.DescribeHyperParameterTuningJob": () => [200, completed] }, async (url, calls) => {
            const { result } = await run("read", [inputs.tuningJobName, state], url, { "aws:profile": "ci-deployer", "aws:region": "us-east-1" },
                { AWS_SHARED_CREDENTIALS_FILE: credentials });
            expect(result.error).to.equal(undefined);
            expect(calls[0].authorization).to.match(/Credential=AKIDCIPROFILE\//);
        });
    });
});
