/**
 * Every branch of the handler with the SDK client mocked by aws-sdk-client-mock: what is sent to InvokeEndpoint,
 * how each answer shape and each service error becomes a response, configuration errors, and the log line.
 */
import {
    InternalFailure,
    InvokeEndpointCommand,
    type InvokeEndpointCommandOutput,
    ModelError,
    ModelNotReadyException,
    SageMakerRuntimeClient,
    SageMakerRuntimeServiceException,
    ServiceUnavailable,
    ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { createHandler, type HttpResponse, type LogEntry } from "../src/index";
import { LABELS } from "../../infra/contract";
import { JPEG, servingImage } from "./support/image-hosts";

const sagemaker = mockClient(SageMakerRuntimeClient);
const ENV = { ENDPOINT_NAME: "dog-breeds-prod" };
const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const $metadata = { httpStatusCode: 400, requestId: "aws-req-1" };

/** What the handler sent to InvokeEndpoint. */
function sent() {
    return sagemaker.commandCalls(InvokeEndpointCommand)[0].args[0].input;
}

/** The handler with the image fetch answered by one JPEG (the fetch itself: image-fetch.test.ts, fetch-at-the-edge.test.ts). */
function setup(env: NodeJS.ProcessEnv = ENV) {
    const logs: LogEntry[] = [];
    const images = servingImage();
    const handler = createHandler({ env, log: (entry) => logs.push(entry), fetchImage: images.fetchImage });
    return { handler, logs, fetched: images.fetched };
}

function bodyOf(response: HttpResponse): Record<string, unknown> & { error?: { code: string; message: string } } {
    return JSON.parse(response.body) as Record<string, unknown> & { error?: { code: string; message: string } };
}

function ok(body: unknown, variant = "AllTraffic"): InvokeEndpointCommandOutput {
    // The SDK hands back a Uint8Array subclass; the handler only reads it as bytes.
    const Body = encode(body) as InvokeEndpointCommandOutput["Body"];
    return { Body, ContentType: "application/json", InvokedProductionVariant: variant, $metadata: { httpStatusCode: 200 } };
}

describe("lambda handler: invoking the endpoint", () => {
    beforeEach(() => sagemaker.reset());
    after(() => sagemaker.restore());

    it("sends the fetched image's bytes to ENDPOINT_NAME, topK as the Accept parameter, and returns the endpoint's predictions", async () => {
        const predictions = [
            { label: "Beagle", index: 15, probability: 0.9 },
            { label: "Basset hound", index: 14, probability: 0.06 },
        ];
        sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions }, "variant-b"));
        const { handler, fetched } = setup();

        const response = await handler({ url: "https://images.example.com/dogs/beagle.jpg", topK: 2 }, { awsRequestId: "r-1" });

        expect(response.statusCode).to.equal(200);
        expect(response.headers).to.include({ "Content-Type": "application/json", "X-Request-Id": "r-1" });
        expect(bodyOf(response)).to.deep.equal({ predictions, model: { endpoint: "dog-breeds-prod", variant: "variant-b" } });
        expect(fetched).to.deep.equal(["https://images.example.com/dogs/beagle.jpg"]);
        expect(sent()).to.include({ EndpointName: "dog-breeds-prod", ContentType: "image/jpeg", Accept: "application/json; topk=2" });
        expect(Buffer.from(sent().Body as Uint8Array).equals(JPEG)).to.equal(true);
    });

    it("defaults topK to 5 and cuts an over-long, unsorted answer down to the top k", async () => {
        const predictions = Array.from({ length: 10 }, (_, i) => ({ label: LABELS[i], index: i, probability: (i + 1) / 55 }));
        sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions }));
        const { handler } = setup();

        const response = await handler({ url: "https://example.com/a.jpg" });

        const body = bodyOf(response) as { predictions: { index: number }[] };
        expect(body.predictions.map((p) => p.index)).to.deep.equal([9, 8, 7, 6, 5]);
        // The endpoint picks its own default, which it caps at its number of classes.
        expect(sent().Accept).to.equal("application/json");
    });

    it("turns the course endpoint's raw logits into softmax top-k with breed labels", async () => {
        const logits = LABELS.map(() => 0);
        logits[15] = 5; // Beagle
        logits[14] = 4; // Basset hound
        sagemaker.on(InvokeEndpointCommand).resolves(ok(logits));
        const { handler } = setup();

        const response = await handler({ url: "https://example.com/a.jpg", topK: 3 });

        const { predictions } = bodyOf(response) as { predictions: { label: string; index: number; probability: number }[] };
        const total = Math.exp(5) + Math.exp(4) + 131;
        expect(predictions.map((p) => [p.label, p.index])).to.deep.equal([
            ["Beagle", 15],
            ["Basset hound", 14],
            ["Affenpinscher", 0],
        ]);
        expect(predictions[0].probability).to.be.closeTo(Math.exp(5) / total, 1e-12);
        expect(predictions[2].probability).to.be.closeTo(1 / total, 1e-12);
    });

    it("accepts the logits wrapped in a batch of one ([[...133 scores...]])", async () => {
        const logits = LABELS.map((_, i) => (i === 132 ? 10 : -1));
        sagemaker.on(InvokeEndpointCommand).resolves(ok([logits]));
        const { handler } = setup();

        const response = await handler({ url: "https://example.com/a.jpg", topK: 1 });

        expect(bodyOf(response).predictions).to.deep.equal([{ label: "Yorkshire terrier", index: 132, probability: Math.exp(11) / (Math.exp(11) + 132) }]);
    });

    it("accepts http image URLs only when ALLOW_HTTP_IMAGE_URLS=true", async () => {
        sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions: [] }));
        expect((await setup({ ...ENV }).handler({ url: "http://example.com/a.jpg" })).statusCode).to.equal(400);
        expect((await setup({ ...ENV, ALLOW_HTTP_IMAGE_URLS: "true" }).handler({ url: "http://example.com/a.jpg" })).statusCode).to.equal(200);
    });

    describe("HTTP events", () => {
        const body = JSON.stringify({ url: "https://example.com/dog.jpg", topK: 1 });
        const events: Record<string, unknown> = {
            "API Gateway REST (v1)": { resource: "/predict", httpMethod: "POST", headers: { "Content-Type": "application/json; charset=utf-8" }, requestContext: { stage: "prod" }, body, isBase64Encoded: false },
            "API Gateway HTTP API (v2)": { version: "2.0", routeKey: "POST /predict", headers: {}, requestContext: { http: { method: "POST" } }, body, isBase64Encoded: false },
            "Function URL, base64 body": { version: "2.0", routeKey: "$default", headers: { "content-type": "application/json" }, requestContext: { http: { method: "POST" } }, body: Buffer.from(body).toString("base64"), isBase64Encoded: true },
            // What `curl -d '{"url": ...}'` sends without -H 'Content-Type: application/json'.
            "Function URL, curl -d (form-urlencoded)": { version: "2.0", routeKey: "$default", headers: { "content-type": "application/x-www-form-urlencoded" }, requestContext: { http: { method: "POST" } }, body: Buffer.from(body).toString("base64"), isBase64Encoded: true },
            "API Gateway REST (v1), text/plain": { resource: "/predict", httpMethod: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" }, requestContext: { stage: "prod" }, body, isBase64Encoded: false },
        };
        for (const [name, event] of Object.entries(events)) {
            it(`reads the body of ${name}`, async () => {
                sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions: [{ label: "Beagle", index: 15, probability: 1 }] }));
                const { handler, fetched } = setup();
                const response = await handler(event);
                expect(response.statusCode).to.equal(200);
                expect(response.isBase64Encoded).to.equal(false);
                expect(fetched).to.deep.equal(["https://example.com/dog.jpg"]);
                expect(sent().Accept).to.equal("application/json; topk=1");
            });
        }
    });

    describe("service errors", () => {
        const arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/dog-breeds-prod";
        const cases: { name: string; error: Error; status: number; code: string; retryAfter?: string }[] = [
            {
                name: "ModelError",
                error: new ModelError({ $metadata: { httpStatusCode: 424 }, message: `Received server error (500) from primary. See ${arn}`, OriginalStatusCode: 500, OriginalMessage: 'Traceback (most recent call last):\n  File "inference.py"', LogStreamArn: arn }),
                status: 502,
                code: "ModelError",
            },
            {
                name: "ModelError from the model's 400",
                error: new ModelError({ $metadata: { httpStatusCode: 424 }, message: `Received client error (400) from primary. See ${arn}`, OriginalStatusCode: 400, OriginalMessage: "refusing to fetch https://x.example.com/a.jpg: 10.0.0.1 is a private or reserved address", LogStreamArn: arn }),
                status: 400,
                code: "ImageRejected",
            },
            { name: "ThrottlingException", error: new SageMakerRuntimeServiceException({ name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "Rate exceeded" }), status: 503, code: "Throttled", retryAfter: "1" },
            { name: "ModelNotReadyException", error: new ModelNotReadyException({ $metadata: { httpStatusCode: 429 }, message: "model not ready" }), status: 503, code: "Throttled", retryAfter: "1" },
            { name: "ServiceUnavailable", error: new ServiceUnavailable({ $metadata: { httpStatusCode: 503 }, message: "Service Unavailable" }), status: 503, code: "ModelUnavailable", retryAfter: "5" },
            { name: "ValidationError (endpoint not found)", error: new ValidationError({ $metadata, message: "Endpoint dog-breeds-prod of account 123456789012 not found." }), status: 503, code: "ModelUnavailable", retryAfter: "5" },
            { name: "InternalFailure", error: new InternalFailure({ $metadata: { httpStatusCode: 500 }, message: "internal" }), status: 502, code: "UpstreamError" },
            { name: "unmodelled 5xx", error: new SageMakerRuntimeServiceException({ name: "BadGateway", $fault: "server", $metadata: { httpStatusCode: 502 }, message: "bad gateway" }), status: 502, code: "UpstreamError" },
            { name: "SDK TimeoutError", error: Object.assign(new Error("socket timed out"), { name: "TimeoutError" }), status: 504, code: "Timeout" },
            { name: "connection refused", error: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }), status: 503, code: "ModelUnavailable", retryAfter: "5" },
            {
                name: "AccessDeniedException",
                error: new SageMakerRuntimeServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "User: arn:aws:sts::123456789012:assumed-role/fn is not authorized" }),
                status: 500,
                code: "InternalError",
            },
            { name: "missing credentials", error: new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"), status: 500, code: "InternalError" },
        ];
        for (const testCase of cases) {
            it(`${testCase.name} -> ${testCase.status} ${testCase.code}, nothing internal in the body`, async () => {
                sagemaker.on(InvokeEndpointCommand).rejects(testCase.error);
                const { handler, logs } = setup();

                const response = await handler({ url: "https://example.com/a.jpg" }, { awsRequestId: "r-err" });

                expect(response.statusCode).to.equal(testCase.status);
                expect(bodyOf(response).error?.code).to.equal(testCase.code);
                expect(response.headers["Retry-After"]).to.equal(testCase.retryAfter);
                expect(response.body).not.to.match(/arn:aws|123456789012|Traceback|ECONNREFUSED|10\.0\.0\.1|at .*\.ts/);
                expect(logs[0]).to.include({ statusCode: testCase.status, errorCode: testCase.code, level: testCase.status >= 500 ? "error" : "warn" });
                expect(logs[0].errorName).to.equal(testCase.error.name);
            });
        }

        describe("ModelError by the model container's own status", () => {
            const rejected = "the endpoint could not use the image at this URL: it must be a reachable public https JPEG or PNG within the size limits (and topK, if given, at most the model's number of classes)";
            const cases: [string, number | undefined, number, string, string][] = [
                ["400 (not an image, URL refused, topK over the classes)", 400, 400, "ImageRejected", rejected],
                ["404", 404, 400, "ImageRejected", rejected],
                ["413 (image too large)", 413, 413, "ImageRejected", "the image at this URL is too large for the endpoint: send a smaller JPEG or PNG"],
                ["415 (the handler's own Content-Type refused)", 415, 502, "ModelError", "the model failed while classifying the image"],
                ["406 (the handler's own Accept refused)", 406, 502, "ModelError", "the model failed while classifying the image"],
                ["429 (the container's load)", 429, 502, "ModelError", "the model failed while classifying the image"],
                ["500", 500, 502, "ModelError", "the model failed while classifying the image"],
                ["503", 503, 502, "ModelError", "the model failed while classifying the image"],
                ["missing", undefined, 502, "ModelError", "the model failed while classifying the image"],
            ];
            for (const [name, original, status, code, message] of cases) {
                it(`original status ${name} -> ${status} ${code} with a fixed message`, async () => {
                    const upstream = "Image.open failed on /opt/ml/model/code/inference.py for http://10.0.0.7/secret";
                    sagemaker.on(InvokeEndpointCommand).rejects(new ModelError({ $metadata: { httpStatusCode: 424 }, message: upstream, OriginalStatusCode: original, OriginalMessage: upstream }));
                    const { handler, logs } = setup();

                    const response = await handler({ url: "https://example.com/a.jpg" });

                    expect(response.statusCode).to.equal(status);
                    expect(bodyOf(response).error).to.deep.equal({ code, message });
                    expect(logs[0]).to.include({ statusCode: status, errorCode: code, originalStatusCode: original, level: status >= 500 ? "error" : "warn" });
                });
            }
        });

        it("logs the model's original status and message for a ModelError", async () => {
            sagemaker.on(InvokeEndpointCommand).rejects(new ModelError({ $metadata: { httpStatusCode: 424 }, message: "model failed", OriginalStatusCode: 400, OriginalMessage: "cannot identify image file" }));
            const { handler, logs } = setup();
            await handler({ url: "https://example.com/a.jpg" });
            expect(logs[0]).to.include({ originalStatusCode: 400, originalMessage: "cannot identify image file", upstreamStatus: 424 });
        });

        it("answers 502 BadModelResponse when the endpoint's answer cannot be read", async () => {
            for (const answer of ["<html>oops</html>", { result: "beagle" }, [1, 2, 3], { predictions: [{ label: "Beagle" }] }, LABELS.map(() => "x")]) {
                sagemaker.reset();
                sagemaker.on(InvokeEndpointCommand).resolves(ok(answer));
                const response = await setup().handler({ url: "https://example.com/a.jpg" });
                expect(response.statusCode, JSON.stringify(answer).slice(0, 40)).to.equal(502);
                expect(bodyOf(response).error?.code).to.equal("BadModelResponse");
            }
        });
    });

    describe("deadline", () => {
        it("answers 504 when the endpoint does not answer within INVOKE_TIMEOUT_MS", async () => {
            sagemaker.on(InvokeEndpointCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve(ok({ predictions: [] })), 1_000)));
            const { handler } = setup({ ...ENV, INVOKE_TIMEOUT_MS: "100" });
            const started = Date.now();

            const response = await handler({ url: "https://example.com/a.jpg" });

            expect(response.statusCode).to.equal(504);
            expect(bodyOf(response).error).to.deep.equal({ code: "Timeout", message: "the model did not answer within 100 ms" });
            expect(Date.now() - started).to.be.below(900);
        });
    });

    describe("configuration", () => {
        const bad: [string, NodeJS.ProcessEnv, string][] = [
            ["ENDPOINT_NAME missing", {}, "ENDPOINT_NAME"],
            ["ENDPOINT_NAME blank", { ENDPOINT_NAME: "  " }, "ENDPOINT_NAME"],
            ["ENDPOINT_NAME invalid", { ENDPOINT_NAME: "arn:aws:sagemaker:us-east-1:1:endpoint/x" }, "ENDPOINT_NAME"],
            ["ALLOW_HTTP_IMAGE_URLS not a boolean", { ...ENV, ALLOW_HTTP_IMAGE_URLS: "yes" }, "ALLOW_HTTP_IMAGE_URLS"],
            ["INVOKE_TIMEOUT_MS not a number", { ...ENV, INVOKE_TIMEOUT_MS: "10s" }, "INVOKE_TIMEOUT_MS"],
            ["INVOKE_TIMEOUT_MS too large", { ...ENV, INVOKE_TIMEOUT_MS: "600000" }, "INVOKE_TIMEOUT_MS"],
            ["IMAGE_FETCH_TIMEOUT_MS not a whole number", { ...ENV, IMAGE_FETCH_TIMEOUT_MS: "2.5" }, "IMAGE_FETCH_TIMEOUT_MS"],
            ["MAX_IMAGE_BYTES beyond SageMaker's payload limit", { ...ENV, MAX_IMAGE_BYTES: "10485760" }, "MAX_IMAGE_BYTES"],
        ];
        for (const [name, env, variable] of bad) {
            it(`${name}: 500 ConfigurationError on every request, logged with the variable, no crash at creation`, async () => {
                const { handler, logs } = setup(env);
                for (let i = 0; i < 2; i++) {
                    const response = await handler({ url: "https://example.com/a.jpg" });
                    expect(response.statusCode).to.equal(500);
                    expect(bodyOf(response).error).to.deep.equal({ code: "ConfigurationError", message: "the function is misconfigured" });
                }
                expect(logs).to.have.length(2);
                expect(logs[0]).to.include({ level: "error", configVariable: variable });
                expect(String(logs[0].errorMessage)).to.include(variable);
                expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
            });
        }
    });

    describe("logging", () => {
        it("writes one structured line per request, without the image URL's query string", async () => {
            sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions: [] }, "AllTraffic"));
            const { handler, logs } = setup();

            await handler({ url: "https://cdn.example.com/dog.jpg?X-Amz-Signature=secret123&token=abc#frag" }, { awsRequestId: "r-log" });

            expect(logs).to.have.length(1);
            const [entry] = logs;
            expect(entry).to.include({ level: "info", requestId: "r-log", statusCode: 200, endpoint: "dog-breeds-prod", variant: "AllTraffic", imageUrl: "https://cdn.example.com/dog.jpg", topK: 5 });
            expect(entry.latencyMs).to.be.a("number").and.be.at.least(0);
            expect(JSON.stringify(entry)).not.to.match(/secret123|token=abc|frag/);
        });

        it("scrubs query strings from URLs quoted in upstream error messages", async () => {
            sagemaker.on(InvokeEndpointCommand).rejects(
                new ModelError({ $metadata: { httpStatusCode: 424 }, message: "failed", OriginalStatusCode: 400, OriginalMessage: "could not fetch https://cdn.example.com/dog.jpg?X-Amz-Signature=secret123" }),
            );
            const { handler, logs } = setup();
            await handler({ url: "https://cdn.example.com/dog.jpg?X-Amz-Signature=secret123" });
            expect(JSON.stringify(logs)).not.to.include("secret123");
            expect(logs[0].originalMessage).to.equal("could not fetch https://cdn.example.com/dog.jpg?[redacted]");
        });

        it("writes the line to stdout as raw JSON by default", async () => {
            sagemaker.on(InvokeEndpointCommand).resolves(ok({ predictions: [] }));
            const handler = createHandler({ env: ENV, fetchImage: servingImage().fetchImage });
            const written: string[] = [];
            const original = process.stdout.write;
            process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
            try {
                await handler({ url: "https://example.com/a.jpg" }, { awsRequestId: "r-stdout" });
            } finally {
                process.stdout.write = original;
            }
            expect(written).to.have.length(1);
            expect(written[0].endsWith("\n")).to.equal(true);
            expect(JSON.parse(written[0])).to.include({ requestId: "r-stdout", statusCode: 200 });
        });
    });
});
