/**
 * Load against a local endpoint, and the ResNet-50 model directory the model benchmarks serve: shared by
 * bench/local.bench.ts (batching against bare eager) and bench/sizing.bench.ts (rising load).
 *
 * Two shapes of load: a closed loop (N clients, each sending its next request when the last is answered: the
 * most a server does with N requests outstanding) and an open loop (requests sent on a fixed schedule whether
 * or not earlier ones were answered, as independent callers do; latency counts from the scheduled send, so a
 * server that falls behind shows it instead of slowing the load down).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { PYTHON } from "../tools/python-env/python";
import { startImageHost, type ImageHost } from "../tools/local/test/support";
import { percentile } from "./table";

export const RESNET_SCRIPT = path.join(__dirname, "local-resnet.py");

export interface LoadResult {
    sent: number;
    ok: number;
    failed: number;
    seconds: number;
    /** Answered requests per second. */
    rps: number;
    p50: number;
    p99: number;
}

function post(agent: http.Agent, url: string, body: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
        const req = http.request(url, { method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode === 200));
        });
        req.on("error", () => resolve(false));
        req.end(body);
    });
}

function summarise(latencies: number[], sent: number, failed: number, seconds: number): LoadResult {
    const ok = latencies.length;
    return {
        sent, ok, failed, seconds, rps: ok / seconds,
        p50: ok ? percentile(latencies, 50) : NaN,
        p99: ok ? percentile(latencies, 99) : NaN,
    };
}

/** `clients` clients, each sending `bodies` round-robin, until `requests` have been sent. */
export async function closedLoop(url: string, bodies: string[], clients: number, requests: number, warmup = clients): Promise<LoadResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    await Promise.all(Array.from({ length: warmup }, (_, i) => post(agent, url, bodies[i % bodies.length])));
    const latencies: number[] = [];
    let next = 0;
    let failed = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
        while (next < requests) {
            const body = bodies[next++ % bodies.length];
            const sent = performance.now();
            if (await post(agent, url, body)) latencies.push(performance.now() - sent);
            else failed++;
        }
    }));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return summarise(latencies, requests, failed, seconds);
}

/** `rate` requests a second for `durationSeconds`, on schedule; the result's seconds run until the last answer. */
export async function openLoop(url: string, bodies: string[], rate: number, durationSeconds: number): Promise<LoadResult> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const total = Math.max(1, Math.round(rate * durationSeconds));
    const latencies: number[] = [];
    let failed = 0;
    const started = performance.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        inFlight.push(post(agent, url, bodies[i % bodies.length]).then((ok) => {
            if (ok) latencies.push(performance.now() - due);
            else failed++;
        }));
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return summarise(latencies, total, failed, seconds);
}

/**
 * Runs bench/local-resnet.py and parses the JSON it prints. Asynchronously: the image host it fetches from
 * runs on this process's event loop.
 */
export function runResnetScript<T>(args: string[]): Promise<T> {
    const child = spawn(PYTHON, [RESNET_SCRIPT, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    return new Promise<T>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code, signal) => {
            if (code === 0) resolve(JSON.parse(out) as T);
            else reject(new Error(`local-resnet.py ${args[0]} failed (exit ${code ?? signal})`));
        });
    });
}

export interface ResnetFixture {
    modelDir: string;
    images: ImageHost;
    /** Request bodies, one per image: `{"url": ...}` on the loopback image host. */
    bodies: string[];
    close(): Promise<void>;
}

/** A course-style ResNet-50 model directory (untrained weights) and photo-like JPEGs on a loopback host. */
export async function resnetFixture(imageCount: number): Promise<ResnetFixture> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-resnet-"));
    const modelDir = path.join(root, "model");
    const imagesDir = path.join(root, "images");
    const { images: names } = await runResnetScript<{ images: string[] }>(["model-dir", modelDir, imagesDir, String(imageCount)]);
    const images = await startImageHost(imagesDir);
    return {
        modelDir,
        images,
        bodies: names.map((name) => JSON.stringify({ url: `${images.url}/${name}` })),
        close: async () => {
            await images.close();
            fs.rmSync(root, { recursive: true, force: true });
        },
    };
}

/** `npm run local` as a user runs it, in its own process (so clients here share no event loop with it). */
export async function startLocalCli(modelDir: string, extraArgs: string[] = []): Promise<{ modelServer: string; front: string; stop: () => Promise<void> }> {
    const cli = path.join(__dirname, "..", "tools", "local", "cli.ts");
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--model-dir", modelDir, "--port", "0", "--runtime-port", "0", "--page-port", "0", "--lambda-port", "0", "--allow-local-images", "--quiet", ...extraArgs], {
        // The handler's per-request log lines would only cost the front stdout writes into a full pipe.
        stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`npm run local exited ${code}`)));
        child.stdout!.on("data", (chunk: Buffer) => {
            out += chunk;
            if (out.includes("Ctrl-C stops all servers.")) resolve();
        });
    });
    child.removeAllListeners("exit");
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
        modelServer: /model server: +(\S+)/.exec(out)![1],
        front: /lambda front: +(\S+)/.exec(out)![1],
        stop: async () => {
            child.kill("SIGINT");
            await exited;
        },
    };
}
