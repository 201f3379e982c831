/**
 * Shared by the local-mode tests and bench/local.bench.ts: a tiny model trained once per process by the real
 * train.py, and a loopback image host the model can fetch from.
 */
import { execFile } from "node:child_process";
import * as dns from "node:dns/promises";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { PYTHON } from "../../python-env/python";

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, "..", "..", "..");

export interface TinyModel {
    modelDir: string;
    /** One held-out PNG per class: red.png, green.png, blue.png. */
    samplesDir: string;
    labels: string[];
}

let trained: Promise<TinyModel> | undefined;

/** Trains tiny-cnn on generated colour squares with train.py, as SageMaker script mode runs it; once per process. */
export function trainTinyModel(): Promise<TinyModel> {
    trained ??= (async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-tiny-"));
        process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
        const dataDir = path.join(root, "data");
        const samplesDir = path.join(root, "samples");
        const modelDir = path.join(root, "model");
        await run(PYTHON, [path.join(__dirname, "fixtures", "make_images.py"), dataDir, samplesDir], { timeout: 60_000 });
        await run(
            PYTHON,
            ["train.py", "--epochs", "3", "--lr", "0.01", "--batch-size", "8", "--model-name", "tiny-cnn", "--pretrained", "false", "--image-size", "32", "--num-workers", "0"],
            {
                cwd: path.join(repoRoot, "training-scripts"),
                env: { ...process.env, SM_CHANNEL_TRAINING: dataDir, SM_MODEL_DIR: modelDir, SM_OUTPUT_DATA_DIR: path.join(root, "output"), PYTHONDONTWRITEBYTECODE: "1" },
                timeout: 120_000,
            },
        );
        return { modelDir, samplesDir, labels: ["red", "green", "blue"] };
    })();
    return trained;
}

function isLoopback(address: string): boolean {
    return address === "::1" || /^127\./.test(address);
}

/**
 * A host name that resolves to a loopback address without being "localhost": both the handler and the model,
 * opted in with IMAGE_FETCH_ALLOW_PRIVATE, resolve the name and accept the loopback address, so the test exercises
 * the DNS path of both checks. The machine's own host name
 * usually qualifies (/etc/hosts), and Debian's ip6-localhost does.
 */
export async function loopbackHostName(): Promise<{ name: string; address: string }> {
    for (const name of [os.hostname(), "ip6-localhost", "ip6-loopback"]) {
        try {
            const addresses = await dns.lookup(name, { all: true });
            if (addresses.length > 0 && addresses.every((entry) => isLoopback(entry.address))) return { name, address: addresses[0].address };
        } catch {
            // not resolvable here; try the next candidate
        }
    }
    throw new Error(`neither ${os.hostname()} nor ip6-localhost resolves to a loopback address on this machine; the local end-to-end tests need one`);
}

export interface ImageHost {
    /** http://<loopback host name>:<port> */
    url: string;
    /** A URL on the same host where nothing listens. */
    unreachableUrl: string;
    close(): Promise<void>;
}

async function freePort(address: string): Promise<number> {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, address, resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
}

/** Over inference.py's MAX_IMAGE_BYTES (10 MiB). */
const HUGE_IMAGE_BYTES = 11 * 1024 * 1024;

/** Serves /<label>.png from samplesDir, /page.html (a 200 that is not an image) and /huge.png (too large). */
export async function startImageHost(samplesDir: string): Promise<ImageHost> {
    const { name, address } = await loopbackHostName();
    const files = new Map(fs.readdirSync(samplesDir).map((file) => [`/${file}`, fs.readFileSync(path.join(samplesDir, file))]));
    const server = http.createServer((req, res) => {
        const body = files.get(req.url ?? "");
        if (body) {
            res.writeHead(200, { "Content-Type": "image/png", "Content-Length": body.length });
            res.end(body);
        } else if (req.url === "/huge.png") {
            res.writeHead(200, { "Content-Type": "image/png", "Content-Length": HUGE_IMAGE_BYTES });
            res.end(Buffer.alloc(HUGE_IMAGE_BYTES));
        } else if (req.url === "/page.html") {
            res.writeHead(200, { "Content-Type": "text/html" });
            res.end("<html><body>not an image</body></html>");
        } else {
            res.writeHead(404, { "Content-Type": "text/plain" });
            res.end("not found");
        }
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    const { port } = server.address() as AddressInfo;
    const closedPort = await freePort(address);
    // The name, never the address literal: the handler must accept the URL.
    return {
        url: `http://${name}:${port}`,
        unreachableUrl: `http://${name}:${closedPort}/red.png`,
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
