/**
 * Shared by the local-mode tests and bench/local.bench.ts: a tiny model trained once per process by the real
 * train.py, and a loopback image host the model can fetch from.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { trainDemoModel, type DemoModel } from "../demo-model";
import { loopbackHostName } from "../loopback-host";

export { loopbackHostName };


export type TinyModel = DemoModel;

let trained: Promise<TinyModel> | undefined;

/** Trains tiny-cnn on generated colour squares with train.py (the demo model), once per process. */
export function trainTinyModel(): Promise<TinyModel> {
    trained ??= (async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "local-tiny-"));
        process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
        return trainDemoModel(root);
    })();
    return trained;
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

/** A started `npm run local`: its output so far and its exit. */
export interface Run {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exit: Promise<number | null>;
}

/** Collects the output of `child`, spawned with piped stdout and stderr. */
export function watch(child: ChildProcess): Run {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Waits (up to 4 minutes: a demo model is trained first) for the banner's last line. */
export async function waitForBanner(run: Run): Promise<void> {
    for (let i = 0; i < 2400 && !run.stdout().includes("Ctrl-C stops all servers."); i++) {
        if (run.child.exitCode !== null) throw new Error(`the CLI exited ${run.child.exitCode}: ${run.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!run.stdout().includes("Ctrl-C stops all servers.")) throw new Error(`no banner: ${run.stdout()}\n${run.stderr()}`);
}

/** Whether nothing listens at `url` any more. */
export function refusesConnections(url: string): Promise<boolean> {
    return fetch(`${url}/ping`).then(() => false, (error: { cause?: { code?: string } }) => error.cause?.code === "ECONNREFUSED");
}
