/**
 * The handler fetching the image itself, with its real fetcher against loopback image hosts and the SDK client
 * mocked: the endpoint gets the image's bytes; a host that is slow, refuses, serves no image or too large an one,
 * or resolves where it must not, is the caller's problem: a 4xx naming the URL (without its query string), never
 * a 5xx, and no SageMaker call.
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import type { Lookup } from "../src/image-fetch";
import { createHandler, type HttpResponse, type LogEntry } from "../src/index";
import { JPEG, png, startImageHost, type ImageHost } from "./support/image-hosts";

const sagemaker = mockClient(SageMakerRuntimeClient);
const ANSWER = new TextEncoder().encode(JSON.stringify({ predictions: [{ label: "Beagle", index: 15, probability: 0.9 }] }));
const LOCAL_IMAGES = { IMAGE_FETCH_ALLOW_PRIVATE: "true", ALLOW_HTTP_IMAGE_URLS: "true" };

function handlerWith(env: NodeJS.ProcessEnv, lookup?: Lookup) {
    const logs: LogEntry[] = [];
    const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds", ...env }, log: (entry) => logs.push(entry), ...(lookup ? { lookup } : {}) });
    return { handler, logs };
}

function errorOf(response: HttpResponse): { code: string; message: string } {
    return (JSON.parse(response.body) as { error: { code: string; message: string } }).error;
}

describe("lambda handler: fetching the image at the edge", function () {
    this.timeout(20_000);
    let host: ImageHost;
    let closedUrl: string;

    before(async () => {
        host = await startImageHost({
            "/dog.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG },
            "/dog.png": { status: 200, headers: { "Content-Type": "image/png" }, body: png(2, 2) },
            "/slow.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG, delayMs: 3_000 },
            "/page.html": { status: 200, headers: { "Content-Type": "text/html" }, body: "<html></html>" },
            "/big.png": { status: 200, headers: { "Content-Type": "image/png" }, body: Buffer.concat([png(), Buffer.alloc(2_000)]) },
        });
        const closed = await startImageHost({});
        closedUrl = closed.url;
        await closed.close();
    });
    after(async () => {
        await host.close();
        sagemaker.restore();
    });
    beforeEach(() => {
        sagemaker.reset();
        sagemaker.on(InvokeEndpointCommand).resolves({ Body: ANSWER as never, $metadata: {} });
    });

    it("sends the endpoint the image's bytes with its type, and logs the fetch", async () => {
        const { handler, logs } = handlerWith(LOCAL_IMAGES);
        expect((await handler({ url: `${host.url}/dog.png?sig=abc` })).statusCode).to.equal(200);
        const [call] = sagemaker.commandCalls(InvokeEndpointCommand);
        expect(call.args[0].input).to.include({ ContentType: "image/png", Accept: "application/json" });
        expect(Buffer.from(call.args[0].input.Body as Uint8Array).equals(png(2, 2))).to.equal(true);
        expect(logs[0]).to.include({ imageUrl: `${host.url}/dog.png`, imageType: "image/png", imageBytes: png(2, 2).length });
    });

    const failures: [string, () => string, NodeJS.ProcessEnv, number, string][] = [
        ["a host slower than IMAGE_FETCH_TIMEOUT_MS", () => `${host.url}/slow.jpg`, { IMAGE_FETCH_TIMEOUT_MS: "300" }, 400, "timed out: no complete response within 300 ms"],
        ["a host that refuses connections", () => `${closedUrl}/dog.jpg`, {}, 400, "failed: ECONNREFUSED"],
        ["a host serving a web page", () => `${host.url}/page.html`, {}, 400, "did not return a JPEG or PNG image"],
        ["a host serving a missing image", () => `${host.url}/missing.jpg`, {}, 400, "answered HTTP 404"],
        ["an image over MAX_IMAGE_BYTES", () => `${host.url}/big.png`, { MAX_IMAGE_BYTES: "1000" }, 413, "the limit of 1000 bytes"],
    ];
    for (const [what, url, env, status, mentions] of failures) {
        it(`${what}: ${status} ImageRejected naming the URL, no SageMaker call`, async () => {
            const { handler, logs } = handlerWith({ ...LOCAL_IMAGES, ...env });
            const response = await handler({ url: `${url()}?X-Amz-Signature=topsecret` });
            expect(response.statusCode, response.body).to.equal(status);
            const error = errorOf(response);
            expect(error.code).to.equal("ImageRejected");
            expect(error.message).to.include(url()).and.include(mentions).and.not.include("topsecret");
            expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
            expect(logs[0]).to.include({ level: "warn", errorCode: "ImageRejected", imageUrl: url() });
            expect(JSON.stringify(logs[0])).to.not.include("topsecret");
        });
    }

    for (const [answer, mentions] of [
        ["127.0.0.1", "loopback"],
        ["::ffff:127.0.0.1", "loopback"],
        ["64:ff9b::a9fe:a9fe", "metadata"],
        ["64:ff9b::10.0.0.7", "private"],
        ["2002:a9fe:a9fe::1", "metadata"],
        ["::127.0.0.1", "IPv4-compatible"],
        ["fd00:ec2::254", "metadata"],
        ["fe80::1%eth0", "link-local"],
    ]) {
        it(`a name with ${answer} among its answers: 400 InvalidUrl, nothing fetched`, async () => {
            const { handler, logs } = handlerWith({}, async () => ["93.184.216.34", answer]);
            const response = await handler({ url: "https://images.example.com/dog.jpg" });
            expect(response.statusCode).to.equal(400);
            const error = errorOf(response);
            expect(error.code).to.equal("InvalidUrl");
            expect(error.message).to.include("images.example.com").and.include("resolves to").and.include(mentions);
            expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
            expect(logs[0]).to.include({ statusCode: 400, errorCode: "InvalidUrl" });
        });
    }

    it("admits local answers only with the local-images switch, and never the metadata service", async () => {
        const loopback: Lookup = async () => ["127.0.0.1"];
        const named = `http://images.local:${host.port}/dog.jpg`;
        expect((await handlerWith({ ALLOW_HTTP_IMAGE_URLS: "true" }, loopback).handler({ url: named })).statusCode).to.equal(400);
        expect((await handlerWith(LOCAL_IMAGES, loopback).handler({ url: named })).statusCode).to.equal(200);
        expect((await handlerWith(LOCAL_IMAGES, async () => ["169.254.169.254"]).handler({ url: named })).statusCode).to.equal(400);
    });
});
