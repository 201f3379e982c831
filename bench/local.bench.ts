/**
 * Local mode end to end: latency and throughput at 1, 4 and 16 concurrent clients for (a) the local endpoint
 * alone (POST /invocations with an image URL, as the runtime calls the container) and (b) the bundled handler
 * plus the endpoint (POST to the Function URL front). Then ResNet-50 at 224x224 on CPU, side by side in one run:
 * images/s at batch 1 of the prepared model (inference.py's model_fn) against the bare eager nn.Module; the time
 * per image in fetch, decode and preprocess as a share of the forward pass; images/s and p99 through the real
 * TorchServe (the SageMaker PyTorch toolkit's start path) at 1, 4 and 16 clients with the stock handler and with the
 * project's handler (batch 1 and batched), against the stock handler serving the bare eager model; and the cold start
 * of a worker (process start to every worker ready).
 *
 * The servers run as `npm run local` runs them (the CLI in its own process, TorchServe in others), so the
 * clients here share no event loop with them. The model is the tiny one the tests train: the concurrency table
 * measures what surrounds the model, not the model.
 */
import * as http from "node:http";
import * as os from "node:os";
import { startModelServer } from "../tools/local/model-server";
import { startImageHost, trainTinyModel } from "../tools/local/test/support";
import { closedLoop, resnetFixture, runResnetScript, startLocalCli, type LoadResult } from "./load";
import { formatNumber, percentile, printTable, type BenchRow } from "./table";

const CONCURRENCY = [1, 4, 16];
const REQUESTS = 200;
const WARMUP = 20;
const RESNET_IMAGES = 12;
const RESNET_ROUNDS = 5;
const LOAD_CLIENTS = [1, 4, 16];
const LOAD_REQUESTS = 48;
const LOAD_ROUNDS = 2;
const BATCH = { size: 4, delayMs: 50 };

const TARGETS = {
    // Endpoint alone, one client: fetch + decode + a tiny forward pass over loopback.
    endpointP50Ms: 15,
    // What the handler, the SDK and the front add to the endpoint, at the median, one client.
    handlerOverheadP50Ms: 5,
    // With 16 clients the two cores should be kept busy: at least this many requests a second through (b).
    throughput16: 100,
    // ResNet-50 at batch 1: the prepared model against the bare eager nn.Module, same threads and inputs.
    preparedSpeedup: 1.25,
    // Served under load with batching, against bare eager batch 1.
    batchedSpeedup: 1.5,
    // Fetch + decode + preprocess, as a share of the (prepared) forward pass.
    aroundForwardShare: 0.1,
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

async function concurrencyTable(): Promise<void> {
    const model = await trainTinyModel();
    const images = await startImageHost(model.samplesDir);
    const local = await startLocalCli(model.modelDir);
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

interface SplitResult {
    threads: number;
    images: number;
    rounds: number;
    imageBytes: number;
    preparation: { method: string; fallbackReason: string | null; prepareSeconds: number; warmupSeconds: number };
    coldStart: { modelFnSeconds: number; eagerLoadSeconds: number; firstPredictionMs: number };
    /** Forward passes alone, by model and batch size. */
    imagesPerSecond: Record<"eager" | "prepared", Record<string, number>>;
    loadAverage: { start: number; end: number };
    stagesMs: Record<"fetch" | "decode" | "preprocess" | "forward", { median: number; best: number }>;
}

/** The 1-minute load average, the figure every table's title carries: on a shared machine it says how far to trust it. */
const loadNow = () => formatNumber(os.loadavg()[0]);

async function resnetTables(): Promise<void> {
    const fixture = await resnetFixture(RESNET_IMAGES);
    try {
        const split = await runResnetScript<SplitResult>(["split", fixture.modelDir, fixture.images.url, String(RESNET_IMAGES), String(RESNET_ROUNDS)]);
        const { eager, prepared } = split.imagesPerSecond;
        const eager1 = eager["1"];
        const forwardRows: BenchRow[] = [];
        for (const [model, rates] of [["bare eager nn.Module", eager], [`prepared (${split.preparation.method}${split.preparation.fallbackReason ? `: ${split.preparation.fallbackReason}` : ""})`, prepared]] as const) {
            for (const [batch, rate] of Object.entries(rates)) {
                const row: BenchRow = { model, batch: Number(batch), "images/s": rate, "ms/image": 1000 / rate, "x bare eager batch 1": rate / eager1 };
                if (rates === prepared && batch === "1") Object.assign(row, { target: `>= ${TARGETS.preparedSpeedup}x`, result: verdict(rate / eager1 >= TARGETS.preparedSpeedup) });
                forwardRows.push(row);
            }
        }
        printTable(`ResNet-50 224x224 forward passes alone, in one process, ${split.threads} torch threads, the same ${split.images} images, best of ${split.rounds} alternating rounds (load average ${formatNumber(split.loadAverage.start)} -> ${formatNumber(split.loadAverage.end)})`, forwardRows);
        const ceiling = Math.max(...Object.values(prepared)) / eager1;
        console.log(`the forward pass alone bounds what batching can reach: best prepared batch ${formatNumber(ceiling)}x bare eager batch 1 (target ${TARGETS.batchedSpeedup}x through the server)`);

        const stages = split.stagesMs;
        const around = (pick: "median" | "best") => stages.fetch[pick] + stages.decode[pick] + stages.preprocess[pick];
        const share = around("median") / stages.forward.median;
        const row = (stage: string, ms: { median: number; best: number }) => ({
            stage, "median ms": ms.median, "best ms": ms.best, "median x forward": ms.median / stages.forward.median,
        });
        printTable(`inference.py per image, prepared ResNet-50, ${split.images} images (500x375 JPEG, ${Math.round(split.imageBytes / 1024)} KB) from a loopback host in another process`, [
            row("fetch (loopback http)", stages.fetch),
            row("decode", stages.decode),
            row("preprocess (resize, normalise)", stages.preprocess),
            row("model forward (prepared)", stages.forward),
            {
                ...row("fetch + decode + preprocess", { median: around("median"), best: around("best") }),
                target: `<= ${TARGETS.aroundForwardShare} x forward`, result: verdict(share <= TARGETS.aroundForwardShare),
            },
        ]);

        const endpointRows: BenchRow[] = [];
        // Servers side by side, one TorchServe worker each (all the cores' torch threads), measured in alternating
        // rounds so that all see the same machine; each configuration's best round counts, its p99 is its worst.
        const worker = { workers: 1, allowPrivateImageUrls: true };
        const configurations = [
            { name: "stock handler, bare eager", options: { ...worker, handler: "stock" as const, modelPreparation: "eager" as const } },
            { name: "stock handler, prepared", options: { ...worker, handler: "stock" as const } },
            { name: "project handler, prepared, batch 1", options: { ...worker } },
            { name: `project handler, prepared, batch ${BATCH.size} (${BATCH.delayMs} ms)`, options: { ...worker, batchSize: BATCH.size, maxBatchDelayMs: BATCH.delayMs } },
        ];
        const coldRows: BenchRow[] = [];
        const servers = [];
        const loadAtStart = loadNow();
        try {
            for (const { name, options } of configurations) {
                const server = await startModelServer({ modelDir: fixture.modelDir, port: 0, ...options });
                servers.push(server);
                const firstStarted = performance.now();
                const first = await closedLoop(`${server.url}/invocations`, fixture.bodies.slice(0, 1), 1, 1, 0);
                coldRows.push({ server: name, "process start to ready s": server.readySeconds, "first request ms": performance.now() - firstStarted, ok: first.ok });
            }
            for (const clients of LOAD_CLIENTS) {
                const rounds = configurations.map(() => [] as LoadResult[]);
                for (let round = 0; round < LOAD_ROUNDS; round++) {
                    for (const [i, server] of servers.entries()) rounds[i].push(await closedLoop(`${server.url}/invocations`, fixture.bodies, clients, LOAD_REQUESTS));
                }
                const best = rounds.map((results) => results.reduce((a, b) => (b.rps > a.rps ? b : a)));
                const baseline = best[0].rps;
                for (const [i, { name, options }] of configurations.entries()) {
                    const all = rounds[i];
                    const failed = all.reduce((sum, r) => sum + r.failed, 0);
                    const ratio = best[i].rps / baseline;
                    endpointRows.push({
                        server: name, clients, requests: all.reduce((sum, r) => sum + r.sent, 0), failed,
                        "images/s (best round)": best[i].rps, "x stock bare eager": ratio,
                        "p50 ms": Math.max(...all.map((r) => r.p50)), "p99 ms": Math.max(...all.map((r) => r.p99)),
                        ...("batchSize" in options && clients > 1 ? { target: `>= ${TARGETS.batchedSpeedup}x`, result: verdict(ratio >= TARGETS.batchedSpeedup && failed === 0) } : {}),
                    });
                }
            }
        } finally {
            for (const server of servers) await server.stop();
        }
        printTable(`ResNet-50 through TorchServe 0.12 (sagemaker-pytorch-inference 2.0.25), one worker, image URLs on a loopback host, best of ${LOAD_ROUNDS} alternating rounds; p50/p99: worst round (load average ${loadAtStart} -> ${loadNow()})`, endpointRows);
        printTable(`cold start of a serving worker (ResNet-50; load average ${loadAtStart} at the servers' start, ${formatNumber(split.loadAverage.start)} in process)`, [
            ...coldRows,
            { server: "in process: model_fn", "process start to ready s": split.coldStart.modelFnSeconds, "first request ms": split.coldStart.firstPredictionMs },
            { server: "in process: of which preparation / warm-up", "process start to ready s": `${formatNumber(split.preparation.prepareSeconds)} / ${formatNumber(split.preparation.warmupSeconds)}` },
            { server: "in process: bare eager load, no preparation", "process start to ready s": split.coldStart.eagerLoadSeconds },
        ]);
    } finally {
        await fixture.close();
    }
}

async function main(): Promise<void> {
    await concurrencyTable();
    await resnetTables();
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    },
);
