/**
 * Starts training-scripts/serve_local.py (the local SageMaker hosting server) as a child process and waits for
 * its ready line. A start that fails rejects with the server's own one-line reason, never a traceback.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";

export const SERVE_LOCAL = path.resolve(__dirname, "..", "..", "training-scripts", "serve_local.py");
/** Debian's interpreter, the one with torch installed; LOCAL_PYTHON overrides it. */
export const PYTHON = process.env.LOCAL_PYTHON ?? "/usr/bin/python3";
const STOP_GRACE_MS = 15_000;

export interface ModelServerOptions {
    modelDir: string;
    host?: string;
    /** 0 picks a free port. */
    port: number;
    endpointName: string;
    /** Lets the model fetch images from loopback and private addresses over http (IMAGE_FETCH_ALLOW_PRIVATE). */
    allowPrivateImageUrls?: boolean;
    logLevel?: "debug" | "info" | "warning" | "error";
    torchThreads?: number;
    /** Batch up to this many waiting requests into one predict_fn call, as TorchServe's batchSize does. */
    batchSize?: number;
    /** How long a batch waits to fill (TorchServe's maxBatchDelay). */
    maxBatchDelayMs?: number;
    /** How model_fn prepares the model (INFERENCE_MODEL_PREPARATION): TorchScript by default, or eager as loaded. */
    modelPreparation?: "torchscript" | "eager";
    /** Where the server's log (stderr) goes; the parent's stderr by default. */
    stderr?: "inherit" | "ignore";
}

export interface ModelServer {
    url: string;
    endpointName: string;
    /** From start to model loaded (model_fn, including its preparation and warm-up). */
    loadSeconds: number;
    pid: number;
    /** Resolves with the exit code (or signal name) whenever the process ends, expectedly or not. */
    exited: Promise<number | string>;
    /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
    stop(): Promise<number | string>;
}

export class ModelServerError extends Error {
    constructor(
        message: string,
        readonly exitCode: number | string | undefined,
    ) {
        super(message);
        this.name = "ModelServerError";
    }
}

interface ReadyLine {
    event: string;
    url: string;
    endpointName: string;
    loadSeconds: number;
}

export function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
    const args = [
        SERVE_LOCAL,
        "--model-dir",
        options.modelDir,
        "--host",
        options.host ?? "127.0.0.1",
        "--port",
        String(options.port),
        "--endpoint-name",
        options.endpointName,
        "--log-level",
        options.logLevel ?? "info",
    ];
    if (options.torchThreads !== undefined) args.push("--torch-threads", String(options.torchThreads));
    if (options.batchSize !== undefined) args.push("--batch-size", String(options.batchSize));
    if (options.maxBatchDelayMs !== undefined) args.push("--max-batch-delay-ms", String(options.maxBatchDelayMs));
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" };
    delete env.IMAGE_FETCH_ALLOW_PRIVATE;
    if (options.allowPrivateImageUrls) env.IMAGE_FETCH_ALLOW_PRIVATE = "true";
    if (options.modelPreparation !== undefined) env.INFERENCE_MODEL_PREPARATION = options.modelPreparation;

    // stderr is also read here (and passed on) so a failed start can report the server's reason.
    const child: ChildProcess = spawn(PYTHON, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | string>((resolve) => {
        child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    });
    const errorLines: string[] = [];
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
        if (options.stderr !== "ignore") process.stderr.write(chunk);
        errorLines.push(...chunk.split("\n").filter((line) => line.startsWith("serve_local: error: ")));
    });

    return new Promise<ModelServer>((resolve, reject) => {
        let settled = false;
        child.once("error", (error) => {
            settled = true;
            reject(new ModelServerError(`cannot run ${PYTHON}: ${error.message}`, undefined));
        });
        const lines = readline.createInterface({ input: child.stdout! });
        lines.once("line", (line) => {
            let ready: ReadyLine;
            try {
                ready = JSON.parse(line) as ReadyLine;
            } catch {
                settled = true;
                child.kill("SIGKILL");
                reject(new ModelServerError(`serve_local.py printed ${JSON.stringify(line.slice(0, 200))} instead of its ready line`, undefined));
                return;
            }
            settled = true;
            resolve({
                url: ready.url,
                endpointName: ready.endpointName,
                loadSeconds: ready.loadSeconds,
                pid: child.pid!,
                exited,
                stop: async () => {
                    if (child.exitCode === null && child.signalCode === null) {
                        child.kill("SIGTERM");
                        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
                        await exited;
                        clearTimeout(timer);
                    }
                    return exited;
                },
            });
        });
        void exited.then(async (code) => {
            if (settled) return;
            // The exit can overtake the last stderr chunk; let the stream finish first.
            await new Promise((done) => (child.stderr?.readableEnded ? done(undefined) : child.stderr?.once("end", done)));
            const reason = errorLines.at(-1)?.slice("serve_local: error: ".length) ?? `serve_local.py exited with ${code} before it was ready`;
            reject(new ModelServerError(reason, code));
        });
    });
}
