/**
 * Local mode end to end: latency and throughput at 1, 4 and 16 concurrent clients for (a) the local endpoint
 * alone (POST /invocations with an image URL, as the runtime calls the container) and (b) the bundled handler
 * plus the endpoint (POST to the Function URL front); then inference.py alone on ResNet-50 at 224x224 on CPU,
 * time per image split into fetch, decode + preprocess and forward, as a ratio of the bare forward pass.
 *
 * The servers run as `npm run local` runs them (the CLI in its own process, serve_local.py in another), so the
 * clients here share no event loop with them. The model is the tiny one the tests train: the concurrency table
 * measures what surrounds the model, not the model.
 */
import { spawn, spawnSync } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { PYTHON } from "../tools/local/model-server";
import { startImageHost, trainTinyModel } from "../tools/local/test/support";
import { percentile, printTable, type BenchRow } from "./table";

const CONCURRENCY = [1, 4, 16];
const REQUESTS = 200;
const WARMUP = 20;
const RESNET_IMAGES = 20;
const RESNET_WARMUP = 3;

const TARGETS = {
    // Endpoint alone, one client: fetch + decode + a tiny forward pass over loopback.
    endpointP50Ms: 15,
    // What the handler, the SDK and the front add to the endpoint, at the median, one client.
    handlerOverheadP50Ms: 5,
    // With 16 clients the two cores should be kept busy: at least this many requests a second through (b).
    throughput16: 100,
    // Around a real model, everything but the forward pass should be small.
    resnetOverheadRatio: 0.25,
};

const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

async function post(agent: http.Agent, url: string, body: string): Promise<number> {
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(url, { method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end(body);
    });
    if (status !== 200) throw new Error(`${url} answered ${status}`);
    return performance.now() - started;
}

async function load(url: string, body: string, clients: number): Promise<{ latencies: number[]; rps: number }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    for (let i = 0; i < WARMUP; i++) await post(agent, url, body);
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
        Array.from({ length: clients }, async () => {
            while (next < REQUESTS) {
                next++;
                latencies.push(await post(agent, url, body));
            }
        }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return { latencies, rps: REQUESTS / seconds };
}

async function startCli(modelDir: string): Promise<{ modelServer: string; front: string; stop: () => Promise<void> }> {
    const cli = path.join(__dirname, "..", "tools", "local", "cli.ts");
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--model-dir", modelDir, "--port", "0", "--lambda-port", "0", "--allow-local-images", "--quiet"], {
        // The handler's per-request log lines would only cost the front stdout writes into a full pipe.
        stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`npm run local exited ${code}`)));
        child.stdout!.on("data", (chunk: Buffer) => {
            out += chunk;
            if (out.includes("Ctrl-C stops both servers.")) resolve();
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

async function concurrencyTable(): Promise<void> {
    const model = await trainTinyModel();
    const images = await startImageHost(model.samplesDir);
    const local = await startCli(model.modelDir);
    const body = JSON.stringify({ url: `${images.url}/red.png`, topK: 3 });
    const rows: BenchRow[] = [];
    const p50s: Record<string, number> = {};
    try {
        for (const clients of CONCURRENCY) {
            for (const [name, url] of [
                ["(a) endpoint", `${local.modelServer}/invocations`],
                ["(b) handler + endpoint", `${local.front}/`],
            ] as const) {
                const { latencies, rps } = await load(url, body, clients);
                const p50 = percentile(latencies, 50);
                const row: BenchRow = { path: name, clients, "p50 ms": p50, "p99 ms": percentile(latencies, 99), "req/s": rps, target: "", result: "" };
                if (name.startsWith("(a)") && clients === 1) Object.assign(row, { target: `p50 <= ${TARGETS.endpointP50Ms} ms`, result: verdict(p50 <= TARGETS.endpointP50Ms) });
                if (name.startsWith("(b)") && clients === 16) Object.assign(row, { target: `>= ${TARGETS.throughput16} req/s`, result: verdict(rps >= TARGETS.throughput16) });
                rows.push(row);
            }
        }
        // Paired, one client: (a) then (b) back to back, so both see the same machine; the median of the
        // differences is the handler's cost, robust to other load on the cores.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const differences: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
            const endpoint = await post(agent, `${local.modelServer}/invocations`, body);
            differences.push((await post(agent, `${local.front}/`, body)) - endpoint);
        }
        agent.destroy();
        p50s.overhead = percentile(differences, 50);
    } finally {
        await local.stop();
        await images.close();
    }
    const overhead = p50s.overhead;
    rows.push({
        path: "(b) - (a), handler overhead, paired",
        clients: 1,
        "p50 ms": overhead,
        target: `<= ${TARGETS.handlerOverheadP50Ms} ms`,
        result: verdict(overhead <= TARGETS.handlerOverheadP50Ms),
    });
    printTable(`local mode, tiny-cnn, ${REQUESTS} requests per level (image fetched from a loopback host each time)`, rows);
}

interface ResnetResult {
    images: number;
    threads: number;
    medianMs: { fetch: number; decode: number; preprocess: number; forward: number };
}

function resnetSplit(): void {
    const result = spawnSync(PYTHON, [path.join(__dirname, "local-resnet.py"), String(RESNET_IMAGES), String(RESNET_WARMUP)], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 300_000,
    });
    if (result.status !== 0) throw new Error(`local-resnet.py failed (exit ${result.status ?? result.signal})`);
    const { medianMs, threads, images } = JSON.parse(result.stdout) as ResnetResult;
    const forward = medianMs.forward;
    const around = medianMs.fetch + medianMs.decode + medianMs.preprocess;
    const ratio = (ms: number) => ms / forward;
    printTable(`inference.py alone, ResNet-50 224x224 on CPU (${threads} torch threads), median of ${images} images (500x375 JPEG)`, [
        { stage: "fetch (loopback http)", "ms/image": medianMs.fetch, "x forward": ratio(medianMs.fetch) },
        { stage: "decode", "ms/image": medianMs.decode, "x forward": ratio(medianMs.decode) },
        { stage: "preprocess (resize, normalise)", "ms/image": medianMs.preprocess, "x forward": ratio(medianMs.preprocess) },
        { stage: "model forward", "ms/image": forward, "x forward": 1 },
        {
            stage: "everything around the forward pass",
            "ms/image": around,
            "x forward": ratio(around),
            target: `<= ${TARGETS.resnetOverheadRatio} x forward`,
            result: verdict(ratio(around) <= TARGETS.resnetOverheadRatio),
        },
    ]);
}

async function main(): Promise<void> {
    await concurrencyTable();
    resnetSplit();
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    },
);
