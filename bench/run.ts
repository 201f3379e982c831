/**
 * `npm run bench`: runs every bench/*.bench.ts in its own Node process, one after the other, so that
 * one benchmark's warm caches and loaded modules never flatter the next. Each prints its own table.
 * `npm run bench -- lambda` runs only the benchmarks whose file name contains "lambda".
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const benchDir = __dirname;
const filters = process.argv.slice(2);
const files = fs
    .readdirSync(benchDir)
    .filter((file) => file.endsWith(".bench.ts"))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();

if (files.length === 0) {
    console.error(`no benchmark matches ${filters.join(", ") || "bench/*.bench.ts"}`);
    process.exit(2);
}

let failed = 0;
for (const file of files) {
    console.log(`\n== ${file}`);
    const result = spawnSync(process.execPath, ["--import", "tsx", path.join(benchDir, file)], { stdio: "inherit" });
    if (result.status !== 0) {
        failed++;
        console.error(`${file} failed (exit ${result.status ?? result.signal})`);
    }
}
process.exit(failed === 0 ? 0 : 1);
