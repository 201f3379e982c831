/**
 * `npm test` runs the specs outside PYTHON_SPECS while .venv is still being created, so a spec that needs Python and
 * is missing from the list would meet a half-built environment. Any spec that reaches the project's Python (directly
 * or through a helper it imports) must be listed, and every listed pattern must still match a spec.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { PYTHON_SPECS } from "../partition";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SPEC_ROOTS = ["infra", "policy-pack", "lambda-src", "tools"];
/** What a module that runs the project's Python mentions. */
const NEEDS_PYTHON = /python-env\/python|\.venv\b|demo-model|model-server|trainTinyModel/;

function specs(): string[] {
    return SPEC_ROOTS.flatMap((root) =>
        (fs.readdirSync(path.join(ROOT, root), { recursive: true }) as string[])
            .map((file) => path.join(root, file).split(path.sep).join("/"))
            .filter((file) => file.endsWith(".test.ts") && !file.includes("node_modules/") && /\/test\//.test(file))
            .filter((file) => file !== "tools/test/test/partition.test.ts"),
    );
}

/** The spec's own text and that of the project modules it imports (one level: helpers are where Python hides). */
function textWithImports(spec: string): string {
    const text = fs.readFileSync(path.join(ROOT, spec), "utf8");
    const imported = [...text.matchAll(/from\s+"(\.[^"]+)"/g)].map((match) => {
        const base = path.resolve(path.dirname(path.join(ROOT, spec)), match[1]);
        const file = [`${base}.ts`, path.join(base, "index.ts"), base].find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
        return file ? fs.readFileSync(file, "utf8") : "";
    });
    return [text, ...imported].join("\n");
}

/** mocha's glob patterns as PYTHON_SPECS writes them: `**` spans directories, `*` stays within one. */
function matches(spec: string, pattern: string): boolean {
    const source = pattern.split("**/").map((part) => part.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")).join("(?:.*/)?");
    return new RegExp(`^${source}$`).test(spec);
}

const listed = (spec: string) => PYTHON_SPECS.some((pattern) => matches(spec, pattern));

describe("npm test's partition of the mocha specs", () => {
    it("lists every spec that reaches the project's Python among those run after .venv is ready", () => {
        const unlisted = specs().filter((spec) => NEEDS_PYTHON.test(textWithImports(spec)) && !listed(spec));
        expect(unlisted, "add these to PYTHON_SPECS in tools/test/partition.ts").to.deep.equal([]);
    });

    it("has no pattern that matches no spec", () => {
        const all = specs();
        expect(PYTHON_SPECS.filter((pattern) => !all.some((spec) => matches(spec, pattern)))).to.deep.equal([]);
    });

    it("matches mocha's patterns as mocha does", () => {
        expect(matches("tools/local/test/cli.test.ts", "tools/local/test/**/*.test.ts")).to.equal(true);
        expect(matches("tools/local/test/deep/x.test.ts", "tools/local/test/**/*.test.ts")).to.equal(true);
        expect(matches("tools/local/cli.test.ts", "tools/local/test/**/*.test.ts")).to.equal(false);
        expect(matches("infra/test/contractXtest.ts", "infra/test/contract.test.ts")).to.equal(false);
    });

    it("recognises a spec that runs Python, so the first check can fail", () => {
        expect(NEEDS_PYTHON.test(textWithImports("infra/test/contract.test.ts"))).to.equal(true);
        expect(NEEDS_PYTHON.test(textWithImports("policy-pack/test/iam.test.ts"))).to.equal(false);
    });
});
