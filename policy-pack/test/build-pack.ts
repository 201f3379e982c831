/**
 * The pack's package.json `main` is the compiled bin/index.js (ts-node type-checking the pack at every
 * `pulumi preview` costs seconds of cold start). Whatever starts the pack process from this checkout
 * builds it first, so it never runs a stale bin/.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export const packDir = path.resolve(__dirname, "..");

export function buildPack(): void {
    const tsc = require.resolve("typescript/bin/tsc", { paths: [packDir] });
    try {
        execFileSync(process.execPath, [tsc, "-p", path.join(packDir, "tsconfig.json")], { stdio: "pipe" });
    } catch (err) {
        const output = (err as { stdout?: Buffer }).stdout?.toString() ?? (err as Error).message;
        throw new Error(`building the policy pack (tsc -p policy-pack/tsconfig.json) failed:\n${output}`);
    }
}
