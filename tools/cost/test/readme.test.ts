import { expect } from "chai";
import * as fs from "node:fs";
import { COST_PAGE, END_MARKER, renderCostSection, START_MARKER, withCostSection } from "../readme";

describe("docs/cost.md's generated section", function () {
    this.timeout(120_000);

    it("is exactly what the cost tool computes for the project's stacks from the snapshot", async () => {
        const page = fs.readFileSync(COST_PAGE, "utf8");
        const section = await renderCostSection();
        expect(withCostSection(page, section), "docs/cost.md is stale: run `npm run docs:cost`").to.equal(page);
        expect(section).to.match(/\*\*dev\*\*: idle \$[0-9.]+\/h/);
        expect(section).to.match(/\| classifier-endpoint +\| Endpoint +\| 0\.115 +\| 0\.460 /);
    });

    it("refuses a page without its markers", () => {
        expect(() => withCostSection("# no section", "x")).to.throw(START_MARKER.slice(0, 20));
        expect(END_MARKER).to.equal("<!-- cost:end -->");
    });
});
