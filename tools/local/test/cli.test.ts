/**
 * `npm run local` as a user runs it: a real process, its printed URLs, a request through them, Ctrl-C; and the
 * start-up failures, each exit 2 with one line naming the cause.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar";
import { refusesConnections, startImageHost, trainTinyModel, waitForBanner, watch, type ImageHost, type Run, type TinyModel } from "./support";

const CLI = path.resolve(__dirname, "..", "cli.ts");

function runCli(args: string[]): Run {
    return watch(spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] }));
}

function tempModelDirs(): Set<string> {
    return new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("local-model-")));
}

describe("npm run local (tools/local/cli.ts)", function () {
    // Each start is a JVM, TorchServe and a worker loading the model: well under a minute, more on a busy machine.
    this.timeout(300_000);
    let model: TinyModel;
    let images: ImageHost;

    before(async () => {
        model = await trainTinyModel();
        images = await startImageHost(model.samplesDir);
    });

    after(async () => {
        await images?.close();
    });

    it("serves a model.tar.gz, prints working URLs and a curl line, and stops cleanly on Ctrl-C", async () => {
        const archive = path.join(path.dirname(model.modelDir), "model.tar.gz");
        await tar.c({ gzip: true, file: archive, cwd: model.modelDir }, fs.readdirSync(model.modelDir));
        const before = tempModelDirs();
        const run = runCli(["--model-data", archive, "--port", "0", "--runtime-port", "0", "--page-port", "0", "--lambda-port", "0", "--allow-local-images", "--quiet"]);
        try {
            await waitForBanner(run);
            const out = run.stdout();
            const front = /lambda front: +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
            const modelServer = /model server: +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
            expect(front, out).to.be.a("string");
            expect(out).to.contain(`curl -s -X POST ${front}/ -H 'Content-Type: application/json' -d '{"url":"https://`);
            const unpacked = [...tempModelDirs()].filter((name) => !before.has(name));
            expect(unpacked).to.have.length(1);

            const ping = await fetch(`${modelServer}/ping`);
            expect(ping.status).to.equal(200);
            expect(out).to.match(/runtime API: +http:\/\/127\.0\.0\.1:\d+ +\(POST \/endpoints\/local-endpoint\/invocations/);
            const response = await fetch(`${front}/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ url: `${images.url}/green.png`, topK: 3 }) });
            const body = (await response.json()) as { predictions: { label: string }[] };
            // topK 3: the handler sends its default of 5 otherwise, which this 3-class model refuses.
            expect(response.status, JSON.stringify(body)).to.equal(200);
            expect(body.predictions[0].label).to.equal("green");

            run.child.kill("SIGINT");
            expect(await run.exit).to.equal(0);
            expect(run.stdout()).to.contain("stopping...");
            expect(fs.existsSync(path.join(os.tmpdir(), unpacked[0])), "the unpacked archive is removed").to.equal(false);
            for (const url of [front!, modelServer!]) {
                expect(await refusesConnections(url), `${url} still answers`).to.equal(true);
            }
        } finally {
            run.child.kill("SIGKILL");
        }
    });

    describe("start-up failures: exit 2 and one line naming the cause", function () {
        async function failure(args: string[]): Promise<string> {
            const run = runCli(args);
            const code = await run.exit;
            expect(code, run.stderr()).to.equal(2);
            expect(run.stderr()).not.to.contain("Traceback");
            expect(run.stderr()).not.to.match(/\n\s+at /); // no Node stack either
            return run.stderr();
        }

        it("usage errors", async () => {
            expect(await failure(["--model-dir", "a", "--model-data", "b.tar.gz"])).to.contain("pass at most one of --model-dir <dir> or --model-data <model.tar.gz>");
            expect(await failure(["--model-dir", "x", "--port", "http"])).to.contain('--port must be a port number from 0 to 65535, got "http"');
        });

        it("a missing model directory or archive", async () => {
            expect(await failure(["--model-dir", "no/such/dir"])).to.contain("local: --model-dir no/such/dir is not a directory");
            expect(await failure(["--model-data", "no/such/model.tar.gz"])).to.contain("local: --model-data no/such/model.tar.gz does not exist");
            const notTar = path.join(path.dirname(model.modelDir), "not-a-tarball.tar.gz");
            fs.writeFileSync(notTar, "plain text");
            expect(await failure(["--model-data", notTar])).to.contain(`local: --model-data ${notTar} is not a readable .tar.gz`);
        });

        it("a port in use", async () => {
            const busy = http.createServer();
            await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
            const { port } = busy.address() as AddressInfo;
            try {
                expect(await failure(["--model-dir", model.modelDir, "--port", String(port), "--runtime-port", "0", "--page-port", "0", "--lambda-port", "0"])).to.contain(
                    `local: the model server did not start: port ${port} on 127.0.0.1 is already in use`,
                );
                expect(await failure(["--model-dir", model.modelDir, "--port", "0", "--runtime-port", "0", "--page-port", "0", "--lambda-port", String(port)])).to.contain(
                    `local: --lambda-port ${port} on 127.0.0.1 is already in use`,
                );
            } finally {
                busy.close();
            }
        });

        it("a model that fails to load, with Python's message and no traceback", async () => {
            const broken = fs.mkdtempSync(path.join(path.dirname(model.modelDir), "bad-weights-"));
            fs.cpSync(model.modelDir, broken, { recursive: true });
            fs.writeFileSync(path.join(broken, "model.pth"), "not a state dict");
            const stderr = await failure(["--model-dir", broken, "--port", "0", "--runtime-port", "0", "--page-port", "0", "--lambda-port", "0"]);
            expect(stderr).to.match(new RegExp(`local: the model server did not start: the model in ${broken} failed to load: ModelDirError: .*model\\.pth`), stderr);
        });
    });
});
