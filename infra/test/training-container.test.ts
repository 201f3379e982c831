/**
 * The training job as the SageMaker PyTorch training container runs it, end to end on this machine: the program
 * under mocks gives the TrainingJob's hyperparameters (and the tuning job's static ones plus a value of each
 * tuned range), the source archive the stack uploads is the `sagemaker_submit_directory`, and sagemaker-training's
 * own entry point (`train`, with SAGEMAKER_TRAINING_MODULE as the container sets it) reads
 * input/config/{hyperparameters,inputdataconfig,resourceconfig}.json and runs train.py, on one host and on two.
 * The model it writes is then served by the real TorchServe stack.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startModelServer } from "../../tools/local/model-server";
import { PYTHON } from "../../tools/python-env/python";
import { captureProgram, readStackConfig, type CapturedResource } from "../../tools/preview/capture";
import { TRAINING_METRICS } from "../contract";
import { buildSourceArchive } from "../source-archive";

const repoRoot = path.resolve(__dirname, "..", "..");
const program = path.join(repoRoot, "infra", "index.ts");
const TRAINING_KEY = "sagemaker-classifier:training";
// What the PyTorch training container sets for its `train` entry point.
const TRAINING_MODULE = "sagemaker_pytorch_container.training:main";
const TINY = { epochs: 2, modelName: "tiny-cnn", pretrained: false, batchSize: 8, learningRate: 0.01 };

async function capture(training: Record<string, unknown>): Promise<CapturedResource[]> {
    const config = await readStackConfig(path.join(repoRoot, "Pulumi.prod.yaml"));
    config[TRAINING_KEY] = JSON.stringify({ ...JSON.parse(config[TRAINING_KEY]), ...training });
    return (await captureProgram({ program, stack: "prod", config, dryRun: false })).resources;
}

function one(resources: CapturedResource[], type: string): CapturedResource {
    const found = resources.filter((r) => r.type === type);
    expect(found, type).to.have.length(1);
    return found[0];
}

interface HostResult {
    code: number | null;
    output: string;
    baseDir: string;
}

/**
 * One host of a training job: /opt/ml laid out under baseDir, the toolkit's `train` run as the container's entry
 * point. SageMaker names hosts algo-1, algo-2, ...; here they are names this machine resolves, since the PyTorch
 * toolkit looks every host up before it starts (and retries for 15 minutes).
 */
function runHost(baseDir: string, hyperparameters: Record<string, string>, hosts: string[], host: string, dataDir: string): Promise<HostResult> {
    const config = path.join(baseDir, "input", "config");
    fs.mkdirSync(config, { recursive: true });
    fs.writeFileSync(path.join(config, "hyperparameters.json"), JSON.stringify(hyperparameters));
    fs.writeFileSync(path.join(config, "resourceconfig.json"), JSON.stringify({ current_host: host, hosts, network_interface_name: "lo" }));
    fs.writeFileSync(path.join(config, "inputdataconfig.json"), JSON.stringify({ training: { TrainingInputMode: "File", S3DistributionType: "FullyReplicated", RecordWrapperType: "None" } }));
    fs.mkdirSync(path.join(baseDir, "input", "data"), { recursive: true });
    fs.symlinkSync(dataDir, path.join(baseDir, "input", "data", "training"));
    const env: NodeJS.ProcessEnv = { ...process.env, SAGEMAKER_BASE_DIR: baseDir, SAGEMAKER_TRAINING_MODULE: TRAINING_MODULE, PYTHONDONTWRITEBYTECODE: "1" };
    for (const name of Object.keys(env)) if (name.startsWith("SM_")) delete env[name];
    return new Promise((resolve) => {
        // Its own process group, so a timeout stops the toolkit and the train.py it runs, never leaving one behind.
        const child = spawn(PYTHON, ["-c", "import sys\nfrom sagemaker_training.cli.train import main\nsys.exit(main())"], { cwd: baseDir, env, detached: true });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk));
        const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 240_000);
        child.once("close", (code) => {
            clearTimeout(timer);
            resolve({ code, output, baseDir });
        });
    });
}

function metricValues(output: string, name: string): number[] {
    const definition = TRAINING_METRICS.metricDefinitions.find((metric) => metric.name === name);
    if (!definition) throw new Error(`no metric ${name}`);
    const regex = new RegExp(definition.regex);
    return output.split("\n").flatMap((line) => {
        const match = regex.exec(line);
        return match ? [Number(match[1])] : [];
    });
}

describe("training through the SageMaker training toolkit, with the program's hyperparameters", function () {
    this.timeout(600_000);
    let root: string;
    let dataDir: string;
    let samplesDir: string;
    let archive: string;

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "training-container-"));
        dataDir = path.join(root, "data");
        samplesDir = path.join(root, "samples");
        const made = spawn(PYTHON, [path.join(repoRoot, "tools", "local", "demo_images.py"), dataDir, samplesDir]);
        expect(await new Promise((resolve) => made.once("close", resolve))).to.equal(0);
        archive = buildSourceArchive(path.join(repoRoot, "training-scripts"), path.join(root, "sourcedir.tar.gz")).file;
    });

    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("a single job trains on one host, reports its metrics and writes a model the real TorchServe serves", async () => {
        const job = one(await capture({ mode: "single", hyperparameters: TINY }), "aws:sagemaker/trainingJob:TrainingJob");
        const hyperparameters = { ...(job.inputs.hyperParameters as Record<string, string>) };
        expect(hyperparameters).to.include({ sagemaker_program: "train.py", epochs: "2", "model-name": "tiny-cnn", pretrained: "false", "batch-size": "8", lr: "0.01" });
        expect(hyperparameters.sagemaker_submit_directory).to.match(/^s3:\/\/.*sourcedir.*\.tar\.gz$/);
        // The one value that differs: the archive the program uploads, from this machine instead of S3.
        hyperparameters.sagemaker_submit_directory = archive;

        const result = await runHost(path.join(root, "single"), hyperparameters, ["localhost"], "localhost", dataDir);
        expect(result.code, result.output.slice(-3000)).to.equal(0);
        expect(result.output).to.contain("Invoking user training script.");
        expect(metricValues(result.output, "test:accuracy").at(-1)).to.be.greaterThan(0.9);
        expect(metricValues(result.output, "validation:accuracy")).to.have.length(2);
        const modelDir = path.join(result.baseDir, "model");
        expect(fs.existsSync(path.join(modelDir, "code", "serving_handler.py"))).to.equal(true);

        const server = await startModelServer({ modelDir, port: 0, workers: 1 });
        try {
            const red = fs.readFileSync(path.join(samplesDir, "red.png"));
            const response = await fetch(`${server.url}/invocations`, { method: "POST", headers: { "Content-Type": "image/png" }, body: red });
            const body = (await response.json()) as { predictions: { label: string }[] };
            expect(response.status, JSON.stringify(body)).to.equal(200);
            expect(body.predictions[0].label).to.equal("red");
            // train.py measured int8 on the test split and shipped it; the worker serves what the report allows.
            const report = JSON.parse(fs.readFileSync(path.join(modelDir, "quantization.json"), "utf8")) as { serve: string; policy: unknown };
            expect(report.serve).to.equal("int8");
            expect(report.policy, "the stack's training.quantization, as hyperparameters").to.deep.equal({ enabled: true, minAgreement: 0.99, maxAccuracyDrop: 0.005 });
            expect(server.logLines().some((line) => line.includes("serving tiny-cnn in int8 as torchscript"))).to.equal(true);
        } finally {
            await server.stop();
        }
    });

    it("a tuning job's trial runs with the static hyperparameters and a value of each tuned range", async () => {
        const tuning = one(await capture({ mode: "tuning", hyperparameters: { epochs: 1, modelName: "tiny-cnn", pretrained: false } }), "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob");
        const definition = tuning.inputs.trainingJobDefinition as { staticHyperParameters: Record<string, string> };
        const ranges = (tuning.inputs.config as { parameterRanges: Record<string, { name: string; minValue?: string; values?: string[] }[]> }).parameterRanges;
        // SageMaker passes every value as a string, a tuned range's value in its wire name.
        const tuned: Record<string, string> = {};
        for (const range of ranges.continuousParameterRanges ?? []) tuned[range.name] = String(range.minValue);
        for (const range of ranges.integerParameterRanges ?? []) tuned[range.name] = String(range.minValue);
        for (const range of ranges.categoricalParameterRanges ?? []) tuned[range.name] = String(range.values![0]);
        expect(Object.keys(tuned)).to.have.members(["lr", "batch-size"]);
        const hyperparameters = { ...definition.staticHyperParameters, ...tuned, _tuning_objective_metric: "test:loss", sagemaker_submit_directory: archive };

        const result = await runHost(path.join(root, "tuning"), hyperparameters, ["localhost"], "localhost", dataDir);
        expect(result.code, result.output.slice(-3000)).to.equal(0);
        // The toolkit passes the tuned values as arguments and keeps its own (the objective metric) to itself.
        const command = result.output.split("\n").find((line) => /train\.py --/.test(line)) ?? "";
        expect(command).to.match(/--batch-size 32\b/).and.to.match(/--lr 0\.001\b/).and.not.to.contain("_tuning_objective_metric");
        expect(metricValues(result.output, "test:loss")).to.have.length(1);
    });

    it("a two-instance job trains as one group across both hosts; the first host writes the model", async () => {
        const job = one(await capture({ mode: "single", instanceCount: 2, hyperparameters: TINY }), "aws:sagemaker/trainingJob:TrainingJob");
        expect(job.inputs.resourceConfig).to.include({ instanceCount: 2 });
        const hyperparameters = { ...(job.inputs.hyperParameters as Record<string, string>), sagemaker_submit_directory: archive };
        // Host names this machine resolves (the toolkit looks every host up, and rendezvous at the first on port 7777).
        const hosts = ["127.0.0.1", "127.0.0.2"];
        const [first, second] = await Promise.all(hosts.map((host) => runHost(path.join(root, `host-${host}`), hyperparameters, hosts, host, dataDir)));
        expect(first.code, first.output.slice(-3000)).to.equal(0);
        expect(second.code, second.output.slice(-3000)).to.equal(0);
        expect(first.output).to.match(/over 2 host\(s\)/);
        expect(fs.existsSync(path.join(first.baseDir, "model", "model.pth"))).to.equal(true);
        expect(fs.existsSync(path.join(second.baseDir, "model", "model.pth")), "only the leader writes the model").to.equal(false);
    });

    it("a hyperparameter train.py refuses becomes the job's FailureReason (the failure file), not an empty message", async () => {
        const job = one(await capture({ mode: "single", hyperparameters: TINY }), "aws:sagemaker/trainingJob:TrainingJob");
        const hyperparameters = { ...(job.inputs.hyperParameters as Record<string, string>), sagemaker_submit_directory: archive, pretrained: "maybe" };
        const result = await runHost(path.join(root, "refused"), hyperparameters, ["localhost"], "localhost", dataDir);
        expect(result.code).to.not.equal(0);
        const failure = fs.readFileSync(path.join(result.baseDir, "output", "failure"), "utf8");
        expect(failure).to.match(/^train\.py: argument --pretrained/);
        expect(failure).to.contain("maybe");
    });
});
