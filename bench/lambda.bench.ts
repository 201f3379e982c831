/**
 * The inference Lambda's benchmark: bundle size, cold start, warm latency against a loopback SageMaker Runtime
 * server and a loopback image host, next to the same work done bare (fetch the image, InvokeEndpoint with its
 * bytes, through the same SDK) and the course's boto3 handler (which passes the URL on and fetches nothing).
 *
 * Every measured client runs in its own process, and so does the server, so no client shares an event loop
 * (or a warmed cache) with the server or with another client:
 *   main            builds the bundle, starts the children, prints the table
 *   --serve         the loopback server (lambda-src/test/support), prints its URL, exits when stdin closes
 *   node -e NODE_WARM_SCRIPT   the handler from lambda-src/dist/index.js and bare SDK calls; results over IPC
 *   bench/lambda-boto3.py init | warm   the course's handler on Debian's python3-boto3
 */
import * as esbuild from "esbuild";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildLambdaBundle } from "../lambda-src/build";
import { percentile, printTable, type BenchRow } from "./table";
import { PYTHON } from "../tools/python-env/python";

const repoRoot = path.resolve(__dirname, "..");
const bundlePath = path.join(repoRoot, "lambda-src", "dist", "index.js");
const ENDPOINT_NAME = "dog-breeds-bench";
const WARMUP = 300;
const SAMPLES = 3000;
const COLD_RUNS = 15;

const IMAGE_PATH = "/dogs/beagle.jpg";

const TARGETS = {
    bundleKiB: 320,
    coldMs: 40,
    coldSpeedup: 4,
    overheadRatio: 1.1,
};

// The model's answer the loopback server gives every call: our endpoint's top-5 shape.
const MODEL_ANSWER = {
    predictions: [
        { label: "Beagle", index: 15, probability: 0.82 },
        { label: "Basset hound", index: 14, probability: 0.07 },
        { label: "American foxhound", index: 6, probability: 0.04 },
        { label: "Harrier", index: 80, probability: 0.02 },
        { label: "Bluetick coonhound", index: 27, probability: 0.01 },
    ],
};

interface WarmResults {
    handler: number[];
    bareTuned: number[];
    bareDefault: number[];
}

interface LoopbackServers {
    runtimeUrl: string;
    imageUrl: string;
}

function clientEnv(serverUrl: string): NodeJS.ProcessEnv {
    return {
        PATH: process.env.PATH,
        HOME: os.tmpdir(), // no ~/.aws files of this machine can leak into the measurement
        AWS_ACCESS_KEY_ID: "AKIALOOPBACKTEST0001",
        AWS_SECRET_ACCESS_KEY: "loopback/test/secret/key/not/a/real/one00",
        AWS_SESSION_TOKEN: "loopback-session-token",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: serverUrl,
        ENDPOINT_NAME,
        // The image host is plain http on loopback, which only local mode admits.
        ALLOW_HTTP_IMAGE_URLS: "true",
        IMAGE_FETCH_ALLOW_PRIVATE: "true",
    };
}

async function serve(): Promise<void> {
    const { replies, startSageMakerRuntimeServer } = await import("../lambda-src/test/support/sagemaker-runtime-server");
    // Signature shapes are still checked; recomputing each signature would only add the same server time to
    // every client and blur the differences being measured.
    const server = await startSageMakerRuntimeServer({ verifySignatures: false, endpoints: [ENDPOINT_NAME], responder: () => replies.ok(MODEL_ANSWER) });
    const { JPEG, startImageHost } = await import("../lambda-src/test/support/image-hosts");
    const { loopbackHostName } = await import("../tools/local/loopback-host");
    const images = await startImageHost({ [IMAGE_PATH]: { status: 200, headers: { "content-type": "image/jpeg" }, body: JPEG } });
    // A name, not an address literal: the handler resolves and checks it on every call, as it does in Lambda.
    const { name } = await loopbackHostName();
    const servers: LoopbackServers = { runtimeUrl: server.url, imageUrl: `http://${name}:${images.port}${IMAGE_PATH}` };
    process.stdout.write(JSON.stringify(servers) + "\n");
    process.stdin.resume();
    process.stdin.on("end", () => {
        if (server.rejected.length > 0) console.error(`loopback server rejected ${server.rejected.length} requests: ${server.rejected[0].message}`);
        void Promise.all([server.close(), images.close()]).then(() => process.exit(0));
    });
}

/** The same build options as the function bundle, plus what the bare calls need, into a temporary file. */
function buildBareClientBundle(): string {
    const outfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lambda-bench-")), "bare.js");
    esbuild.buildSync({
        stdin: {
            contents:
                'export { SageMakerRuntimeClient, InvokeEndpointCommand } from "@aws-sdk/client-sagemaker-runtime";\n' +
                'export { createSageMakerRuntimeClient } from "./lambda-src/src/client";\n',
            resolveDir: repoRoot,
            loader: "ts",
        },
        absWorkingDir: repoRoot,
        outfile,
        bundle: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        minify: true,
        mainFields: ["module", "main"],
        alias: { "@aws-sdk/credential-provider-node": "./lambda-src/src/lambda-credentials.ts" },
        logLevel: "warning",
    });
    return outfile;
}

/**
 * The warm run, as plain JavaScript for a plain `node` process: the bundles must load the way Lambda loads them,
 * not through tsx's require hooks (which make the source-mapped function bundle measurably slower).
 * Subjects are interleaved call by call, in a fresh random order each time, so neither a busy moment of the
 * machine (2 cores, shared) nor the position after another subject's call favours one of them.
 */
const NODE_WARM_SCRIPT = `
const [bundlePath, barePath, barePathCopy, endpointName, imageUrl, warmup, samples] = process.argv.slice(1);
const { handler } = require(bundlePath);
// One SDK copy per subject, like the handler's own inside its bundle: code shared by two subjects would run
// twice as often, stay hotter and flatter them.
const sdk = require(barePath);
const sdkCopy = require(barePathCopy);
const event = { url: imageUrl };
// The same work without the handler: fetch the image, send its bytes, parse the answer.
const bare = (lib, client) => async () => {
    const image = await fetch(imageUrl);
    if (!image.ok) throw new Error("image host answered " + image.status);
    const body = new Uint8Array(await image.arrayBuffer());
    const output = await client.send(new lib.InvokeEndpointCommand({ EndpointName: endpointName, ContentType: "image/jpeg", Accept: "application/json", Body: body }));
    JSON.parse(new TextDecoder().decode(output.Body));
};
const subjects = {
    handler: async () => {
        const response = await handler(event, { awsRequestId: "bench" });
        if (response.statusCode !== 200) throw new Error("handler answered " + response.statusCode + ": " + response.body);
    },
    bareTuned: bare(sdk, sdk.createSageMakerRuntimeClient(10000)),
    bareDefault: bare(sdkCopy, new sdkCopy.SageMakerRuntimeClient({})),
};
(async () => {
    const results = { handler: [], bareTuned: [], bareDefault: [] };
    for (const run of Object.values(subjects)) for (let i = 0; i < Number(warmup); i++) await run();
    const entries = Object.entries(subjects);
    for (let i = 0; i < Number(samples); i++) {
        entries.sort(() => Math.random() - 0.5);
        for (const [name, run] of entries) {
            const started = performance.now();
            await run();
            results[name].push(performance.now() - started);
        }
    }
    process.send(results, () => process.exit(0));
})().catch((error) => { console.error(error); process.exit(1); });
`;

function median(samples: number[]): number {
    return percentile(samples, 50);
}

function nodeColdStartMs(env: NodeJS.ProcessEnv): number[] {
    // What a Lambda init does with the bundle: load it; the handler module builds its client at import.
    const script = `const t=performance.now();require(${JSON.stringify(bundlePath)});process.stderr.write(String(performance.now()-t)+"\\n")`;
    return Array.from({ length: COLD_RUNS }, () => {
        // --no-warnings: the SDK warns once about Node 20, which Lambda's nodejs22.x never does.
        const run = spawnSync(process.execPath, ["--no-warnings", "-e", script], { env, encoding: "utf8" });
        if (run.status !== 0) throw new Error(`cold start run failed: ${run.stderr}`);
        return Number(run.stderr.trim().split("\n").pop());
    });
}

function python(args: string[], env: NodeJS.ProcessEnv): string {
    const run = spawnSync(PYTHON, [path.join(__dirname, "lambda-boto3.py"), ...args], { env, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`${PYTHON} lambda-boto3.py ${args.join(" ")} failed: ${run.stderr}`);
    return run.stderr.trim().split("\n").pop() ?? "";
}

function pythonColdStartMs(env: NodeJS.ProcessEnv): number[] {
    return Array.from({ length: COLD_RUNS }, () => Number(python(["init"], env)) * 1000);
}

async function startServer(): Promise<LoopbackServers & { child: ChildProcess }> {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, "--serve"], { stdio: ["pipe", "pipe", "inherit"] });
    const servers = await new Promise<LoopbackServers>((resolve, reject) => {
        let buffered = "";
        child.stdout?.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            if (buffered.includes("\n")) resolve(JSON.parse(buffered.split("\n")[0]) as LoopbackServers);
        });
        child.once("exit", (code) => reject(new Error(`loopback servers exited (${code}) before listening`)));
    });
    return { ...servers, child };
}

async function nodeWarmRun(env: NodeJS.ProcessEnv, imageUrl: string): Promise<WarmResults> {
    const bare = buildBareClientBundle();
    try {
        const bareCopy = path.join(path.dirname(bare), "bare-copy.js");
        fs.copyFileSync(bare, bareCopy);
        const args = [bundlePath, bare, bareCopy, ENDPOINT_NAME, imageUrl, String(WARMUP), String(SAMPLES)];
        // The handler's JSON log line per request goes to a discarded stdout, as in Lambda it goes to a pipe.
        const child = spawn(process.execPath, ["--no-warnings", "-e", NODE_WARM_SCRIPT, ...args], { env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
        return await new Promise<WarmResults>((resolve, reject) => {
            child.once("message", (message) => resolve(message as WarmResults));
            child.once("exit", (code) => reject(new Error(`node warm run exited (${code}) without results`)));
        });
    } finally {
        fs.rmSync(path.dirname(bare), { recursive: true, force: true });
    }
}

function pass(ok: boolean): string {
    return ok ? "PASS" : "MISS";
}

async function main(): Promise<void> {
    const bundle = buildLambdaBundle();
    const bundleKiB = bundle.bytes / 1024;

    const server = await startServer();
    try {
        const env = clientEnv(server.runtimeUrl);
        const nodeCold = nodeColdStartMs(env);
        const pythonCold = pythonColdStartMs(env);
        const warm = await nodeWarmRun(env, server.imageUrl);
        const boto3Warm = JSON.parse(python(["warm", String(WARMUP), String(SAMPLES)], env)) as number[];

        const coldNode = median(nodeCold);
        const coldPython = median(pythonCold);
        const p50 = { handler: median(warm.handler), bareTuned: median(warm.bareTuned), bareDefault: median(warm.bareDefault), boto3: median(boto3Warm) };
        const p99 = (samples: number[]) => percentile(samples, 99);
        const overhead = p50.handler / p50.bareTuned;

        const rows: BenchRow[] = [
            { measure: "bundle size (minified)", value: `${bundleKiB.toFixed(1)} KiB`, target: `<= ${TARGETS.bundleKiB} KiB`, result: pass(bundleKiB <= TARGETS.bundleKiB) },
            { measure: `cold: load bundle + build client (node, median of ${COLD_RUNS})`, value: `${coldNode.toFixed(1)} ms`, target: `<= ${TARGETS.coldMs} ms`, result: pass(coldNode <= TARGETS.coldMs) },
            { measure: `cold: import boto3 + client (python, median of ${COLD_RUNS})`, value: `${coldPython.toFixed(1)} ms`, target: "reference", result: "" },
            { measure: "cold: boto3 / node", value: `${(coldPython / coldNode).toFixed(1)}x`, target: `>= ${TARGETS.coldSpeedup}x`, result: pass(coldPython / coldNode >= TARGETS.coldSpeedup) },
            { measure: "warm p50 / p99: handler (bundle): checked fetch + InvokeEndpoint", value: `${p50.handler.toFixed(3)} / ${p99(warm.handler).toFixed(3)} ms`, target: "", result: "" },
            { measure: "warm p50 / p99: bare fetch + InvokeEndpoint, handler's client", value: `${p50.bareTuned.toFixed(3)} / ${p99(warm.bareTuned).toFixed(3)} ms`, target: "reference", result: "" },
            { measure: "warm p50 / p99: bare fetch + InvokeEndpoint, SDK default client", value: `${p50.bareDefault.toFixed(3)} / ${p99(warm.bareDefault).toFixed(3)} ms`, target: "reference", result: "" },
            { measure: "warm p50 / p99: course handler (boto3), passes the URL on, fetches nothing", value: `${p50.boto3.toFixed(3)} / ${p99(boto3Warm).toFixed(3)} ms`, target: "reference", result: "" },
            { measure: "handler overhead: handler p50 / bare p50", value: `${overhead.toFixed(3)}`, target: `<= ${TARGETS.overheadRatio}`, result: pass(overhead <= TARGETS.overheadRatio) },
        ];
        printTable(`Inference Lambda vs bare fetch + SDK vs course boto3 handler (loopback runtime server and image host, ${SAMPLES} warm calls each, node ${process.version})`, rows);
    } finally {
        server.child.stdin?.end();
        await new Promise((resolve) => server.child.once("exit", resolve));
    }
}

const mode = process.argv[2];
const run = mode === "--serve" ? serve : main;
run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
