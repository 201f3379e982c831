/**
 * Slow image hosts against the model: ResNet-50 served by the real TorchServe (as many workers as deployed on this machine's vCPUs)
 * behind `npm run local`'s Lambda front, measured as the images per second that normal clients get, alone and
 * then with SLOW_CLIENTS other clients whose image URLs point at a host that answers only after SLOW_HOST_SECONDS.
 * Side by side in one run; the figure that matters is the ratio.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import { loopbackHostName } from "../tools/local/loopback-host";
import { closedLoop, resnetFixture, startLocalCli } from "./load";
import { formatNumber, printTable } from "./table";

const NORMAL_CLIENTS = 4;
const SLOW_CLIENTS = 4;
const SLOW_HOST_SECONDS = 5;
const REQUESTS = 40;
const IMAGES = 8;
const TARGET_SHARE = 0.9;

async function slowHost(image: Buffer): Promise<{ url: string; close: () => Promise<void> }> {
    const { name, address } = await loopbackHostName();
    const server = http.createServer((_req, res) => {
        setTimeout(() => {
            res.writeHead(200, { "Content-Type": "image/jpeg", "Content-Length": image.length });
            res.end(image);
        }, SLOW_HOST_SECONDS * 1000);
    });
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://${name}:${port}/slow.jpg`,
        close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
    };
}

async function main(): Promise<void> {
    const fixture = await resnetFixture(IMAGES);
    const image = await (await fetch(JSON.parse(fixture.bodies[0]).url as string)).arrayBuffer();
    const slow = await slowHost(Buffer.from(image));
    const local = await startLocalCli(fixture.modelDir);
    const loadAtStart = os.loadavg()[0];
    try {
        const front = `${local.front}/`;
        await closedLoop(front, fixture.bodies, NORMAL_CLIENTS, IMAGES, 0);
        const alone = await closedLoop(front, fixture.bodies, NORMAL_CLIENTS, REQUESTS);
        let slowRunning = true;
        const slowBody = JSON.stringify({ url: slow.url });
        const slowClients = Promise.all(Array.from({ length: SLOW_CLIENTS }, async () => {
            while (slowRunning) await closedLoop(front, [slowBody], 1, 1, 0);
        }));
        // Let every slow client's first request reach the slow host before measuring.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const beside = await closedLoop(front, fixture.bodies, NORMAL_CLIENTS, REQUESTS);
        slowRunning = false;
        await slowClients;
        const share = beside.rps / alone.rps;
        printTable(`ResNet-50 through npm run local (Lambda front, TorchServe with its default workers for ${os.cpus().length} vCPUs), ${NORMAL_CLIENTS} normal clients, ${REQUESTS} requests each round (load average ${formatNumber(loadAtStart)} -> ${formatNumber(os.loadavg()[0])})`, [
            { "normal clients' load": "alone", "images/s": alone.rps, "p50 ms": alone.p50, "p99 ms": alone.p99, failed: alone.failed },
            {
                "normal clients' load": `beside ${SLOW_CLIENTS} clients of a host answering after ${SLOW_HOST_SECONDS} s`,
                "images/s": beside.rps, "p50 ms": beside.p50, "p99 ms": beside.p99, failed: beside.failed,
                "x alone": share, target: `>= ${TARGET_SHARE}x`, result: share >= TARGET_SHARE && beside.failed === 0 ? "PASS" : "MISS",
            },
        ]);
    } finally {
        await local.stop();
        await slow.close();
        await fixture.close();
    }
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    },
);
