/**
 * `npm run status` against a loopback server speaking SageMaker's JSON 1.1 protocol, through the real
 * @aws-sdk/client-sagemaker: what it asks for, what it makes of the answers, how --watch ends, and the exit
 * codes. One case runs the command as a user does, as its own process.
 */
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run, RunDeps } from "../cli";
import { epochSeconds, SageMakerAnswer, SageMakerApiServer, startSageMakerApiServer } from "./support/sagemaker-api-server";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const credentials = { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback-secret" };
const T0 = new Date("2026-01-05T10:00:00Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function tuningJob(name: string, counters: Record<string, number>, extra: Record<string, unknown> = {}) {
    return {
        HyperParameterTuningJobName: name,
        HyperParameterTuningJobStatus: "InProgress",
        CreationTime: epochSeconds(T0),
        HyperParameterTuningJobConfig: {
            Strategy: "Bayesian",
            HyperParameterTuningJobObjective: { Type: "Minimize", MetricName: "test:loss" },
            ResourceLimits: { MaxNumberOfTrainingJobs: 4, MaxParallelTrainingJobs: 2 },
        },
        TrainingJobStatusCounters: counters,
        ObjectiveStatusCounters: {},
        ...extra,
    };
}

const inService = (name: string, current = 1, desired = current) => ({
    EndpointName: name,
    EndpointStatus: "InService",
    ProductionVariants: [{ VariantName: "AllTraffic", CurrentInstanceCount: current, DesiredInstanceCount: desired }],
});

describe("npm run status", function () {
    this.timeout(60_000);
    let server: SageMakerApiServer | undefined;
    let workdir: string;

    beforeEach(() => (workdir = fs.mkdtempSync(path.join(os.tmpdir(), "status-"))));
    afterEach(async () => {
        await server?.close();
        server = undefined;
        fs.rmSync(workdir, { recursive: true, force: true });
    });

    async function status(argv: string[], answers: Record<string, SageMakerAnswer>, outputs?: Record<string, unknown>) {
        await server?.close();
        // A stack whose model package group has no versions yet, unless the test says otherwise.
        server = await startSageMakerApiServer({ "SageMaker.ListModelPackages": () => [200, { ModelPackageSummaryList: [] }], ...answers });
        const url = server.url;
        let now = minutes(30).getTime();
        const out: string[] = [];
        const err: string[] = [];
        const sleeps: number[] = [];
        const deps: RunDeps = {
            cwd: repoRoot,
            out: (t) => out.push(t),
            err: (t) => err.push(t),
            clientFor: (region) => new SageMakerClient({ region, endpoint: url, credentials }),
            now: () => now,
            sleep: async (ms) => {
                sleeps.push(ms);
                now += ms;
            },
            readPulumiOutputs: async () => outputs,
        };
        const code = await run(argv, deps);
        return { code, out: out.join("\n"), err: err.join("\n"), calls: server.calls, sleeps };
    }

    it("a tuning stack without outputs: finds the stack's newest tuning job by its computed prefix, and shows progress and the endpoint", async () => {
        const r = await status(["--stack", "prod"], {
            "SageMaker.ListHyperParameterTuningJobs": () => [200, {
                HyperParameterTuningJobSummaries: [
                    // Another environment's job and a name that only contains the prefix must not be picked.
                    { HyperParameterTuningJobName: "clf-prod2-aaaaaaaaaa", HyperParameterTuningJobStatus: "InProgress", CreationTime: epochSeconds(minutes(5)) },
                    { HyperParameterTuningJobName: "clf-prod-0123456789", HyperParameterTuningJobStatus: "InProgress", CreationTime: epochSeconds(T0) },
                    { HyperParameterTuningJobName: "clf-prod-9999999999", HyperParameterTuningJobStatus: "Completed", CreationTime: epochSeconds(minutes(-600)) },
                ],
            }],
            "SageMaker.DescribeHyperParameterTuningJob": (body) => [200, tuningJob(String(body.HyperParameterTuningJobName), { Completed: 1, InProgress: 2 }, {
                BestTrainingJob: {
                    TrainingJobName: "clf-prod-0123456789-001-1a2b3c4d",
                    TrainingJobStatus: "Completed",
                    CreationTime: epochSeconds(T0),
                    TunedHyperParameters: { lr: "0.01" },
                    FinalHyperParameterTuningJobObjectiveMetric: { MetricName: "test:loss", Value: 0.8123 },
                },
            })],
            "SageMaker.DescribeEndpoint": (body) => [400, { __type: "com.amazonaws.sagemaker#ValidationException", message: `Could not find endpoint "${String(body.EndpointName)}".` }],
        });
        expect(r.err).to.equal("");
        expect(r.code).to.equal(0);
        const list = r.calls.find((c) => c.target === "SageMaker.ListHyperParameterTuningJobs");
        expect(list?.body).to.include({ NameContains: "clf-prod", SortBy: "CreationTime", SortOrder: "Descending" });
        expect(r.calls.find((c) => c.target === "SageMaker.DescribeHyperParameterTuningJob")?.body).to.deep.equal({ HyperParameterTuningJobName: "clf-prod-0123456789" });
        expect(r.calls.find((c) => c.target === "SageMaker.DescribeEndpoint")?.body).to.deep.equal({ EndpointName: "sagemaker-classifier-prod" });
        expect(r.calls[0].authorization).to.match(/Credential=AKIDLOOPBACK\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
        expect(r.out).to.equal([
            "stack prod (us-east-1, tuning training; names computed from Pulumi.prod.yaml (no stack outputs))",
            // 1 of 4 done in 30 minutes: the other 3 at that rate take 90.
            "  tuning job clf-prod-0123456789: InProgress; 1 of 4 training jobs done, 2 running; best test:loss (minimize) 0.8123 from clf-prod-0123456789-001-1a2b3c4d; elapsed 30m 00s; about 1h 30m left",
            "  endpoint: endpoint sagemaker-classifier-prod does not exist (yet)",
        ].join("\n"));
    });

    it("lists the model package group's versions with their approval status and metrics, how to approve one, and which serves", async () => {
        const arn = (v: number) => `arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-classifier-prod/${v}`;
        const r = await status(["--stack", "prod"], {
            "SageMaker.DescribeHyperParameterTuningJob": (body) => [200, tuningJob(String(body.HyperParameterTuningJobName), { Completed: 4 }, { HyperParameterTuningJobStatus: "Completed", HyperParameterTuningEndTime: epochSeconds(minutes(20)) })],
            "SageMaker.DescribeEndpoint": (body) => [200, inService(String(body.EndpointName))],
            "SageMaker.ListModelPackages": () => [200, { ModelPackageSummaryList: [3, 2].map((v) => ({ ModelPackageArn: arn(v), ModelPackageGroupName: "sagemaker-classifier-prod", ModelPackageStatus: "Completed", CreationTime: epochSeconds(T0) })) }],
            "SageMaker.DescribeModelPackage": (body) => {
                const v = Number(String(body.ModelPackageName).split("/").pop());
                return [200, {
                    ModelPackageArn: body.ModelPackageName, ModelPackageVersion: v, ModelPackageStatus: "Completed", CreationTime: epochSeconds(T0),
                    ModelApprovalStatus: v === 3 ? "PendingManualApproval" : "Approved",
                    CustomerMetadataProperties: { trainingJob: `clf-prod-000000000${v}-001-1a2b3c4d`, "metric:test:loss": v === 3 ? "0.61" : "0.74" },
                }];
            },
        }, { endpointName: "sagemaker-classifier-prod", trainingMode: "tuning", tuningJobName: "clf-prod-0123456789", modelPackageGroup: "sagemaker-classifier-prod", servedModelPackage: arn(2) });
        expect(r.err).to.equal("");
        expect(r.calls.find((c) => c.target === "SageMaker.ListModelPackages")?.body).to.include({ ModelPackageGroupName: "sagemaker-classifier-prod", SortBy: "CreationTime", SortOrder: "Descending" });
        expect(r.out.split("\n").slice(-3)).to.deep.equal([
            "  model package group sagemaker-classifier-prod, newest first:",
            `    version 3: PendingManualApproval; test:loss 0.61; trained by clf-prod-0000000003-001-1a2b3c4d; approve: aws sagemaker update-model-package --region us-east-1 --model-package-arn ${arn(3)} --model-approval-status Approved`,
            "    version 2: Approved, served; test:loss 0.74; trained by clf-prod-0000000002-001-1a2b3c4d",
        ]);
    });

    it("--watch refreshes until the tuning job is done and the endpoint in service", async () => {
        let describes = 0;
        const r = await status(["--stack", "prod", "--watch", "--interval", "60"], {
            "SageMaker.DescribeHyperParameterTuningJob": (body) => {
                describes++;
                const name = String(body.HyperParameterTuningJobName);
                if (describes < 3) return [200, tuningJob(name, { Completed: describes, InProgress: 2 })];
                return [200, tuningJob(name, { Completed: 4 }, { HyperParameterTuningJobStatus: "Completed", HyperParameterTuningEndTime: epochSeconds(minutes(80)) })];
            },
            "SageMaker.DescribeEndpoint": (body) => [200, describes < 3
                ? { EndpointName: body.EndpointName, EndpointStatus: "Creating", ProductionVariants: [] }
                : inService(String(body.EndpointName), 1, 2)],
        }, { endpointName: "sagemaker-classifier-prod", trainingMode: "tuning", tuningJobName: "clf-prod-0123456789" });
        expect(r.code).to.equal(0);
        expect(r.sleeps).to.deep.equal([60_000, 60_000]);
        expect(r.calls.map((c) => c.target)).not.to.include("SageMaker.ListHyperParameterTuningJobs");
        const blocks = r.out.split("\n\n");
        expect(blocks).to.have.length(3);
        expect(blocks[0]).to.include("stack outputs (pulumi stack output)").and.include("endpoint sagemaker-classifier-prod: Creating");
        expect(blocks[1]).to.include("2 of 4 training jobs done, 2 running; no objective value yet; elapsed 31m 00s; about 31m 00s left");
        expect(blocks[2]).to.include("tuning job clf-prod-0123456789: Completed; 4 of 4 training jobs done, 0 running; no objective value yet; elapsed 1h 20m\n");
        expect(blocks[2]).to.include("endpoint sagemaker-classifier-prod: InService; AllTraffic 1 instance (scaling to 2)");
    });

    it("a failed job ends the watch with exit 1 and SageMaker's reason", async () => {
        const r = await status(["--stack", "prod", "--watch"], {
            "SageMaker.DescribeHyperParameterTuningJob": (body) => [200, tuningJob(String(body.HyperParameterTuningJobName), { NonRetryableError: 4 }, {
                HyperParameterTuningJobStatus: "Failed", FailureReason: "All training jobs failed",
            })],
            "SageMaker.DescribeEndpoint": (body) => [400, { __type: "ValidationException", message: `Could not find endpoint "${String(body.EndpointName)}".` }],
        }, { tuningJobName: "clf-prod-0123456789" });
        expect(r.code).to.equal(1);
        expect(r.sleeps).to.deep.equal([]);
        expect(r.out).to.include("Failed; 4 of 4 training jobs done (4 failed), 0 running; no objective value yet; elapsed 30m 00s; reason: All training jobs failed");
    });

    it("a single-mode stack from an outputs file: the training job's state and the time its stopping condition leaves", async () => {
        const outputsFile = path.join(workdir, "outputs.json");
        fs.writeFileSync(outputsFile, JSON.stringify({ endpointName: "my-endpoint", trainingMode: "single", trainingJobName: "clf-dev-abcdef0123" }));
        const stackFile = path.join(repoRoot, "Pulumi.status-single.yaml");
        fs.writeFileSync(stackFile, "config:\n  aws:region: eu-west-1\n  sagemaker-classifier:training:\n    mode: single\n");
        try {
            const r = await status(["--stack", "status-single", "--outputs", outputsFile], {
                "SageMaker.DescribeTrainingJob": (body) => [200, {
                    TrainingJobName: body.TrainingJobName,
                    TrainingJobStatus: "InProgress",
                    SecondaryStatus: "Training",
                    CreationTime: epochSeconds(T0),
                    TrainingStartTime: epochSeconds(minutes(5)),
                    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
                }],
                "SageMaker.DescribeEndpoint": (body) => [200, inService(String(body.EndpointName), 2)],
            });
            expect(r.code).to.equal(0);
            expect(r.calls.find((c) => c.target === "SageMaker.DescribeTrainingJob")?.body).to.deep.equal({ TrainingJobName: "clf-dev-abcdef0123" });
            expect(r.calls[0].authorization).to.include("/eu-west-1/sagemaker/");
            expect(r.out).to.include("training job clf-dev-abcdef0123: InProgress (Training); elapsed 30m 00s; at most 35m 00s left (stopping condition)");
            expect(r.out).to.include("endpoint my-endpoint: InService; AllTraffic 2 instances");
        } finally {
            fs.rmSync(stackFile);
        }
    });

    it("an existing-model stack has no job to show; a serverless variant shows its concurrency", async () => {
        const r = await status(["--stack", "dev", "--json"], {
            "SageMaker.DescribeEndpoint": (body) => [200, {
                EndpointName: body.EndpointName,
                EndpointStatus: "InService",
                ProductionVariants: [{ VariantName: "AllTraffic", CurrentServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 5 } }],
            }],
        });
        expect(r.code).to.equal(0);
        expect(r.calls.map((c) => c.target)).to.deep.equal(["SageMaker.DescribeEndpoint"]);
        const doc = JSON.parse(r.out) as { job?: unknown; endpoint: { variants: unknown[] } };
        expect(doc.job).to.equal(undefined);
        expect(doc.endpoint.variants).to.deep.equal([{ variantName: "AllTraffic", serverlessMaxConcurrency: 5 }]);
    });

    it("names the problem for bad arguments, a bad outputs file and an AWS refusal (exit 2)", async () => {
        expect((await status([], {})).err).to.match(/^error: --stack <name> is required\n\nusage:/);
        expect((await status(["--stack", "prod", "--interval", "1"], {})).err).to.match(/^error: --interval must be a whole number of seconds, at least 5; got "1"/);
        expect((await status(["--stack", "nope"], {})).err).to.match(/^error: --stack nope: stack config file .*Pulumi\.nope\.yaml does not exist/);
        const bad = path.join(workdir, "bad.json");
        fs.writeFileSync(bad, "[1]");
        const badOutputs = await status(["--stack", "prod", "--outputs", bad], {});
        expect(badOutputs.code).to.equal(2);
        expect(badOutputs.err).to.match(/--outputs .*bad\.json must be a JSON object of stack outputs/);
        const denied = await status(["--stack", "dev"], {
            "SageMaker.DescribeEndpoint": () => [400, { __type: "AccessDeniedException", message: "User is not authorized to perform: sagemaker:DescribeEndpoint" }],
        });
        expect(denied.code).to.equal(2);
        expect(denied.err).to.equal("error: SageMaker refused: User is not authorized to perform: sagemaker:DescribeEndpoint (the status needs sagemaker:Describe* and sagemaker:List* on the stack's jobs and endpoint)");
    });

    it("runs as npm run status does, in its own process, with the SDK's endpoint override", async () => {
        server = await startSageMakerApiServer({
            "SageMaker.DescribeEndpoint": (body) => [200, inService(String(body.EndpointName))],
        });
        const env = {
            PATH: path.dirname(process.execPath),
            AWS_ENDPOINT_URL_SAGEMAKER: server.url,
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        };
        const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
        const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
            execFile(process.execPath, [tsx, path.join(repoRoot, "tools", "status", "cli.ts"), "--stack", "dev"], { env, cwd: repoRoot }, (error, stdout, stderr) =>
                resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
            ),
        );
        expect(result.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?created\)\n/, "")).to.equal("");
        expect(result.code).to.equal(0);
        expect(result.stdout).to.equal("stack dev (us-east-1, existing training; names computed from Pulumi.dev.yaml (no stack outputs))\n  endpoint sagemaker-classifier-dev: InService; AllTraffic 1 instance\n");
    });
});
