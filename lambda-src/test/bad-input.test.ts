/**
 * Table-driven: every malformed event gets its 4xx, an error code and a message naming the problem, never an
 * exception, never an image fetch and never a SageMaker call. Runs the real handler (its real fetcher too) with
 * the SDK client mocked (aws-sdk-client-mock), and counts the sockets it opens: there must be none.
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createHandler, type HttpResponse } from "../src/index";
import { socketsOpenedDuring } from "./support/image-hosts";

const sagemaker = mockClient(SageMakerRuntimeClient);

function httpV2(body: string | null | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        version: "2.0",
        routeKey: "POST /predict",
        rawPath: "/predict",
        headers: { "content-type": "application/json" },
        requestContext: { http: { method: "POST", path: "/predict" }, requestId: "api-1" },
        body,
        isBase64Encoded: false,
        ...extra,
    };
}

function b64(text: string): string {
    return Buffer.from(text).toString("base64");
}

interface Case {
    name: string;
    event: unknown;
    status: number;
    code: string;
    /** A fragment the message must contain: the field, value or limit at fault. */
    mentions: string;
    allowHttp?: boolean;
    /** IMAGE_FETCH_ALLOW_PRIVATE, the local-images switch. */
    allowLocal?: boolean;
}

const long = "https://example.com/" + "a".repeat(5000);

const cases: Case[] = [
    // The event itself.
    { name: "null event", event: null, status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "string event", event: "https://example.com/dog.jpg", status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "array event", event: [{ url: "https://example.com/dog.jpg" }], status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "empty direct event", event: {}, status: 400, code: "MissingUrl", mentions: '"url"' },
    { name: "oversized direct event", event: { url: "https://example.com/dog.jpg", topK: 3, ["x".repeat(5000)]: 1 }, status: 413, code: "PayloadTooLarge", mentions: "4096" },
    // The url field.
    { name: "url null", event: { url: null }, status: 400, code: "MissingUrl", mentions: '"url"' },
    { name: "url number", event: { url: 42 }, status: 400, code: "InvalidUrl", mentions: "number" },
    { name: "url array", event: { url: ["https://example.com/a.jpg"] }, status: 400, code: "InvalidUrl", mentions: "array" },
    { name: "url object", event: { url: { href: "https://example.com/a.jpg" } }, status: 400, code: "InvalidUrl", mentions: "object" },
    { name: "url empty", event: { url: "" }, status: 400, code: "InvalidUrl", mentions: "empty" },
    { name: "url blank", event: { url: "   " }, status: 400, code: "InvalidUrl", mentions: "empty" },
    { name: "url relative", event: { url: "/images/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "absolute URL" },
    { name: "url garbage", event: { url: "not a url" }, status: 400, code: "InvalidUrl", mentions: "absolute URL" },
    { name: "url longer than the whole body limit", event: { url: long }, status: 413, code: "PayloadTooLarge", mentions: "4096" },
    { name: "url over 2048 chars", event: { url: "https://example.com/" + "a".repeat(2030) }, status: 400, code: "InvalidUrl", mentions: "2048" },
    { name: "http by default", event: { url: "http://example.com/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "must use https" },
    { name: "ftp scheme", event: { url: "ftp://example.com/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "ftp:" },
    { name: "file scheme", event: { url: "file:///etc/passwd" }, status: 400, code: "InvalidUrl", mentions: "file:" },
    { name: "ftp even with http allowed", event: { url: "ftp://example.com/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "https or http", allowHttp: true },
    { name: "javascript scheme", event: { url: "javascript:alert(1)" }, status: 400, code: "InvalidUrl", mentions: "javascript:" },
    { name: "credentials in url", event: { url: "https://user:secret@example.com/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "credentials" },
    { name: "username only", event: { url: "https://user@example.com/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "credentials" },
    { name: "loopback v4", event: { url: "https://127.0.0.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "127.0.0.1" },
    { name: "loopback v4 in hex", event: { url: "https://0x7f.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "127.0.0.1" },
    { name: "loopback v4 as integer", event: { url: "https://2130706433/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "127.0.0.1" },
    { name: "loopback v4 in octal", event: { url: "https://0177.0.0.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "127.0.0.1" },
    { name: "unspecified v4", event: { url: "https://0.0.0.0/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "0.0.0.0" },
    { name: "private 10/8", event: { url: "https://10.1.2.3/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "private" },
    { name: "private 172.16/12", event: { url: "https://172.31.255.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "172.31.255.1" },
    { name: "private 192.168/16", event: { url: "https://192.168.0.10:8443/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "192.168.0.10" },
    { name: "carrier-grade NAT", event: { url: "https://100.64.0.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "100.64.0.1" },
    { name: "instance metadata", event: { url: "https://169.254.169.254/latest/meta-data/" }, status: 400, code: "InvalidUrl", mentions: "metadata" },
    { name: "link-local v4", event: { url: "https://169.254.1.1/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "link-local" },
    { name: "metadata even with local images", event: { url: "http://169.254.169.254/latest/meta-data/" }, status: 400, code: "InvalidUrl", mentions: "metadata", allowHttp: true, allowLocal: true },
    { name: "NAT64 of loopback", event: { url: "https://[64:ff9b::127.0.0.1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "NAT64 address and carries 127.0.0.1" },
    { name: "NAT64 of metadata", event: { url: "https://[64:ff9b::a9fe:a9fe]/x" }, status: 400, code: "InvalidUrl", mentions: "metadata" },
    { name: "local-use NAT64", event: { url: "https://[64:ff9b:1::808:808]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "local-use NAT64" },
    { name: "IPv4-compatible", event: { url: "https://[::8.8.8.8]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "IPv4-compatible" },
    { name: "6to4 of private", event: { url: "https://[2002:c0a8:0001::1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "6to4 address and carries 192.168.0.1" },
    { name: "Teredo of loopback client", event: { url: "https://[2001:0:808:808::80ff:fffe]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "Teredo address and carries 127.0.0.1" },
    { name: "documentation v6", event: { url: "https://[2001:db8::1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "documentation" },
    { name: "loopback v6", event: { url: "https://[::1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "[::1]" },
    { name: "unspecified v6", event: { url: "https://[::]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "[::]" },
    { name: "link-local v6", event: { url: "https://[fe80::1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "fe80::1" },
    { name: "unique-local v6", event: { url: "https://[fd00:ec2::254]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "fd00:ec2::254" },
    { name: "v4-mapped loopback", event: { url: "https://[::ffff:127.0.0.1]/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "::ffff:7f00:1" },
    { name: "v4-mapped metadata", event: { url: "https://[::ffff:169.254.169.254]/x" }, status: 400, code: "InvalidUrl", mentions: "metadata" },
    { name: "localhost name", event: { url: "https://localhost/dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "localhost" },
    { name: "localhost subdomain", event: { url: "https://img.localhost./dog.jpg" }, status: 400, code: "InvalidUrl", mentions: "img.localhost" },
    { name: "deeply nested direct event", event: { url: JSON.parse("[".repeat(20000) + "]".repeat(20000)) }, status: 400, code: "InvalidRequest", mentions: "nested deeper than 32" },
    // topK and unknown fields.
    { name: "topK zero", event: { url: "https://example.com/a.jpg", topK: 0 }, status: 400, code: "InvalidTopK", mentions: "1 to 133" },
    { name: "topK too big", event: { url: "https://example.com/a.jpg", topK: 134 }, status: 400, code: "InvalidTopK", mentions: "134" },
    { name: "topK fractional", event: { url: "https://example.com/a.jpg", topK: 2.5 }, status: 400, code: "InvalidTopK", mentions: "2.5" },
    { name: "topK string", event: { url: "https://example.com/a.jpg", topK: "5" }, status: 400, code: "InvalidTopK", mentions: '"5"' },
    { name: "topK null", event: { url: "https://example.com/a.jpg", topK: null }, status: 400, code: "InvalidTopK", mentions: "null" },
    { name: "unknown field", event: { url: "https://example.com/a.jpg", threshold: 0.5 }, status: 400, code: "UnknownField", mentions: '"threshold"' },
    { name: "misspelt field", event: { URL: "https://example.com/a.jpg" }, status: 400, code: "UnknownField", mentions: '"URL"' },
    { name: "direct event with body", event: { body: '{"url":"https://example.com/a.jpg"}' }, status: 400, code: "UnknownField", mentions: '"body"' },
    // HTTP events.
    { name: "http: GET", event: httpV2(null, { requestContext: { http: { method: "GET" } } }), status: 405, code: "MethodNotAllowed", mentions: "GET" },
    { name: "http v1: PUT", event: { httpMethod: "PUT", requestContext: {}, headers: {}, body: "{}" }, status: 405, code: "MethodNotAllowed", mentions: "PUT" },
    { name: "http: no body", event: httpV2(undefined), status: 400, code: "MissingBody", mentions: "no body" },
    { name: "http: null body", event: httpV2(null), status: 400, code: "MissingBody", mentions: "no body" },
    { name: "http: empty body", event: httpV2(""), status: 400, code: "MissingBody", mentions: "no body" },
    { name: "http: body not a string", event: httpV2(null, { body: { url: "https://example.com/a.jpg" } }), status: 400, code: "InvalidRequest", mentions: "string" },
    { name: "http: invalid JSON", event: httpV2("{url: https://example.com}"), status: 400, code: "InvalidJson", mentions: "not valid JSON" },
    { name: "http: JSON array", event: httpV2('["https://example.com/a.jpg"]'), status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "http: JSON string", event: httpV2('"https://example.com/a.jpg"'), status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "http: JSON null", event: httpV2("null"), status: 400, code: "InvalidRequest", mentions: "JSON object" },
    { name: "http: body too big", event: httpV2(JSON.stringify({ url: "https://example.com/a.jpg", pad: "x".repeat(5000) })), status: 413, code: "PayloadTooLarge", mentions: "4096" },
    // Content types: JSON is read from text/plain and form-urlencoded bodies (what curl -d sends), nothing else.
    { name: "http: image content type", event: httpV2('{"url":"https://example.com/a.jpg"}', { headers: { "content-type": "image/jpeg" } }), status: 415, code: "UnsupportedMediaType", mentions: '"image/jpeg"' },
    { name: "http: multipart content type", event: httpV2('{"url":"https://example.com/a.jpg"}', { headers: { "content-type": "multipart/form-data; boundary=x" } }), status: 415, code: "UnsupportedMediaType", mentions: "multipart/form-data" },
    { name: "http: real form data (v1 header case)", event: { httpMethod: "POST", requestContext: {}, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "url=x" }, status: 415, code: "UnsupportedMediaType", mentions: "x-www-form-urlencoded\" and a body that is not JSON" },
    { name: "http: form-urlencoded JSON array", event: httpV2('["https://example.com/a.jpg"]', { headers: { "content-type": "application/x-www-form-urlencoded" } }), status: 415, code: "UnsupportedMediaType", mentions: "not a JSON object" },
    { name: "http: text/plain non-JSON", event: httpV2("https://example.com/a.jpg", { headers: { "content-type": "text/plain; charset=utf-8" } }), status: 415, code: "UnsupportedMediaType", mentions: "application/json" },
    { name: "http: text/plain JSON object still validated", event: httpV2('{"url":"https://10.0.0.5/a.jpg"}', { headers: { "content-type": "text/plain" } }), status: 400, code: "InvalidUrl", mentions: "10.0.0.5" },
    { name: "http: bad base64", event: httpV2("!!!not-base64!!!", { isBase64Encoded: true }), status: 400, code: "InvalidBody", mentions: "base64" },
    { name: "http: base64 of invalid UTF-8", event: httpV2(Buffer.from([0xff, 0xfe, 0xfd, 0x80]).toString("base64"), { isBase64Encoded: true }), status: 400, code: "InvalidBody", mentions: "UTF-8" },
    { name: "http: base64 too big", event: httpV2(b64("x".repeat(6000)), { isBase64Encoded: true }), status: 413, code: "PayloadTooLarge", mentions: "4096" },
    { name: "http: base64 of non-JSON", event: httpV2(b64("url=https://example.com"), { isBase64Encoded: true }), status: 400, code: "InvalidJson", mentions: "not valid JSON" },
    { name: "http: private url in body", event: httpV2('{"url":"https://10.0.0.5/a.jpg"}'), status: 400, code: "InvalidUrl", mentions: "10.0.0.5" },
    { name: "http: deeply nested body", event: httpV2(`{"url":${"[".repeat(2000)}${"]".repeat(2000)}}`), status: 400, code: "InvalidRequest", mentions: "nested deeper than 32" },
    { name: "http: unknown field in body", event: httpV2('{"url":"https://example.com/a.jpg","model":"other"}'), status: 400, code: "UnknownField", mentions: '"model"' },
];

describe("lambda handler: bad input", () => {
    beforeEach(() => sagemaker.reset());
    after(() => sagemaker.restore());

    for (const testCase of cases) {
        it(`${testCase.name} -> ${testCase.status} ${testCase.code}`, async () => {
            const logs: Record<string, unknown>[] = [];
            const env = {
                ENDPOINT_NAME: "dog-breeds",
                ALLOW_HTTP_IMAGE_URLS: testCase.allowHttp ? "true" : "false",
                IMAGE_FETCH_ALLOW_PRIVATE: testCase.allowLocal ? "true" : "false",
            };
            const handler = createHandler({ env, log: (entry) => logs.push(entry) });

            const { result: response, sockets } = await socketsOpenedDuring((): Promise<HttpResponse> => handler(testCase.event, { awsRequestId: "req-1" }));
            expect(sockets, "sockets opened").to.equal(0);

            expect(response.statusCode, response.body).to.equal(testCase.status);
            expect(response.headers["Content-Type"]).to.equal("application/json");
            const body = JSON.parse(response.body) as { error: { code: string; message: string } };
            expect(body.error.code).to.equal(testCase.code);
            expect(body.error.message).to.include(testCase.mentions);
            expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
            expect(logs).to.have.length(1);
            expect(logs[0]).to.include({ requestId: "req-1", statusCode: testCase.status, errorCode: testCase.code, level: "warn" });
        });
    }

    it("answers 405 with an Allow header", async () => {
        const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: () => undefined });
        const response = await handler(httpV2(null, { requestContext: { http: { method: "DELETE" } } }));
        expect(response.statusCode).to.equal(405);
        expect(response.headers.Allow).to.equal("POST");
    });
});
