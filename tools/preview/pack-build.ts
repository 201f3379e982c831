/**
 * A pack whose `main` is compiled JavaScript (as this project's is, for a fast start) must not run stale:
 * `pulumi preview` would silently use the last build. Before starting such a pack, the preview rebuilds it
 * with its own `build` script when `main` is missing or older than any of its TypeScript sources.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PolicyPackError } from "./pack-process";

const SKIPPED_DIRS = new Set(["node_modules", "test", ".git"]);

function newestSource(dir: string, skip: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            if (!SKIPPED_DIRS.has(entry.name) && full !== skip) newest = Math.max(newest, newestSource(full, skip));
        } else if (/\.ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
            newest = Math.max(newest, fs.statSync(full).mtimeMs);
        } else if (entry.name === "tsconfig.json" || entry.name === "package.json") {
            newest = Math.max(newest, fs.statSync(full).mtimeMs);
        }
    }
    return newest;
}

/** Returns true when it ran the pack's build. */
export function ensurePackBuilt(packDir: string, log: (line: string) => void): boolean {
    const dir = path.resolve(packDir);
    let manifest: { main?: string; scripts?: Record<string, string> };
    try {
        manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
        return false; // The start itself reports a pack without a readable package.json.
    }
    const main = manifest.main ? path.resolve(dir, manifest.main) : undefined;
    if (!main || !/\.c?js$/.test(main) || !manifest.scripts?.build) return false;
    const builtAt = fs.existsSync(main) ? fs.statSync(main).mtimeMs : -1;
    if (builtAt >= newestSource(dir, path.dirname(main))) return false;

    log(`building policy pack ${packDir} (${path.relative(dir, main)} is ${builtAt < 0 ? "missing" : "older than its sources"})`);
    const result = spawnSync("npm", ["run", "--silent", "build"], { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) {
        throw new PolicyPackError(`policy pack ${packDir}: its build script failed (exit ${result.status ?? result.signal})`, `${result.stdout ?? ""}${result.stderr ?? ""}`);
    }
    return true;
}
