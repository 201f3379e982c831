/**
 * Image hosts on loopback for the fetcher's tests: an HTTP(S) server answering from a route table (recording each
 * request's Host header), a raw TCP server that dribbles its answer a byte at a time, a self-signed certificate
 * for the name "localhost" only (made with the openssl CLI), and a watch on every client socket the process opens.
 */
import { execFileSync } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { deflateSync } from "node:zlib";
import type { FetchedImage, ImageFetcher } from "../../src/image-fetch";

/** A small valid JPEG (1x1) and PNG (1x1): what the fetcher must recognise by content. */
export const JPEG = Buffer.from(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==",
    "base64",
);

export function png(width = 1, height = 1): Buffer {
    const chunk = (type: string, data: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(data.length);
        const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(body));
        return Buffer.concat([length, body, crc]);
    };
    const header = Buffer.alloc(13);
    header.writeUInt32BE(width, 0);
    header.writeUInt32BE(height, 4);
    header.set([8, 2, 0, 0, 0], 8);
    const rows = Buffer.alloc(height * (1 + width * 3));
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

function crc32(data: Buffer): number {
    let crc = 0xffffffff;
    for (const byte of data) {
        crc ^= byte;
        for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return (crc ^ 0xffffffff) >>> 0;
}

export interface Route {
    status: number;
    headers?: Record<string, string>;
    body?: Buffer | string;
    /** Wait this long before answering. */
    delayMs?: number;
}

export interface ImageHost {
    /** http(s)://127.0.0.1:<port> */
    url: string;
    port: number;
    /** The Host header of every request served, in order. */
    hosts: string[];
    close(): Promise<void>;
}

function serve(server: http.Server | https.Server, scheme: string, routes: Record<string, Route | (() => Route)>, hosts: string[]): Promise<ImageHost> {
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
        hosts.push(req.headers.host ?? "");
        const entry = routes[(req.url ?? "/").split("?")[0]];
        const route = typeof entry === "function" ? entry() : (entry ?? { status: 404, body: "not found" });
        const answer = () => {
            res.writeHead(route.status, route.headers ?? {});
            res.end(route.body ?? "");
        };
        if (route.delayMs) setTimeout(answer, route.delayMs);
        else answer();
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                url: `${scheme}://127.0.0.1:${port}`,
                port,
                hosts,
                close: () =>
                    new Promise<void>((done) => {
                        server.close(() => done());
                        server.closeAllConnections();
                    }),
            });
        });
    });
}

export function startImageHost(routes: Record<string, Route | (() => Route)>): Promise<ImageHost> {
    return serve(http.createServer(), "http", routes, []);
}

export function startTlsImageHost(routes: Record<string, Route | (() => Route)>, tls: TlsFiles): Promise<ImageHost> {
    return serve(https.createServer({ cert: tls.cert, key: tls.key }), "https", routes, []);
}

export interface TlsFiles {
    cert: string;
    key: string;
}

/** A self-signed certificate naming "localhost" (and no IP address), valid for a day. */
export function localhostCertificate(): TlsFiles {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-host-tls-"));
    try {
        const [cert, key] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert,
        ], { stdio: "pipe" });
        return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export const DRIBBLE_INTERVAL_MS = 100;

/**
 * A raw TCP server answering each connection with `prefix` at once, then `dribble` a byte every
 * DRIBBLE_INTERVAL_MS: every byte arrives well within any per-read timeout, so only a deadline on the whole
 * fetch stops it.
 */
export function startDribblingHost(prefix: Buffer, dribble: Buffer): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.once("data", () => {
            socket.write(prefix);
            let sent = 0;
            const timer = setInterval(() => {
                if (sent >= dribble.length || socket.destroyed) return clearInterval(timer);
                socket.write(dribble.subarray(sent, ++sent));
            }, DRIBBLE_INTERVAL_MS);
            socket.once("close", () => clearInterval(timer));
        });
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () =>
            resolve({
                port: (server.address() as net.AddressInfo).port,
                close: () =>
                    new Promise<void>((done) => {
                        for (const socket of sockets) socket.destroy();
                        server.close(() => done());
                    }),
            }),
        );
    });
}

/** Counts the client sockets this process opens while `run` runs (node's net.client.socket channel). */
export async function socketsOpenedDuring<T>(run: () => Promise<T>): Promise<{ result: T; sockets: number }> {
    let sockets = 0;
    const onSocket = () => sockets++;
    subscribe("net.client.socket", onSocket);
    try {
        const result = await run();
        return { result, sockets };
    } finally {
        unsubscribe("net.client.socket", onSocket);
    }
}

/** A fetcher that serves one image for any URL and records the URLs asked for: for tests about what follows the fetch. */
export function servingImage(image: FetchedImage = { bytes: JPEG, contentType: "image/jpeg" }): { fetchImage: ImageFetcher; fetched: string[] } {
    const fetched: string[] = [];
    return {
        fetched,
        fetchImage: async (url) => {
            fetched.push(url.href);
            return image;
        },
    };
}
