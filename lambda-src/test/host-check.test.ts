/**
 * The handler's early DNS check, with the resolver injected: a name whose answers fall outside the address policy
 * is refused with 400 before any SageMaker call; anything else, including a resolver failure, goes on to the
 * endpoint, which checks again for itself.
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { HostChecker, LOOKUP_TIMEOUT_MS, type Lookup } from "../src/host-check";
import { createHandler, type LogEntry } from "../src/index";

const sagemaker = mockClient(SageMakerRuntimeClient);
const answer = { predictions: [{ label: "Beagle", index: 15, probability: 0.9 }] };

function handlerResolving(lookup: Lookup, env: NodeJS.ProcessEnv = {}) {
    const logs: LogEntry[] = [];
    const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds", ...env }, log: (entry) => logs.push(entry), lookup });
    return { handler, logs };
}

describe("lambda handler: the DNS check of image hosts", () => {
    beforeEach(() => {
        sagemaker.reset();
        sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify(answer)) as never, $metadata: {} });
    });
    after(() => sagemaker.restore());

    for (const [spelling, mentions] of [
        ["127.0.0.1", "loopback"],
        ["::ffff:127.0.0.1", "loopback"],
        ["64:ff9b::a9fe:a9fe", "metadata"],
        ["64:ff9b::10.0.0.7", "private"],
        ["2002:a9fe:a9fe::1", "metadata"],
        ["::127.0.0.1", "IPv4-compatible"],
        ["fd00:ec2::254", "metadata"],
        ["fe80::1%eth0", "link-local"],
    ]) {
        it(`refuses a name resolving to ${spelling} with 400, before any SageMaker call`, async () => {
            const { handler, logs } = handlerResolving(async () => ["93.184.216.34", spelling]);
            const response = await handler({ url: "https://images.example.com/dog.jpg" });
            expect(response.statusCode).to.equal(400);
            const body = JSON.parse(response.body) as { error: { code: string; message: string } };
            expect(body.error.code).to.equal("InvalidUrl");
            expect(body.error.message).to.include("images.example.com").and.include("resolves to").and.include(mentions);
            expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
            expect(logs[0]).to.include({ statusCode: 400, errorCode: "InvalidUrl" });
        });
    }

    it("passes a name with only global answers on to the endpoint", async () => {
        const { handler } = handlerResolving(async () => ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::808:808"]);
        expect((await handler({ url: "https://images.example.com/dog.jpg" })).statusCode).to.equal(200);
        expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(1);
    });

    it("fails open when the resolver fails: the endpoint's own check decides", async () => {
        const { handler } = handlerResolving(async () => {
            throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
        });
        expect((await handler({ url: "https://images.example.com/dog.jpg" })).statusCode).to.equal(200);
    });

    it("stops waiting for a resolver that hangs", async function () {
        this.timeout(LOOKUP_TIMEOUT_MS * 5);
        const { handler } = handlerResolving(() => new Promise<string[]>(() => undefined));
        const started = Date.now();
        expect((await handler({ url: "https://images.example.com/dog.jpg" })).statusCode).to.equal(200);
        expect(Date.now() - started).to.be.at.least(LOOKUP_TIMEOUT_MS - 50);
    });

    it("admits local answers only with the local-images switch, and never the metadata service", async () => {
        const loopback: Lookup = async () => ["127.0.0.1"];
        expect((await handlerResolving(loopback).handler({ url: "https://vm/dog.jpg" })).statusCode).to.equal(400);
        const local = { IMAGE_FETCH_ALLOW_PRIVATE: "true", ALLOW_HTTP_IMAGE_URLS: "true" };
        expect((await handlerResolving(loopback, local).handler({ url: "http://vm/dog.jpg" })).statusCode).to.equal(200);
        const metadata: Lookup = async () => ["169.254.169.254"];
        expect((await handlerResolving(metadata, local).handler({ url: "http://vm/dog.jpg" })).statusCode).to.equal(400);
    });

    it("looks a host up once per cache period, not on every request", async () => {
        const asked: string[] = [];
        let clock = 0;
        const checker = new HostChecker(async (host) => {
            asked.push(host);
            return ["10.0.0.1"];
        }, false, () => clock);
        const url = new URL("https://images.example.com/dog.jpg");
        expect(await checker.refusal(url)).to.include("private");
        expect(await checker.refusal(url)).to.include("private");
        expect(asked).to.have.length(1);
        clock += 60_000;
        await checker.refusal(url);
        expect(asked).to.have.length(2);
        expect(await checker.refusal(new URL("https://10.0.0.1/x"))).to.equal(undefined, "literals are judged by the URL check");
    });
});
