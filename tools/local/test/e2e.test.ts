/**
 * The whole request path on one machine: a model trained by train.py, served by the real TorchServe through the SageMaker
 * PyTorch toolkit with the project's handler, behind the local Runtime API front, invoked by the bundled Lambda handler through the real SDK (SigV4, retries, error parsing) behind the Function URL-style
 * front, with the image fetched by the model from a loopback host. Then the failure paths, end to end.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { startLocal, type LocalMode } from "../local";
import { startImageHost, trainTinyModel, type ImageHost, type TinyModel } from "./support";

const ENDPOINT = "local-e2e";
const SDK_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] as const;

interface Answer {
    status: number;
    headers: Headers;
    body: {
        predictions?: { label: string; index: number; probability: number }[];
        model?: { endpoint: string; variant: string };
        error?: { code: string; message: string };
    };
}

async function ask(front: string, payload: unknown): Promise<Answer> {
    const response = await fetch(`${front}/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Answer["body"] };
}

describe("local mode end to end: Function URL front -> bundled handler -> SDK -> Runtime API front -> TorchServe -> serving_handler.py", function () {
    this.timeout(300_000);
    let model: TinyModel;
    let images: ImageHost;
    let local: LocalMode;
    const logs: Record<string, unknown>[] = [];
    const saved: Partial<Record<(typeof SDK_VARIABLES)[number], string>> = {};

    before(async function () {
        for (const name of SDK_VARIABLES) saved[name] = process.env[name];
        model = await trainTinyModel();
        images = await startImageHost(model.samplesDir);
        local = await startLocal({
            modelDir: model.modelDir,
            port: 0,
            runtimePort: 0,
            lambdaPort: 0,
            endpointName: ENDPOINT,
            allowLocalImages: true,
            quiet: true,
            modelServerLog: "ignore",
            handlerLog: (entry) => logs.push(entry),
        });
    });

    after(async () => {
        await local?.stop();
        await images?.close();
        for (const name of SDK_VARIABLES) {
            if (saved[name] === undefined) delete process.env[name];
            else process.env[name] = saved[name];
        }
    });

    beforeEach(() => {
        logs.length = 0;
    });

    for (const label of ["red", "blue"]) {
        it(`predicts "${label}" for a held-out ${label} image`, async () => {
            const answer = await ask(local.front.url, { url: `${images.url}/${label}.png`, topK: 3 });

            expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
            expect(answer.body.model).to.deep.equal({ endpoint: ENDPOINT, variant: "AllTraffic" });
            const predictions = answer.body.predictions!;
            expect(predictions.map((p) => p.label)).to.have.members(model.labels);
            expect(predictions[0].label).to.equal(label);
            expect(predictions[0].probability).to.be.greaterThan(0.5);
            expect(answer.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
            expect(logs).to.have.length(1);
            expect(logs[0]).to.include({ statusCode: 200, endpoint: ENDPOINT, variant: "AllTraffic" });
        });
    }

    it("answers a request without topK with every class of a model smaller than the default top 5", async () => {
        const answer = await ask(local.front.url, { url: `${images.url}/blue.png` });

        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
        expect(answer.body.predictions!.map((p) => p.label)).to.have.members(model.labels);
        expect(answer.body.predictions![0].label).to.equal("blue");
    });

    const REJECTED = {
        code: "ImageRejected",
        message:
            "the endpoint could not use the image at this URL: it must be a reachable public https JPEG or PNG within the size limits " +
            "(and topK, if given, at most the model's number of classes)",
    };

    // The handler fetches the image itself: a host it cannot use is the caller's problem, answered before the model.
    it("reports an unreachable image as 400 ImageRejected naming the URL, without calling the model", async () => {
        const answer = await ask(local.front.url, { url: images.unreachableUrl });

        expect(answer.status).to.equal(400);
        expect(answer.body.error?.code).to.equal("ImageRejected");
        expect(answer.body.error?.message).to.contain(`fetching ${images.unreachableUrl} failed`);
        expect(logs[0]).to.include({ level: "warn", errorCode: "ImageRejected" });
        expect(logs[0]).not.to.have.property("originalStatusCode");
    });

    it("reports a URL that is not an image as 400 ImageRejected, judged by its bytes", async () => {
        const answer = await ask(local.front.url, { url: `${images.url}/page.html` });

        expect(answer.status).to.equal(400);
        expect(answer.body.error?.code).to.equal("ImageRejected");
        expect(answer.body.error?.message).to.contain("did not return a JPEG or PNG image");
        expect(logs[0]).not.to.have.property("originalStatusCode");
    });

    it("reports a model refusing the request (topK above its 3 classes) as 400 ImageRejected", async () => {
        const answer = await ask(local.front.url, { url: `${images.url}/red.png`, topK: 10 });

        expect(answer.status).to.equal(400);
        expect(answer.body.error).to.deep.equal(REJECTED);
        expect(logs[0]).to.include({ originalStatusCode: 400 });
        expect(String(logs[0].originalMessage)).to.contain("exceeds the number of classes (3)");
    });

    it("reports an image over the endpoint's payload limit as 413 ImageRejected", async () => {
        const answer = await ask(local.front.url, { url: `${images.url}/huge.png` });

        expect(answer.status).to.equal(413);
        expect(answer.body.error?.code).to.equal("ImageRejected");
        expect(answer.body.error?.message).to.match(/the image at .*huge\.png is \d+ bytes; the limit is \d+/);
        expect(logs[0]).not.to.have.property("originalStatusCode");
    });

    it("reads a JSON body sent the way plain `curl -d` sends it (form-urlencoded)", async () => {
        const response = await fetch(`${local.front.url}/`, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: JSON.stringify({ url: `${images.url}/blue.png`, topK: 1 }),
        });
        const body = (await response.json()) as Answer["body"];

        expect(response.status, JSON.stringify(body)).to.equal(200);
        expect(body.predictions!.map((p) => p.label)).to.deep.equal(["blue"]);
    });

    it("keeps bad requests away from the model: the metadata address is refused by the handler with 400, local images or not", async () => {
        const answer = await ask(local.front.url, { url: "http://169.254.169.254/latest/meta-data/" });

        expect(answer.status).to.equal(400);
        expect(answer.body.error?.code).to.equal("InvalidUrl");
    });

    it("reports the model server being down as 503 ModelUnavailable with Retry-After", async () => {
        expect(await local.modelServer.stop()).to.equal(0);

        const answer = await ask(local.front.url, { url: `${images.url}/red.png` });

        expect(answer.status).to.equal(503);
        expect(answer.body.error?.code).to.equal("ModelUnavailable");
        expect(answer.headers.get("retry-after")).to.equal("5");
        expect(logs[0]).to.include({ errorName: "ServiceUnavailable", upstreamStatus: 503 });
    });

    it("reports a model whose forward pass raises as 502 ModelError, from the model's 500", async function () {
        const broken = fs.mkdtempSync(path.join(path.dirname(model.modelDir), "broken-"));
        fs.cpSync(model.modelDir, broken, { recursive: true });
        const script = path.join(broken, "code", "inference.py");
        // A user's broken inference script: the real handlers, but the forward pass fails.
        fs.appendFileSync(script, "\n\ndef predict_fn(input_data, model):\n    raise RuntimeError('forward pass exploded')\n");
        const brokenLogs: Record<string, unknown>[] = [];
        const second = await startLocal({
            modelDir: broken,
            port: 0,
            runtimePort: 0,
            lambdaPort: 0,
            endpointName: ENDPOINT,
            allowLocalImages: true,
            quiet: true,
            modelServerLog: "ignore",
            handlerLog: (entry) => brokenLogs.push(entry),
        });
        try {
            const answer = await ask(second.front.url, { url: `${images.url}/red.png` });

            expect(answer.status).to.equal(502);
            expect(answer.body.error).to.deep.equal({ code: "ModelError", message: "the model failed while classifying the image" });
            expect(brokenLogs[0]).to.include({ errorName: "ModelError", originalStatusCode: 500 });
            // The container answers a fixed message; the cause is in its own log only.
            expect(String(brokenLogs[0].originalMessage)).to.contain("the model failed to classify the image");
            expect(String(brokenLogs[0].originalMessage)).not.to.contain("forward pass exploded");
            // The JVM copies the worker's traceback into the model server's log on its own time, after the answer.
            const log = () => second.modelServer.logLines().join("\n");
            for (const deadline = Date.now() + 15_000; !log().includes("forward pass exploded") && Date.now() < deadline;) {
                await new Promise((resolve) => setTimeout(resolve, 200));
            }
            expect(log()).to.contain("RuntimeError: forward pass exploded");
        } finally {
            await second.stop();
        }
    });
});
