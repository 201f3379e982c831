import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { brokenLinks, documentationFiles, headingAnchors, headingSlug, historyNarration, README_MAX_LINES, REPO_ROOT } from "../check";

describe("README.md and docs/", () => {
    const files = documentationFiles();

    it("has the README and a page per subject", () => {
        const names = files.map((f) => path.relative(REPO_ROOT, f));
        expect(names).to.include.members(["README.md", "docs/configuration.md", "docs/lifecycle.md", "docs/policies.md", "docs/cost.md", "docs/benchmarks.md"]);
    });

    it("every relative link resolves to a file, and every #anchor to one of its headings", () => {
        expect(files.flatMap((f) => brokenLinks(f))).to.deep.equal([]);
    });

    it(`the README stays a guide of at most ${README_MAX_LINES} lines`, () => {
        const lines = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
        expect(lines).to.be.at.most(README_MAX_LINES);
    });

    it("links every docs page from the README", () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const unlinked = files.slice(1).map((f) => `docs/${path.basename(f)}`).filter((page) => !readme.includes(`](${page}`));
        expect(unlinked).to.deep.equal([]);
    });

    it("no page narrates history", () => {
        expect(files.flatMap((f) => historyNarration(f))).to.deep.equal([]);
    });

    it("every `npm run <script>` the pages show is a script of package.json", () => {
        const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
        const missing = files.flatMap((f) =>
            [...fs.readFileSync(f, "utf8").matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]).filter((s) => !scripts.includes(s)).map((s) => `${path.relative(REPO_ROOT, f)}: npm run ${s}`));
        expect(missing).to.deep.equal([]);
    });
});

describe("the documentation checks themselves", () => {
    let root: string;
    const write = (name: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        fs.writeFileSync(path.join(root, name), text);
        return path.join(root, name);
    };
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "docs-check-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("slugs headings as GitHub does", () => {
        expect(headingSlug("Where is my deployment? `npm run status`")).to.equal("where-is-my-deployment-npm-run-status");
        expect(headingSlug("What each config change does on the next `pulumi up`")).to.equal("what-each-config-change-does-on-the-next-pulumi-up");
        expect(headingSlug("Alarms, the dashboard and data capture")).to.equal("alarms-the-dashboard-and-data-capture");
        expect([...headingAnchors("# Setup\n## Setup\n```bash\n# not a heading\n```\n")]).to.deep.equal(["setup", "setup-1"]);
    });

    it("finds a missing file, a missing anchor and an anchor into a file that is not Markdown", () => {
        write("docs/page.md", "# Page\n\n## Real section\n");
        write("data.json", "{}");
        const readme = write("README.md", [
            "[ok](docs/page.md#real-section) [ok](https://example.com/x#y) [ok](#top)",
            "# Top",
            "[gone](docs/missing.md)",
            "[bad anchor](docs/page.md#unreal-section)",
            "[json anchor](data.json#x)",
            "```",
            "[in code](docs/missing.md)",
            "```",
            "`[inline code](docs/missing.md)`",
        ].join("\n"));
        expect(brokenLinks(readme, root)).to.deep.equal([
            "README.md:3: docs/missing.md: no such file",
            "README.md:4: docs/page.md#unreal-section: docs/page.md has no heading with anchor #unreal-section",
            "README.md:5: data.json#x: an anchor into a file that is not Markdown",
        ]);
    });

    it("finds history narration in prose and leaves code alone", () => {
        const page = write("docs/page.md", "It used to retry.\nThis previously failed.\n`no longer` in code\n```\nused to\n```\nIt is used for retries.\n");
        expect(historyNarration(page, root)).to.deep.equal(['docs/page.md:1: "used to"', 'docs/page.md:2: "previously"']);
    });
});
