/**
 * The bundle the Pulumi program zips: ensureLambdaBundle() builds it when missing or stale, leaves a fresh one
 * alone, and leaves nothing in lambda-src/dist but index.js and its source map.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildLambdaBundle, ensureLambdaBundle } from "../build";

const dist = path.resolve(__dirname, "..", "dist");
const bundle = path.join(dist, "index.js");
const source = path.resolve(__dirname, "..", "src", "index.ts");

function mtime(file: string): number {
    return fs.statSync(file).mtimeMs;
}

/** Marks the bundle as built just before the handler's source was last written. */
function ageBundle(): number {
    const past = new Date(mtime(source) - 60_000);
    fs.utimesSync(bundle, past, past);
    return mtime(bundle);
}

describe("lambda bundle (lambda-src/build.ts)", function () {
    this.timeout(120_000);

    it("builds a minified CommonJS bundle exporting handler, with only index.js and index.js.map in dist", () => {
        fs.rmSync(dist, { recursive: true, force: true });

        const dir = ensureLambdaBundle();

        expect(dir).to.equal(dist);
        expect(path.isAbsolute(dir)).to.equal(true);
        expect(fs.readdirSync(dir).sort()).to.deep.equal(["index.js", "index.js.map"]);
        const code = fs.readFileSync(bundle, "utf8");
        expect(code.split("\n")[0]).to.match(/^\/\*! lambda-bundle-stamp [0-9a-f]{32} \*\/$/);
        expect(code).to.include("//# sourceMappingURL=index.js.map");
        expect(code.split("\n").length, "minified").to.be.below(50);
        // The default credential chain is aliased away; the SDK's SSO/STS clients must not be in the bundle.
        expect(code).not.to.include("credential-provider-sso");
        const map = JSON.parse(fs.readFileSync(`${bundle}.map`, "utf8")) as { sources: string[] };
        expect(map.sources.some((file) => file === "../src/index.ts")).to.equal(true);
        expect(map.sources.every((file) => !path.isAbsolute(file)), "no absolute paths of the build machine").to.equal(true);

        const probe = spawnSync(process.execPath, ["--no-warnings", "-e", `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`], {
            env: { PATH: process.env.PATH, ENDPOINT_NAME: "probe" },
            encoding: "utf8",
        });
        expect(probe.stdout, probe.stderr).to.equal("function");
    });

    it("leaves a fresh bundle alone", () => {
        ensureLambdaBundle();
        const before = mtime(bundle);
        ensureLambdaBundle();
        expect(mtime(bundle)).to.equal(before);
    });

    it("rebuilds when the stamp no longer matches (options, esbuild, lockfile or source content changed)", () => {
        ensureLambdaBundle();
        const code = fs.readFileSync(bundle, "utf8");
        fs.writeFileSync(bundle, code.replace(/lambda-bundle-stamp [0-9a-f]{32}/, "lambda-bundle-stamp 00000000000000000000000000000000"));

        ensureLambdaBundle();

        expect(fs.readFileSync(bundle, "utf8"), "rebuilt with the current stamp").to.equal(code);
    });

    it("rebuilds when a source file is newer than the bundle", () => {
        ensureLambdaBundle();
        const before = ageBundle();

        ensureLambdaBundle();

        expect(mtime(bundle)).to.be.above(before);
    });

    it("rebuilds when the source map is missing, and clears anything else out of dist", () => {
        ensureLambdaBundle();
        fs.rmSync(`${bundle}.map`);
        fs.writeFileSync(path.join(dist, "stray.txt"), "left over");

        ensureLambdaBundle();

        expect(fs.readdirSync(dist).sort()).to.deep.equal(["index.js", "index.js.map"]);
    });

    it("buildLambdaBundle() always builds and reports the size", () => {
        const info = buildLambdaBundle();
        expect(info.dir).to.equal(dist);
        expect(info.bytes).to.equal(fs.statSync(bundle).size);
    });
});
