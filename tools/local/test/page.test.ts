/**
 * The try-it page of `npm run local`, as a person uses it, in headless Chromium (Debian's `chromium` driven by
 * playwright-core): the page loads, says it serves the demo model, classifies a generated image given by URL and by
 * a dropped file, shows the breeds as bars, and shows the API's own message for a URL it refuses.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { DEMO_DESCRIPTION } from "../demo-model";
import { startLocal, type LocalMode } from "../local";
import { startImageHost, trainTinyModel, type ImageHost, type TinyModel } from "./support";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// As the machine's probe starts it: no sandbox as root, and nothing that reaches for the network.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function bars(page: Page): Promise<{ label: string; width: number; text: string }[]> {
    await page.locator("#results .bar").first().waitFor({ timeout: 60_000 });
    // Browser-side code as text: this project's TypeScript is compiled without the DOM's types.
    return page.evaluate(`[...document.querySelectorAll("#results .bar")].map((row) => ({
        label: row.querySelector(".label").textContent,
        width: parseFloat(row.querySelector(".fill").style.width),
        text: row.querySelector(".probability").textContent,
    }))`);
}

describe("the try-it page in headless Chromium", function () {
    this.timeout(300_000);
    let model: TinyModel;
    let images: ImageHost;
    let local: LocalMode;
    let browser: Browser;
    let page: Page;

    before(async function () {
        if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (the CI script does) or set CHROMIUM_PATH`);
        model = await trainTinyModel();
        images = await startImageHost(model.samplesDir);
        local = await startLocal({
            modelDir: model.modelDir,
            port: 0,
            runtimePort: 0,
            lambdaPort: 0,
            endpointName: "local-page",
            allowLocalImages: true,
            quiet: true,
            modelServerLog: "ignore",
            handlerLog: () => undefined,
            page: { port: 0, info: { demo: true, description: DEMO_DESCRIPTION, labels: model.labels } },
        });
        browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
        page = await browser.newPage();
        await page.goto(`${local.page!.url}/`);
    });

    after(async () => {
        await browser?.close();
        await local?.stop();
        await images?.close();
    });

    it("says it serves the demo model and which classes it knows", async () => {
        const demo = page.locator("#demo");
        await demo.waitFor({ state: "visible" });
        expect(await demo.textContent()).to.contain("Demo model").and.to.contain("red, green, blue");
    });

    it("classifies an image by URL and shows the classes as bars, most probable first", async () => {
        await page.fill("#url", `${images.url}/green.png`);
        await page.click("#classify");
        const shown = await bars(page);
        expect(shown.map((bar) => bar.label)).to.have.members(model.labels);
        expect(shown[0].label).to.equal("green");
        expect(shown[0].width).to.be.greaterThan(50);
        expect(shown[0].text).to.match(/^\d+\.\d%$/);
        expect(await page.textContent("#error")).to.equal("");
    });

    it("classifies a dropped file", async () => {
        const red = fs.readFileSync(path.join(model.samplesDir, "red.png")).toString("base64");
        await page.evaluate(`(() => {
            const bytes = Uint8Array.from(atob("${red}"), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "red.png", { type: "image/png" }));
            document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        })()`);
        await page.waitForFunction(`document.querySelector("#results .bar .label")?.textContent === "red"`, undefined, { timeout: 60_000 });
        expect((await bars(page))[0].label).to.equal("red");
    });

    it("shows the API's message for a URL it refuses, and no bars", async () => {
        await page.fill("#url", "http://169.254.169.254/latest/meta-data/");
        await page.click("#classify");
        await page.waitForFunction(`/InvalidUrl/.test(document.getElementById("error").textContent)`, undefined, { timeout: 60_000 });
        expect(await page.textContent("#error")).to.match(/^InvalidUrl: /);
        expect(await page.$$("#results .bar")).to.have.length(0);
    });
});
