/**
 * Bundles the Lambda handler with esbuild into lambda-src/dist/index.js (+ index.js.map), the directory the
 * Pulumi program zips as the function code. `npm run build` and `tsx lambda-src/build.ts` always build;
 * the Pulumi program calls ensureLambdaBundle(), which rebuilds only when the bundle is missing or stale.
 *
 * Staleness: a stamp (hash of the build options, the esbuild version, the lockfile and every source file) is
 * written as the bundle's first line, so dist/ holds nothing but the two files the function needs.
 */
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTRACT_FILE } from "../infra/contract";

const repoRoot = path.resolve(__dirname, "..");
const srcDir = path.join(__dirname, "src");
const distDir = path.join(__dirname, "dist");
const outfile = path.join(distDir, "index.js");
const STAMP_PREFIX = "/*! lambda-bundle-stamp ";
/** Files outside src/ that the bundle imports: a change to them must rebuild it too. */
const SHARED_INPUTS = ["training-scripts/classifier/address_policy.json", "infra/contract.ts", CONTRACT_FILE].map((file) => path.join(repoRoot, file));

// Paths are relative to the repository so the bundle, its source map and the stamp are the same on every
// machine: a rebuild from a fresh clone must not look like a code change to Pulumi.
const BUILD_OPTIONS = {
    absWorkingDir: repoRoot,
    entryPoints: ["lambda-src/src/index.ts"],
    outfile: "lambda-src/dist/index.js",
    bundle: true,
    platform: "node",
    target: "node22", // the nodejs22.x runtime the Pulumi program deploys
    format: "cjs",
    minify: true,
    sourcemap: true,
    // Stack traces only need the mappings; the sources themselves would just enlarge the deployment zip.
    sourcesContent: false,
    // The SDK's ES-module builds let esbuild drop what the handler never calls (the CommonJS builds cannot).
    mainFields: ["module", "main"],
    // In Lambda the execution role's credentials are always in the environment; the SDK's full default chain
    // (SSO, profiles, STS, IMDS and their nested clients) is dead weight there. See src/lambda-credentials.ts.
    alias: { "@aws-sdk/credential-provider-node": "./lambda-src/src/lambda-credentials.ts" },
    logLevel: "warning",
} satisfies esbuild.BuildOptions;

function listSources(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((entry) => (entry.isDirectory() ? listSources(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
        .sort();
}

function computeStamp(): string {
    const hash = createHash("sha256");
    hash.update(JSON.stringify(BUILD_OPTIONS));
    hash.update(esbuild.version);
    hash.update(fs.readFileSync(path.join(repoRoot, "package-lock.json")));
    hash.update(fs.readFileSync(__filename));
    for (const file of [...listSources(srcDir), ...SHARED_INPUTS]) {
        hash.update(path.relative(repoRoot, file));
        hash.update(fs.readFileSync(file));
    }
    return hash.digest("hex").slice(0, 32);
}

function readStamp(): string | undefined {
    let fd: number;
    try {
        fd = fs.openSync(outfile, "r");
    } catch {
        return undefined;
    }
    try {
        const head = Buffer.alloc(STAMP_PREFIX.length + 64);
        const bytes = fs.readSync(fd, head, 0, head.length, 0);
        const line = head.subarray(0, bytes).toString("utf8").split("\n")[0];
        return line.startsWith(STAMP_PREFIX) ? line.slice(STAMP_PREFIX.length).replace(/ \*\/$/, "") : undefined;
    } finally {
        fs.closeSync(fd);
    }
}

export interface BundleInfo {
    /** Absolute path of lambda-src/dist, the function's code directory. */
    dir: string;
    bytes: number;
    rebuilt: boolean;
}

function build(stamp: string): void {
    // Only index.js and its map may be zipped into the function, so anything else left in dist/ goes.
    fs.rmSync(distDir, { recursive: true, force: true });
    esbuild.buildSync({ ...BUILD_OPTIONS, banner: { js: `${STAMP_PREFIX}${stamp} */` } });
}

/** Always builds: `npm run build` and CI. */
export function buildLambdaBundle(): BundleInfo {
    build(computeStamp());
    return { dir: distDir, bytes: fs.statSync(outfile).size, rebuilt: true };
}

function isStale(stamp: string): boolean {
    if (!fs.existsSync(`${outfile}.map`) || readStamp() !== stamp) return true;
    const builtAt = fs.statSync(outfile).mtimeMs;
    return [...listSources(srcDir), ...SHARED_INPUTS].some((file) => fs.statSync(file).mtimeMs > builtAt);
}

/**
 * SYNCHRONOUS on purpose: the Pulumi program calls it from a component constructor. Rebuilds when the bundle is
 * missing or stale and returns the absolute path of lambda-src/dist.
 */
export function ensureLambdaBundle(): string {
    const stamp = computeStamp();
    if (isStale(stamp)) build(stamp);
    return distDir;
}

if (require.main === module) {
    const info = buildLambdaBundle();
    console.log(`${path.relative(process.cwd(), path.join(info.dir, "index.js"))}: ${(info.bytes / 1024).toFixed(1)} KiB`);
}
