/** The Function URL-style front: the event it builds and how it maps the handler's answer back to HTTP. */
import { expect } from "chai";
import { functionUrlEvent, startLambdaFront, type LambdaFront } from "../lambda-front";

describe("local mode: Function URL front", function () {
    it("builds a payload 2.0 event: text bodies as text, binary ones base64, cookies and query split out", () => {
        const now = new Date(Date.UTC(2020, 2, 12, 19, 3, 58));
        const event = functionUrlEvent({
            method: "POST",
            target: "/predict?a=1&a=2&b=x",
            headers: { "content-type": "application/json", cookie: "s=1; t=2", "user-agent": "curl/8" },
            body: Buffer.from('{"url":"https://x"}'),
            sourceIp: "127.0.0.1",
            requestId: "req-1",
            now,
        });
        expect(event).to.deep.include({
            version: "2.0",
            routeKey: "$default",
            rawPath: "/predict",
            rawQueryString: "a=1&a=2&b=x",
            cookies: ["s=1", "t=2"],
            headers: { "content-type": "application/json", "user-agent": "curl/8" },
            queryStringParameters: { a: "1,2", b: "x" },
            body: '{"url":"https://x"}',
            isBase64Encoded: false,
        });
        expect(event.requestContext).to.deep.include({ requestId: "req-1", time: "12/Mar/2020:19:03:58 +0000", timeEpoch: now.getTime() });
        expect((event.requestContext as { http: unknown }).http).to.deep.equal({ method: "POST", path: "/predict", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl/8" });

        const binary = functionUrlEvent({ method: "POST", target: "/", headers: { "content-type": "image/png" }, body: Buffer.from([0x89, 0x50]), sourceIp: "", requestId: "r" });
        expect(binary).to.include({ body: "iVA=", isBase64Encoded: true });
        expect(functionUrlEvent({ method: "GET", target: "/", headers: {}, body: Buffer.alloc(0), sourceIp: "", requestId: "r" })).not.to.have.property("body");
    });

    describe("over HTTP", function () {
        let front: LambdaFront;
        let answer: (event: Record<string, unknown>) => Promise<unknown>;

        before(async () => {
            front = await startLambdaFront((event) => answer(event as Record<string, unknown>), { port: 0 });
        });
        after(() => front.close());

        it("sends the handler's status, headers and (base64) body", async () => {
            answer = async (event) => ({ statusCode: 201, headers: { "X-Echo": String(event.body) }, body: Buffer.from("hi").toString("base64"), isBase64Encoded: true });
            const response = await fetch(`${front.url}/`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "ping" });
            expect(response.status).to.equal(201);
            expect(response.headers.get("x-echo")).to.equal("ping");
            expect(await response.text()).to.equal("hi");
        });

        it("answers 502 when the handler throws, and 413 over the payload limit", async () => {
            answer = async () => {
                throw new Error("boom");
            };
            const error = console.error;
            console.error = () => undefined;
            try {
                const response = await fetch(`${front.url}/`, { method: "POST", body: "x" });
                expect(response.status).to.equal(502);
                expect(await response.json()).to.deep.equal({ Message: "Internal Server Error" });
            } finally {
                console.error = error;
            }
            const big = await fetch(`${front.url}/`, { method: "POST", body: Buffer.alloc(6 * 1024 * 1024 + 1) });
            expect(big.status).to.equal(413);
        });
    });
});
