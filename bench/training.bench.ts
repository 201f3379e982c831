/**
 * Data-parallel training on this machine: training images per second of the real train.py as one process and
 * as a two-host cluster (two processes, each with its own SM_CURRENT_HOST, meeting on loopback), and the
 * scaling efficiency, throughput(2) / (2 x throughput(1)).
 *
 * Each process gets one torch thread, as each host of a cluster has its own cores; the row with one process
 * on two threads says what the same two cores do without DistributedDataParallel. The throughput is the one
 * train.py reports for its last epoch (the first also pays for warm-up), the best of RUNS runs, since the
 * cores are shared with whatever else runs. The global batch is the same in every row, so two processes take
 * half of it each, as a multi-instance job does.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PYTHON } from "../tools/python-env/python";
import { printTable, type BenchRow } from "./table";

const SCRIPTS_DIR = path.join(__dirname, "..", "training-scripts");
const IMAGE_SIZE = 64;
const IMAGES_PER_CLASS = { train: 48, valid: 4, test: 4 };
const EPOCHS = 2;
const BATCH_SIZE = 32;
const RUNS = 2;
// tiny-cnn is bound by image decoding and has almost nothing to all-reduce; resnet18 computes and all-reduces
// 11 M gradients a step.
const MODELS = ["tiny-cnn", "resnet18"];

const TARGETS = {
    // Two hosts should do at least this share of twice the work of one.
    scalingEfficiency: 0.7,
};

const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

function runPython(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(PYTHON, args, { cwd: SCRIPTS_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
        child.once("error", reject);
        child.once("exit", (code) =>
            code === 0 ? resolve(stdout) : reject(new Error(`${args.join(" ")} exited ${code}:\n${stdout}\n${stderr}`)),
        );
    });
}

function makeDataset(dir: string): Promise<string> {
    const script = [
        "import sys",
        "from pathlib import Path",
        "sys.path.insert(0, 'tests')",
        "from synthetic_images import make_dataset",
        `make_dataset(Path(sys.argv[1]), ${JSON.stringify(IMAGES_PER_CLASS)}, ${IMAGE_SIZE})`,
    ].join("\n");
    return runPython(["-c", script, dir], process.env);
}

function lastThroughput(stdout: string): number {
    const values = [...stdout.matchAll(/Train Throughput: ([0-9.]+) images\/s/g)].map((match) => Number(match[1]));
    if (values.length !== EPOCHS) throw new Error(`expected ${EPOCHS} throughput lines from train.py, got:\n${stdout}`);
    return values[values.length - 1];
}

/** Images per second over all processes, as the leader reports it. */
async function oneRun(model: string, dataDir: string, root: string, processes: number, threads: number): Promise<number> {
    const args = [
        "train.py", "--epochs", String(EPOCHS), "--lr", "0.001", "--batch-size", String(BATCH_SIZE), "--model-name", model,
        "--pretrained", "false", "--image-size", String(IMAGE_SIZE), "--num-workers", "0", "--data-dir", dataDir,
        "--rendezvous-timeout", "120",
    ];
    const hosts = Array.from({ length: processes }, (_, i) => `algo-${i + 1}`);
    const port = await freePort();
    const outputs = await Promise.all(
        hosts.map((host) => {
            const env: NodeJS.ProcessEnv = {
                ...process.env,
                OMP_NUM_THREADS: String(threads),
                PYTHONDONTWRITEBYTECODE: "1",
                SM_MODEL_DIR: path.join(root, `${model}-${processes}x${threads}`, host),
            };
            if (processes > 1) {
                Object.assign(env, { SM_HOSTS: JSON.stringify(hosts), SM_CURRENT_HOST: host, MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(port) });
            }
            return runPython(args, env);
        }),
    );
    return lastThroughput(outputs[0]);
}

async function throughput(model: string, dataDir: string, root: string, processes: number, threads: number): Promise<number> {
    let best = 0;
    for (let run = 0; run < RUNS; run++) best = Math.max(best, await oneRun(model, dataDir, root, processes, threads));
    return best;
}

async function main(): Promise<void> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "training-bench-"));
    try {
        const dataDir = path.join(root, "data");
        await makeDataset(dataDir);
        const trainImages = IMAGES_PER_CLASS.train * 3;
        const rows: BenchRow[] = [];
        for (const model of MODELS) {
            const one = await throughput(model, dataDir, root, 1, 1);
            const two = await throughput(model, dataDir, root, 2, 1);
            const sameCores = await throughput(model, dataDir, root, 1, 2);
            const efficiency = two / (2 * one);
            rows.push(
                { model, processes: 1, "threads each": 1, "images/s": one, "x one process": 1 },
                {
                    model, processes: 2, "threads each": 1, "images/s": two, "x one process": two / one,
                    "scaling efficiency": efficiency,
                    target: `>= ${TARGETS.scalingEfficiency}`, result: verdict(efficiency >= TARGETS.scalingEfficiency),
                },
                { model, processes: 1, "threads each": 2, "images/s": sameCores, "x one process": sameCores / one },
            );
        }
        printTable(
            `train.py, DistributedDataParallel over loopback (gloo), ${trainImages} training images ${IMAGE_SIZE}x${IMAGE_SIZE}, ` +
                `global batch ${BATCH_SIZE}, last of ${EPOCHS} epochs, best of ${RUNS} runs, ${os.cpus().length} cores shared with whatever else runs`,
            rows,
        );
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    },
);
