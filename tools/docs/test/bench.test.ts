import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { saveTable } from "../../../bench/table";
import { BENCHMARKS_PAGE, END_MARKER, readResults, renderResults, START_MARKER, withBenchSection } from "../bench";

describe("npm run docs:bench", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-results-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("renders what a benchmark saved: its tables with the machine and date", () => {
        saveTable(dir, "lambda", { title: "cold start", rows: [{ variant: "handler", "p50 ms": 12.345 }] }, true);
        saveTable(dir, "lambda", { title: "warm", rows: [{ variant: "handler", "p50 ms": 1 }] }, false);
        const results = readResults(dir);
        expect(results.map((r) => r.tables.map((t) => t.title))).to.deep.equal([["cold start", "warm"]]);
        const section = renderResults(results);
        expect(section).to.include("### lambda");
        expect(section).to.match(/Run \d{4}-\d{2}-\d{2} on .+ \(\d+ cores, \d+ GiB\), .+, Node\.js v\d+/);
        expect(section).to.include("`npm run bench -- lambda`");
        expect(section).to.include("**cold start**").and.include("| handler | 12.35  |");
    });

    it("starts a benchmark's file afresh on its next run", () => {
        saveTable(dir, "policy", { title: "old run", rows: [{ n: 1 }] }, true);
        saveTable(dir, "policy", { title: "new run", rows: [{ n: 2 }] }, true);
        expect(readResults(dir)[0].tables.map((t) => t.title)).to.deep.equal(["new run"]);
    });

    it("names a file that is not a saved result, and the field that is wrong", () => {
        fs.writeFileSync(path.join(dir, "broken.json"), JSON.stringify({ bench: "broken", date: "yesterday", machine: {}, tables: [] }));
        expect(() => readResults(dir)).to.throw(/broken\.json is not a saved benchmark result: date/);
        fs.writeFileSync(path.join(dir, "broken.json"), "{");
        expect(() => readResults(dir)).to.throw(/broken\.json is not JSON/);
    });

    it("has no results to render when no benchmark ran", () => {
        expect(readResults(path.join(dir, "missing"))).to.deep.equal([]);
    });

    it("replaces only the generated section of docs/benchmarks.md", () => {
        const page = fs.readFileSync(BENCHMARKS_PAGE, "utf8");
        expect(page).to.include(START_MARKER).and.include(END_MARKER);
        const updated = withBenchSection(page, "TABLES");
        expect(updated).to.include(`${START_MARKER}\nTABLES\n${END_MARKER}`);
        expect(updated.slice(0, updated.indexOf(START_MARKER))).to.equal(page.slice(0, page.indexOf(START_MARKER)));
        expect(() => withBenchSection("no markers", "x")).to.throw(/has no .* section/);
    });
});
