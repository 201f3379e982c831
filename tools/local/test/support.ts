/**
 * Shared by the local-mode tests and bench/local.bench.ts: a tiny model trained once per process by the real
 * train.py, and a loopback image host the model can fetch from.
 */
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
