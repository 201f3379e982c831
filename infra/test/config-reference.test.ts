import { expect } from "chai";
import * as fs from "node:fs";
import { ConfigError, configReferenceRows, parseConfig, RawConfig } from "../config";
import { CONFIG_REFERENCE_PAGE, END_MARKER, renderConfigReference, START_MARKER, withConfigReference } from "../config-reference";

const page = fs.readFileSync(CONFIG_REFERENCE_PAGE, "utf8");
const existing = { training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz" } };

/** A raw config with `value` at the dotted `key`, on top of `base`. */
function withValue(base: RawConfig, key: string, value: unknown): RawConfig {
    const raw = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    const segments = key.split(".");
    let node = raw;
    for (const segment of segments.slice(0, -1)) node = (node[segment] ??= {}) as Record<string, unknown>;
    node[segments[segments.length - 1]] = value;
    return raw as RawConfig;
}

function valueAt(value: unknown, key: string): unknown {
    return key.split(".").reduce<unknown>((v, segment) => (v as Record<string, unknown>)[segment], value);
}

describe("the configuration reference (docs/configuration.md)", () => {
    const rows = configReferenceRows();

    it("is the table generated from the schema (run `npm run docs:config` after changing infra/config.ts)", () => {
        expect(withConfigReference(page, renderConfigReference())).to.equal(page);
    });

    it("replaces only what lies between the markers", () => {
        const doc = `intro\n${START_MARKER}\nold table\n${END_MARKER}\noutro\n`;
        expect(withConfigReference(doc, "| new |")).to.equal(`intro\n${START_MARKER}\n| new |\n${END_MARKER}\noutro\n`);
        expect(() => withConfigReference("no markers", "x")).to.throw(/has no .* section/);
    });

    it("documents every key with what it means and what is allowed", () => {
        expect(rows.length).to.be.greaterThan(40);
        for (const row of rows) {
            expect(row.description, row.key).to.not.equal("");
            expect(row.allowed, row.key).to.be.a("string");
        }
    });

    it("lists exactly the keys the validator accepts: a wrong value at each is reported at that key", () => {
        for (const row of rows) {
            let problems: string[] = [];
            try {
                parseConfig(withValue(existing, row.key, { not: 1 }), "dev");
            } catch (error) {
                expect(error).to.be.instanceOf(ConfigError);
                problems = (error as ConfigError).problems;
            }
            expect(problems.join("\n"), row.key).to.include(`${row.key} must be ${row.allowed}`);
        }
    });

    it("shows the defaults the validator fills in", () => {
        const config = parseConfig({ ...existing, training: { mode: "tuning" }, data: { s3Uri: "s3://datasets/dog" } }, "dev");
        const literal = rows.filter((row) => row.default?.startsWith("`") && !row.default.startsWith("`training."));
        expect(literal.length).to.be.greaterThan(30);
        for (const row of literal) {
            const shown = (row.default as string).slice(1, -1);
            const actual = valueAt(config, row.key);
            expect(Array.isArray(actual) ? `[${(actual as unknown[]).join(", ")}]` : String(actual), row.key).to.equal(shown);
        }
    });
});
