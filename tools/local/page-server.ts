/**
 * The try-it page of local mode: GET / is the page, POST /api forwards the page's request to the Lambda front
 * unchanged (the same API a client calls), GET /info says which model is served. A dropped file is hosted here for
 * the moment (POST /uploads, then GET /uploads/<id>) so the request to the API stays `{"url"}`: the handler
 * fetches it like any image, which needs local images allowed (`--allow-local-images`, on for the demo model).
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { loopbackHostName } from "./loopback-host";

const PAGE = path.join(__dirname, "page", "index.html");
/** Within the image fetch's size limit; a larger drop is refused here with the API's status. */
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const MAX_UPLOADS = 20;
const IMAGE_TYPES = new Set(["image/jpeg", "image/png"]);

export interface PageInfo {
    demo: boolean;
    description: string;
    labels: string[];
}

export interface PageServer {
    url: string;
    close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": data.length });
    res.end(data);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= limit) chunks.push(chunk);
        });
        req.on("end", () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
        req.on("error", reject);
    });
}

/** Listens on this machine's loopback host name (loopback-host.ts), which the page's upload URLs use too. */
export async function startPageServer(options: { frontUrl: string; info: PageInfo; port: number }): Promise<PageServer> {
    const host = await loopbackHostName();
    const page = fs.readFileSync(PAGE);
    const uploads = new Map<string, { type: string; body: Buffer }>();
    let base = "";
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://page");
        void (async () => {
            if (req.method === "GET" && url.pathname === "/") {
                res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": page.length });
                return res.end(page);
            }
            if (req.method === "GET" && url.pathname === "/info") return json(res, 200, options.info);
            if (req.method === "POST" && url.pathname === "/api") {
                const body = await readBody(req, MAX_UPLOAD_BYTES);
                const response = await fetch(`${options.frontUrl}/`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
                const answer = Buffer.from(await response.arrayBuffer());
                res.writeHead(response.status, { "Content-Type": response.headers.get("content-type") ?? "application/json", "Content-Length": answer.length });
                return res.end(answer);
            }
            if (req.method === "POST" && url.pathname === "/uploads") {
                const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
                if (!IMAGE_TYPES.has(type)) return json(res, 415, { error: { code: "UnsupportedMediaType", message: `drop a JPEG or PNG, not ${type || "an untyped file"}` } });
                const body = await readBody(req, MAX_UPLOAD_BYTES);
                if (!body) return json(res, 413, { error: { code: "PayloadTooLarge", message: `the file is over ${MAX_UPLOAD_BYTES} bytes` } });
                const id = `${randomUUID()}.${type === "image/png" ? "png" : "jpg"}`;
                uploads.set(id, { type, body });
                // Only the latest few stay: this is a page to try the model, not a file store.
                while (uploads.size > MAX_UPLOADS) uploads.delete(uploads.keys().next().value!);
                return json(res, 201, { url: `${base}/uploads/${id}` });
            }
            const upload = req.method === "GET" && url.pathname.startsWith("/uploads/") ? uploads.get(url.pathname.slice("/uploads/".length)) : undefined;
            if (upload) {
                res.writeHead(200, { "Content-Type": upload.type, "Content-Length": upload.body.length });
                return res.end(upload.body);
            }
            json(res, 404, { error: { code: "NotFound", message: `no ${req.method} ${url.pathname} here` } });
        })().catch((error: unknown) => {
            if (!res.headersSent) json(res, 502, { error: { code: "FrontUnavailable", message: `the local API did not answer: ${(error as Error).message}` } });
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, host.address, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    base = `http://${host.name}:${port}`;
    return {
        url: base,
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
