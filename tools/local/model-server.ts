/**
 * Runs the SageMaker PyTorch inference container's model server on this machine: the toolkit's own start path
 * with the real TorchServe (tools/local/serve_container.py), on loopback, with the Model's environment as the stack
 * sets it. Resolves once GET /ping answers 200, which TorchServe gives only when every worker has loaded the model;
 * rejects with the worker's own error when the model or its handler fails to load, never a hang.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { PYTHON } from "../python-env/python";

export const SERVE_CONTAINER = path.join(__dirname, "serve_container.py");
/** The value of TS_DEFAULT_SERVICE_HANDLER that selects the project's batching handler (training-scripts/serving_handler.py). */
export const PROJECT_HANDLER = "serving_handler:handle";
const STOP_GRACE_MS = 15_000;
// TorchServe gives each worker 120 s to load; the JVM's own start comes on top.
const DEFAULT_READY_TIMEOUT_MS = 180_000;
// TorchServe logs a worker's death (stdout) before the worker's own traceback (stderr) may have been read.
const WORKER_ERROR_GRACE_MS = 10_000;
const PING_INTERVAL_MS = 250;
// TorchServe's frontend reports a worker that could not load the model with one of these.
const LOAD_FAILURE = /Backend worker error|Backend worker process died|Load model failed/;
// A worker's own output, where a load failure's Python error is.
const WORKER_OUTPUT = /-std(?:out|err) MODEL_LOG - (?:\w+\.)*(\w*(?:Error|Exception)\b.*)$/;

export interface ModelServerOptions {
    modelDir: string;
    /** 0 picks a free port. */
    port: number;
    /** "project" (the default) serves through training-scripts/serving_handler.py, as the stack deploys it; "stock" through the toolkit's own handler. */
    handler?: "project" | "stock";
    /** TorchServe workers (model copies): SAGEMAKER_TS_MIN_WORKERS = SAGEMAKER_TS_MAX_WORKERS. */
    workers?: number;
    /** SAGEMAKER_TS_BATCH_SIZE: requests TorchServe hands a worker at once. */
    batchSize?: number;
    /** SAGEMAKER_TS_MAX_BATCH_DELAY: how long a batch waits to fill. */
    maxBatchDelayMs?: number;
    /** SAGEMAKER_TS_RESPONSE_TIMEOUT: seconds a worker may take on a batch before TorchServe kills it. */
    responseTimeoutSeconds?: number;
    /** Lets the model fetch images from loopback and private addresses over http (IMAGE_FETCH_ALLOW_PRIVATE). */
    allowPrivateImageUrls?: boolean;
    /** How model_fn prepares the model (INFERENCE_MODEL_PREPARATION). */
    modelPreparation?: "torchscript" | "eager";
    /** More of the Model's environment, as on SageMaker. */
    environment?: Record<string, string>;
    /**
     * Where TorchServe's log goes: to this process's stderr once the model server is ready ("inherit"; a failed
     * start reports its cause in one line instead), or only kept for errors ("ignore", the default).
     */
    log?: "inherit" | "ignore";
    readyTimeoutMs?: number;
}

export interface ModelServer {
    /** http://127.0.0.1:<port>: GET /ping, POST /invocations (and TorchServe's management API, on loopback only). */
    url: string;
    port: number;
    /** From process start to every worker ready (a worker's cold start, for one worker). */
    readySeconds: number;
    pid: number;
    /** Every line TorchServe and its workers printed so far. */
    logLines(): string[];
    /** Resolves with the exit code (or signal name) whenever the process ends, expectedly or not. */
    exited: Promise<number | string>;
    /** SIGTERM to the launcher (the toolkit stops TorchServe), then SIGKILL to the whole process group after a grace period. */
    stop(): Promise<number | string>;
}

export class ModelServerError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ModelServerError";
    }
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = net.createServer();
        probe.once("error", reject);
        probe.listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}

async function portInUse(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const probe = net.createServer();
        probe.once("error", () => resolve(true));
        probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
    });
}

/** The Model's environment for these options, as infra/components/endpoint.ts would set it. */
export function modelEnvironment(options: ModelServerOptions): Record<string, string> {
    const env: Record<string, string> = { SAGEMAKER_PROGRAM: "inference.py" };
    if ((options.handler ?? "project") === "project") env.TS_DEFAULT_SERVICE_HANDLER = PROJECT_HANDLER;
    if (options.workers !== undefined) {
        env.SAGEMAKER_TS_MIN_WORKERS = String(options.workers);
        env.SAGEMAKER_TS_MAX_WORKERS = String(options.workers);
    }
    if (options.batchSize !== undefined) env.SAGEMAKER_TS_BATCH_SIZE = String(options.batchSize);
    if (options.maxBatchDelayMs !== undefined) env.SAGEMAKER_TS_MAX_BATCH_DELAY = String(options.maxBatchDelayMs);
    if (options.responseTimeoutSeconds !== undefined) env.SAGEMAKER_TS_RESPONSE_TIMEOUT = String(options.responseTimeoutSeconds);
    if (options.modelPreparation !== undefined) env.INFERENCE_MODEL_PREPARATION = options.modelPreparation;
    if (options.allowPrivateImageUrls) env.IMAGE_FETCH_ALLOW_PRIVATE = "true";
    return { ...env, ...options.environment };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch {
        // Already gone.
    }
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
    if (!fs.existsSync(PYTHON)) {
        throw new ModelServerError(`no Python environment at ${PYTHON}: run tools/python-env/ensure.sh (npm test does) or set LOCAL_PYTHON`);
    }
    const port = options.port === 0 ? await freePort() : options.port;
    if (await portInUse(port)) throw new ModelServerError(`port ${port} on 127.0.0.1 is already in use`);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "torchserve-"));
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" };
    // Nothing of the caller's shell decides what the model server does: only the options.
    for (const name of Object.keys(env)) {
        if (/^(SAGEMAKER_|TS_|INFERENCE_|IMAGE_FETCH_)/.test(name)) delete env[name];
    }
    Object.assign(env, modelEnvironment(options));

    const started = process.hrtime.bigint();
    const child: ChildProcess = spawn(PYTHON, [SERVE_CONTAINER, "--model-dir", path.resolve(options.modelDir), "--port", String(port), "--work-dir", workDir], {
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | string>((resolve) => {
        child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    });
    const lines: string[] = [];
    let passThrough = false;
    let loadFailure: string | undefined;
    let loadFailureSeen = 0;
    // The first Python error a worker printed is the cause; later ones are TorchServe's fallbacks and retries.
    const workerErrors: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
        readline.createInterface({ input: stream }).on("line", (line) => {
            lines.push(line);
            if (lines.length > 5000) lines.splice(0, lines.length - 5000);
            if (passThrough) process.stderr.write(`${line}\n`);
            const workerLine = WORKER_OUTPUT.exec(line);
            if (workerLine && workerLine[1].trim()) workerErrors.push(workerLine[1].trim());
            if (LOAD_FAILURE.test(line) && loadFailure === undefined) {
                loadFailure = line;
                loadFailureSeen = Date.now();
            }
        });
    }
    let stopping: Promise<number | string> | undefined;
    const stop = (): Promise<number | string> => {
        stopping ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                const timer = setTimeout(() => killGroup(child.pid!, "SIGKILL"), STOP_GRACE_MS);
                await exited;
                clearTimeout(timer);
            }
            // The workers and the JVM are in the launcher's process group: none outlives a stop.
            killGroup(child.pid!, "SIGKILL");
            fs.rmSync(workDir, { recursive: true, force: true });
            return exited;
        })();
        return stopping;
    };

    const deadline = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    const url = `http://127.0.0.1:${port}`;
    let spawnError: Error | undefined;
    child.once("error", (error) => (spawnError = error));
    let exitCode: number | string | undefined;
    void exited.then((code) => (exitCode = code));
    for (;;) {
        const failure = spawnError
            ? `cannot run ${PYTHON}: ${spawnError.message}`
            : exitCode !== undefined
              ? `the model server exited with ${exitCode} before it was ready: ${lines.slice(-3).join(" | ")}`
              : loadFailure && (workerErrors.length > 0 || Date.now() > loadFailureSeen + WORKER_ERROR_GRACE_MS)
                ? `the model in ${options.modelDir} failed to load: ${workerErrors[0] ?? loadFailure}`
                : Date.now() > deadline
                  ? `the model server was not ready within ${Math.round((options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) / 1000)} s`
                  : undefined;
        if (failure !== undefined) {
            await stop();
            throw new ModelServerError(failure);
        }
        if (await workersReady(url)) break;
        await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
    }
    const readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (options.log === "inherit") {
        process.stderr.write(lines.map((line) => `${line}\n`).join(""));
        passThrough = true;
    }
    return {
        url,
        port,
        readySeconds,
        pid: child.pid!,
        logLines: () => [...lines],
        exited,
        stop,
    };
}

/** /ping answers 200 and every worker of the model is READY. */
async function workersReady(url: string): Promise<boolean> {
    try {
        const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
        await ping.arrayBuffer();
        if (ping.status !== 200) return false;
        const model = await fetch(`${url}/models/model`, { signal: AbortSignal.timeout(2000) });
        if (model.status !== 200) return false;
        const [description] = (await model.json()) as { workers?: { status: string }[] }[];
        const workers = description?.workers ?? [];
        return workers.length > 0 && workers.every((worker) => worker.status === "READY");
    } catch {
        return false;
    }
}
