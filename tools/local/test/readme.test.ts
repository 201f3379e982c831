/**
 * The README's `npm run local`, run as the README writes it (default ports, the demo model): it trains the demo
 * model, serves it, and the URLs it prints classify the demo's own held-out images; Ctrl-C stops it.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readmeCommand, REPO_ROOT } from "../../docs/check";
import { refusesConnections, startImageHost, waitForBanner, watch, type ImageHost } from "./support";

describe("the README's npm run local", function () {
    this.timeout(300_000);
    let images: ImageHost | undefined;

    after(async () => {
        await images?.close();
    });

    it("serves the demo model: the printed model server and lambda front classify its held-out images", async () => {
        const command = readmeCommand("npm run local");
        expect(command, "the README's first local command runs the demo model").to.equal("npm run local");
        const run = watch(spawn("bash", ["-c", `exec ${command}`], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true }));
        try {
            await waitForBanner(run);
            const stdout = run.stdout();
            const field = (name: string) => new RegExp(`^${name}: +(\\S+)`, "m").exec(stdout)?.[1];
            const modelLine = stdout.split("\n").find((line) => line.startsWith("model:")) ?? "";
            const modelDir = / in (\S+)$/.exec(modelLine)?.[1];
            expect(modelDir, stdout).to.be.a("string");
            const samplesDir = path.join(path.dirname(modelDir!), "samples");

            const red = fs.readFileSync(path.join(samplesDir, "red.png"));
            const direct = await fetch(`${field("model server")}/invocations`, { method: "POST", headers: { "Content-Type": "image/png" }, body: red });
            const directBody = (await direct.json()) as { predictions: { label: string }[] };
            expect(direct.status, JSON.stringify(directBody)).to.equal(200);
            expect(directBody.predictions[0].label).to.equal("red");

            images = await startImageHost(samplesDir);
            const viaLambda = await fetch(`${field("lambda front")}/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ url: `${images.url}/blue.png`, topK: 3 }) });
            const viaLambdaBody = (await viaLambda.json()) as { predictions: { label: string }[] };
            expect(viaLambda.status, JSON.stringify(viaLambdaBody)).to.equal(200);
            expect(viaLambdaBody.predictions[0].label).to.equal("blue");

            const page = await fetch(field("page")!);
            expect(page.status).to.equal(200);
            expect(page.headers.get("content-type")).to.match(/^text\/html/);

            // Ctrl-C in a terminal: SIGINT to the whole process group, npm included (which then dies of it).
            process.kill(-run.child.pid!, "SIGINT");
            await run.exit;
            expect(run.stdout()).to.include("stopping...");
            for (const name of ["model server", "lambda front"]) {
                expect(await refusesConnections(field(name)!), `${name} still answers after Ctrl-C`).to.equal(true);
            }
        } finally {
            try {
                process.kill(-run.child.pid!, "SIGKILL");
            } catch {
                // already gone
            }
        }
    });
});
