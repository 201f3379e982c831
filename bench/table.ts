/**
 * Prints benchmark results as an aligned text table, one row per measurement, and saves each table with the
 * machine and date to bench/results/<bench>.json, which `npm run docs:bench` writes into docs/benchmarks.md.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface BenchRow {
    [column: string]: string | number;
}

export function formatNumber(value: number, digits = 2): string {
    return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** An aligned Markdown table (header, rule, one line per row): reads as text and renders as a table. */
export function formatTable(rows: BenchRow[]): string[] {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const cells = rows.map((row) =>
        columns.map((column) => {
            const value = row[column];
            if (value === undefined) return "";
            return typeof value === "number" ? formatNumber(value) : value;
        }),
    );
    const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i].length)));
    const line = (values: string[]) => "| " + values.map((v, i) => v.padEnd(widths[i])).join(" | ") + " |";
    return [line(columns), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...cells.map(line)];
}

export interface BenchTable {
    title: string;
    rows: BenchRow[];
}

/** One benchmark's saved run: what `npm run docs:bench` renders. */
export interface BenchResult {
    bench: string;
    date: string;
    machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
    tables: BenchTable[];
}

export const RESULTS_DIR = path.join(__dirname, "results");

export function machineDescription(): BenchResult["machine"] {
    return {
        cpu: os.cpus()[0]?.model.trim() ?? "unknown CPU",
        cores: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
    };
}

/**
 * Adds a table to `<dir>/<bench>.json`. The first table a process saves starts the file afresh, so the file
 * holds exactly the tables of the benchmark's latest run.
 */
export function saveTable(dir: string, bench: string, table: BenchTable, startRun: boolean): void {
    const file = path.join(dir, `${bench}.json`);
    const result: BenchResult = startRun || !fs.existsSync(file)
        ? { bench, date: new Date().toISOString(), machine: machineDescription(), tables: [] }
        : (JSON.parse(fs.readFileSync(file, "utf8")) as BenchResult);
    result.tables.push(table);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
}

let savedInThisProcess = false;

export function printTable(title: string, rows: BenchRow[]): void {
    console.log(`\n${title}`);
    for (const line of formatTable(rows)) console.log(line);
    // Only a benchmark run as bench/<name>.bench.ts (as `npm run bench` runs it) saves its tables.
    const bench = path.basename(process.argv[1] ?? "").match(/^(.+)\.bench\.ts$/)?.[1];
    if (!bench) return;
    saveTable(RESULTS_DIR, bench, { title, rows }, !savedInThisProcess);
    savedInThisProcess = true;
}

/** Percentile of a sample by nearest rank, in the sample's unit. */
export function percentile(samples: number[], p: number): number {
    if (samples.length === 0) throw new Error("percentile of an empty sample");
    const sorted = [...samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
}
