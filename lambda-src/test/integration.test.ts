/**
 * The real handler through the real SDK (signing, retries, error parsing, HTTP) against the loopback SageMaker
 * Runtime server, once from source and once as the bundled lambda-src/dist/index.js in a fresh Node process.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { ensureLambdaBundle } from "../build";
import { createHandler, type HttpResponse, type LogEntry } from "../src/index";
import { LABELS } from "../../infra/contract";
import { JPEG, servingImage, startImageHost, type ImageHost } from "./support/image-hosts";
import { replies, startSageMakerRuntimeServer, TEST_CREDENTIALS, TEST_REGION, type SageMakerRuntimeServer } from "./support/sagemaker-runtime-server";
import { PYTHON } from "../../tools/python-env/python";

const ENDPOINT = "dog-breeds-it";
const SDK_VARIABLES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
] as const;

function bodyOf(response: HttpResponse): { predictions?: { label: string; index: number; probability: number }[]; model?: unknown; error?: { code: string } } {
    return JSON.parse(response.body) as ReturnType<typeof bodyOf>;
}

/** Runs a command with extra environment variables to completion and collects what it printed. */
async function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    return { code, stdout, stderr };
}

const EMF_UNITS = new Set(["Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"]);

/**
 * A log line CloudWatch Logs would extract metrics from, per the embedded metric format specification: `_aws` with
 * a millisecond Timestamp and CloudWatchMetrics directives, each with a Namespace, Dimensions (sets of at most 30
 * names of string members of the line) and Metrics (names of numeric members, with a CloudWatch unit).
 */
function expectEmbeddedMetrics(line: LogEntry): { namespace: string; dimensions: string[][]; metrics: string[] } {
    const aws = line._aws as { Timestamp: unknown; CloudWatchMetrics: unknown } | undefined;
    expect(aws, "_aws").to.be.an("object");
    expect(aws?.Timestamp).to.be.a("number").and.satisfy(Number.isInteger).and.be.within(Date.now() - 60_000, Date.now() + 1000);
    expect(aws?.CloudWatchMetrics).to.be.an("array").with.length(1);
    const [directive] = aws?.CloudWatchMetrics as Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
    expect(directive.Namespace).to.be.a("string").and.match(/^[^:][^:]{0,254}$/);
    for (const set of directive.Dimensions) {
        expect(set.length).to.be.within(1, 30);
        for (const name of set) expect(line[name], `dimension ${name}`).to.be.a("string").and.not.empty;
    }
    for (const metric of directive.Metrics) {
        expect(line[metric.Name], `metric ${metric.Name}`).to.be.a("number");
        expect(EMF_UNITS.has(metric.Unit), metric.Unit).to.equal(true);
    }
    return { namespace: directive.Namespace, dimensions: directive.Dimensions, metrics: directive.Metrics.map((m) => m.Name) };
}

describe("lambda handler: real SDK against the loopback SageMaker Runtime server", function () {
    let server: SageMakerRuntimeServer;
    let images: ImageHost;
    const saved: Partial<Record<(typeof SDK_VARIABLES)[number], string>> = {};

    before(async () => {
        server = await startSageMakerRuntimeServer({ endpoints: [ENDPOINT] });
        images = await startImageHost({ "/dog.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG } });
        for (const name of SDK_VARIABLES) {
            saved[name] = process.env[name];
            delete process.env[name];
        }
        Object.assign(process.env, {
            AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
            AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
            AWS_REGION: TEST_REGION,
            AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: server.url,
            // No shared config files of this machine may change the client's behaviour.
            AWS_CONFIG_FILE: path.join(__dirname, "no-such-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE: path.join(__dirname, "no-such-aws-credentials"),
        });
    });

    after(async () => {
        for (const name of SDK_VARIABLES) {
            if (saved[name] === undefined) delete process.env[name];
            else process.env[name] = saved[name];
        }
        await server.close();
        await images.close();
    });

    beforeEach(() => {
        server.invocations.length = 0;
        server.rejected.length = 0;
        server.respondWith(() => replies.ok({ predictions: [{ label: "Beagle", index: 15, probability: 0.93 }] }, "AllTraffic"));
    });

    /** The handler with every image URL answered by one JPEG; the real fetch has its own tests below and in image-fetch.test.ts. */
    function handlerFor(env: NodeJS.ProcessEnv = {}) {
        const logs: LogEntry[] = [];
        return { handler: createHandler({ env: { ENDPOINT_NAME: ENDPOINT, ...env }, log: (entry) => logs.push(entry), fetchImage: servingImage().fetchImage }), logs };
    }

    it("fetches the image from its host and invokes the endpoint with its bytes, end to end", async () => {
        const logs: LogEntry[] = [];
        const handler = createHandler({
            env: { ENDPOINT_NAME: ENDPOINT, IMAGE_FETCH_ALLOW_PRIVATE: "true", ALLOW_HTTP_IMAGE_URLS: "true" },
            log: (entry) => logs.push(entry),
        });
        const response = await handler({ url: `${images.url}/dog.jpg`, topK: 1 });
        expect(response.statusCode, response.body).to.equal(200);
        const [invocation] = server.invocations;
        expect(invocation.headers).to.include({ "content-type": "image/jpeg", accept: "application/json; topk=1" });
        expect(invocation.body.equals(JPEG)).to.equal(true);
        expect(invocation.signatureVerified).to.equal(true);
        expect(logs[0]).to.include({ imageBytes: JPEG.length, imageType: "image/jpeg" });
        expect(logs[0].fetchMs).to.be.a("number");
    });

    it("invokes the endpoint with a SigV4-signed InvokeEndpoint request and returns its predictions", async () => {
        const { handler, logs } = handlerFor();

        const response = await handler({ url: "https://images.example.com/beagle.jpg?sig=1", topK: 3 }, { awsRequestId: "it-1" });

        expect(response.statusCode, response.body).to.equal(200);
        expect(bodyOf(response)).to.deep.equal({
            predictions: [{ label: "Beagle", index: 15, probability: 0.93 }],
            model: { endpoint: ENDPOINT, variant: "AllTraffic" },
        });
        expect(server.rejected).to.deep.equal([]);
        expect(server.invocations).to.have.length(1);
        const [invocation] = server.invocations;
        expect(invocation).to.include({ endpointName: ENDPOINT, path: `/endpoints/${ENDPOINT}/invocations`, region: TEST_REGION, service: "sagemaker", signatureVerified: true });
        expect(invocation.headers).to.include({ "content-type": "image/jpeg", accept: "application/json; topk=3", "x-amz-security-token": TEST_CREDENTIALS.sessionToken });
        expect(invocation.body.equals(JPEG)).to.equal(true);
        expect(logs[0]).to.include({ statusCode: 200, variant: "AllTraffic", imageUrl: "https://images.example.com/beagle.jpg" });
    });

    it("reuses one keep-alive connection across warm invocations", async () => {
        const { handler } = handlerFor();
        for (let i = 0; i < 5; i++) expect((await handler({ url: "https://example.com/a.jpg" })).statusCode).to.equal(200);
        expect(server.invocations).to.have.length(5);
        const connections = new Set(server.invocations.map((invocation) => invocation.remotePort));
        expect(connections.size).to.equal(1);
    });

    it("honours AWS_ENDPOINT_URL when no service-specific endpoint is set", async () => {
        const specific = process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME;
        delete process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME;
        process.env.AWS_ENDPOINT_URL = server.url;
        try {
            const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
            expect(response.statusCode, response.body).to.equal(200);
            expect(server.invocations).to.have.length(1);
        } finally {
            delete process.env.AWS_ENDPOINT_URL;
            process.env.AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME = specific;
        }
    });

    it("turns the course endpoint's raw logits into labelled softmax top-k", async () => {
        server.respondWith(() => replies.ok([LABELS.map((_, i) => (i === 95 ? 8 : 0))]));
        const response = await handlerFor().handler({ url: "https://example.com/lab.jpg", topK: 2 });
        const { predictions } = bodyOf(response);
        expect(predictions?.map((p) => p.label)).to.deep.equal(["Labrador retriever", "Affenpinscher"]);
        expect(predictions?.[0].probability).to.be.closeTo(Math.exp(8) / (Math.exp(8) + 132), 1e-12);
    });

    it("ModelError (424) -> 502, without the model's traceback, log ARN or account id in the body", async () => {
        server.respondWith(() => replies.modelError(500, 'Traceback (most recent call last):\n  File "/opt/ml/model/code/inference.py", line 40', ENDPOINT));
        const { handler, logs } = handlerFor();

        const response = await handler({ url: "https://example.com/a.jpg" });

        expect(response.statusCode).to.equal(502);
        expect(bodyOf(response).error?.code).to.equal("ModelError");
        expect(response.body).not.to.match(/Traceback|arn:aws|123456789012|inference\.py/);
        expect(server.invocations, "a ModelError is not retried").to.have.length(1);
        expect(logs[0]).to.include({ errorName: "ModelError", upstreamStatus: 424, originalStatusCode: 500 });
    });

    for (const [original, status] of [
        [400, 400],
        [413, 413],
    ] as const) {
        it(`ModelError (424) from the model's ${original} -> ${status} ImageRejected, the model's text only in the log`, async () => {
            const refusal = "refusing to fetch https://img.example.com/a.jpg: 10.1.2.3 is a private or reserved address";
            server.respondWith(() => replies.modelError(original, refusal, ENDPOINT));
            const { handler, logs } = handlerFor();

            const response = await handler({ url: "https://img.example.com/a.jpg" });

            expect(response.statusCode).to.equal(status);
            expect(bodyOf(response).error?.code).to.equal("ImageRejected");
            expect(response.body).not.to.match(/refusing|10\.1\.2\.3|arn:aws|123456789012/);
            expect(server.invocations, "a refused image is not retried").to.have.length(1);
            expect(logs[0]).to.include({ level: "warn", errorName: "ModelError", upstreamStatus: 424, originalStatusCode: original, originalMessage: refusal });
        });
    }

    it("ValidationError for an unknown endpoint (400) -> 503 ModelUnavailable, account id kept out of the body", async () => {
        const response = await handlerFor({ ENDPOINT_NAME: "no-such-endpoint" }).handler({ url: "https://example.com/a.jpg" });
        expect(response.statusCode).to.equal(503);
        expect(bodyOf(response).error?.code).to.equal("ModelUnavailable");
        expect(response.body).not.to.include("123456789012");
    });

    for (const [name, reply] of [
        ["ThrottlingException (429)", replies.throttling()],
        ["ServiceUnavailable (503)", replies.serviceUnavailable()],
    ] as const) {
        it(`${name} -> retried once, then 503 with Retry-After`, async () => {
            server.respondWith(() => reply);
            const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
            expect(response.statusCode).to.equal(503);
            expect(response.headers["Retry-After"]).to.be.a("string");
            expect(server.invocations).to.have.length(2);
        });
    }

    it("a throttled first attempt is retried and succeeds", async () => {
        let calls = 0;
        server.respondWith(() => (++calls === 1 ? replies.throttling() : replies.ok({ predictions: [{ label: "Akita", index: 3, probability: 0.5 }] })));
        const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
        expect(response.statusCode).to.equal(200);
        expect(bodyOf(response).predictions?.[0].label).to.equal("Akita");
        expect(server.invocations).to.have.length(2);
    });

    it("InternalFailure (500) -> 502 UpstreamError after one retry", async () => {
        server.respondWith(() => replies.internalFailure());
        const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
        expect(response.statusCode).to.equal(502);
        expect(bodyOf(response).error?.code).to.equal("UpstreamError");
        expect(server.invocations).to.have.length(2);
    });

    it("a slow endpoint -> 504 at INVOKE_TIMEOUT_MS", async () => {
        server.respondWith(() => replies.delayed(replies.ok({ predictions: [] }), 3_000));
        const started = Date.now();
        const response = await handlerFor({ INVOKE_TIMEOUT_MS: "300" }).handler({ url: "https://example.com/a.jpg" });
        const elapsed = Date.now() - started;
        expect(response.statusCode).to.equal(504);
        expect(bodyOf(response).error?.code).to.equal("Timeout");
        expect(elapsed).to.be.below(2_500);
        // The deadline also stops the SDK: no retry of the timed-out attempt reaches the endpoint afterwards.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(server.invocations).to.have.length(1);
    });

    it("credentials the service does not know -> 500 InternalError, the signature refused by the server", async () => {
        const key = process.env.AWS_ACCESS_KEY_ID;
        process.env.AWS_ACCESS_KEY_ID = "AKIAUNKNOWNKEY000000";
        try {
            const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
            expect(response.statusCode).to.equal(500);
            expect(bodyOf(response).error?.code).to.equal("InternalError");
            expect(server.rejected[0].errorType).to.equal("UnrecognizedClientException");
        } finally {
            process.env.AWS_ACCESS_KEY_ID = key;
        }
    });

    it("a signature over the wrong secret is refused by the server's SigV4 check", async () => {
        const secret = process.env.AWS_SECRET_ACCESS_KEY;
        process.env.AWS_SECRET_ACCESS_KEY = "not-the-secret-the-server-knows";
        try {
            const response = await handlerFor().handler({ url: "https://example.com/a.jpg" });
            expect(response.statusCode).to.equal(500);
            expect(server.rejected.map((r) => r.errorType)).to.include("InvalidSignatureException");
            expect(server.invocations).to.have.length(0);
        } finally {
            process.env.AWS_SECRET_ACCESS_KEY = secret;
        }
    });

    it("boto3 (the course's client) is served too: its signature verifies and it parses the ModelError shape", async () => {
        let calls = 0;
        server.respondWith(() => (++calls === 1 ? replies.ok({ predictions: [] }) : replies.modelError(400, "cannot identify image file", ENDPOINT)));
        const script = [
            "import os, boto3",
            "c = boto3.client('sagemaker-runtime', endpoint_url=os.environ['AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME'])",
            `print(c.invoke_endpoint(EndpointName='${ENDPOINT}', ContentType='application/json', Body=b'{"url": "https://example.com/a.jpg"}')['Body'].read().decode())`,
            "try:",
            `    c.invoke_endpoint(EndpointName='${ENDPOINT}', ContentType='application/json', Body=b'{}')`,
            "except c.exceptions.ModelError as e:",
            "    print(e.response['Error']['Code'], e.response['OriginalStatusCode'], e.response['ResponseMetadata']['HTTPStatusCode'])",
        ].join("\n");
        const { code, stdout, stderr } = await runProcess(PYTHON, ["-c", script], { AWS_DEFAULT_REGION: TEST_REGION, HOME: __dirname });

        expect(code, stderr).to.equal(0);
        expect(stdout.trim().split("\n")).to.deep.equal(['{"predictions":[]}', "ModelError 400 424"]);
        expect(server.rejected).to.deep.equal([]);
        expect(server.invocations.map((invocation) => invocation.signatureVerified)).to.deep.equal([true, true]);
    });

    it("its log line carries embedded metrics: latency per endpoint and the top prediction's probability, the top label as a field", async () => {
        const { handler, logs } = handlerFor();
        const signed = "https://bucket.s3.amazonaws.com/dog.jpg?X-Amz-Credential=AKIASECRET%2F20260101&X-Amz-Signature=0123abcd&X-Amz-Security-Token=tok";
        const response = await handler({ url: signed, topK: 2 }, { awsRequestId: "emf-1" });
        expect(response.statusCode, response.body).to.equal(200);
        expect(logs).to.have.length(1);
        const emf = expectEmbeddedMetrics(logs[0]);
        expect(emf).to.deep.equal({ namespace: "sagemaker-classifier/InferenceApi", dimensions: [["endpoint"]], metrics: ["latencyMs", "fetchMs", "topProbability"] });
        expect(logs[0]).to.include({ endpoint: ENDPOINT, topLabel: "Beagle", topProbability: 0.93 });
        // What CloudWatch stores is the line as written: no signature, credential or query string in it.
        const written = JSON.stringify(logs[0]);
        expect(written).to.not.match(/AKIASECRET|0123abcd|X-Amz-Signature=|tok\b|\?X-Amz/);
        expect(logs[0].imageUrl).to.equal("https://bucket.s3.amazonaws.com/dog.jpg");
    });

    it("an error's log line adds the error code as a dimension, so failures count per code", async () => {
        server.respondWith(() => replies.throttling());
        const { handler, logs } = handlerFor({ AWS_MAX_ATTEMPTS: "1" });
        const response = await handler({ url: "https://example.com/a.jpg?token=hunter2" });
        expect(response.statusCode).to.equal(503);
        const emf = expectEmbeddedMetrics(logs[0]);
        expect(emf.dimensions).to.deep.equal([["endpoint"], ["endpoint", "errorCode"]]);
        expect(emf.metrics).to.deep.equal(["latencyMs", "fetchMs"]);
        expect(logs[0]).to.include({ errorCode: "Throttled" });
        expect(JSON.stringify(logs[0])).to.not.include("hunter2");
    });

    it("a function without its endpoint configured logs no metrics rather than invalid ones", async () => {
        const logs: LogEntry[] = [];
        const response = await createHandler({ env: {}, log: (entry) => logs.push(entry), fetchImage: servingImage().fetchImage })({ url: "https://example.com/a.jpg" });
        expect(response.statusCode).to.equal(500);
        expect(logs[0]).to.not.have.property("_aws");
    });

    it("the bundled lambda-src/dist/index.js, loaded the way Lambda loads it, serves a request", async function () {
        this.timeout(120_000);
        const dist = ensureLambdaBundle();
        const script = `
            const { handler } = require(${JSON.stringify(path.join(dist, "index.js"))});
            handler({ url: ${JSON.stringify(`${images.url}/dog.jpg`)}, topK: 1 }, { awsRequestId: "dist-1" })
                .then((response) => process.stderr.write("RESPONSE " + JSON.stringify(response) + "\\n"));`;
        const { code, stdout, stderr } = await runProcess(process.execPath, ["--no-warnings", "--enable-source-maps", "-e", script], {
            ENDPOINT_NAME: ENDPOINT,
            // The image host is on loopback, over http.
            IMAGE_FETCH_ALLOW_PRIVATE: "true",
            ALLOW_HTTP_IMAGE_URLS: "true",
            NODE_OPTIONS: "",
        });

        expect(code, stderr).to.equal(0);
        const response = JSON.parse(stderr.split("RESPONSE ")[1]) as HttpResponse;
        expect(response.statusCode).to.equal(200);
        expect(bodyOf(response).model).to.deep.equal({ endpoint: ENDPOINT, variant: "AllTraffic" });
        expect(server.invocations[0].signatureVerified).to.equal(true);
        expect(server.invocations[0].body.equals(JPEG), "the bundle fetched the image and sent its bytes").to.equal(true);
        const log = JSON.parse(stdout.trim()) as LogEntry;
        expect(log).to.include({ requestId: "dist-1", statusCode: 200, endpoint: ENDPOINT });
        expectEmbeddedMetrics(log);
    });
});
