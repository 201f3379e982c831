/**
 * End-to-end wall time of the offline preview (tools/preview/cli.ts): the program's run, the policy
 * pack's start, the analysis and the report, for `--stack prod` and for generated programs of 500, 1,000
 * and 2,000 resources checked against the project's policy pack. Each figure is the median of a few runs
 * of the command `npm run preview --` executes (package.json's script; npm's own start-up excluded).
 * Targets: prod at most 3 s; 2,000 resources at most 10 s, growing linearly.
 *
 * The CPU time of the whole process tree (CLI, program, policy pack) is shown next to the wall time: on
 * a shared 2-core machine the wall time swings with everything else running, the CPU time much less, so
 * linear growth is judged on the CPU time's marginal cost per resource.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { previewNodeArgs } from "../tools/preview/test/helpers";
import { percentile, printTable, type BenchRow } from "./table";

const REPO = path.resolve(__dirname, "..");
const PREVIEW = previewNodeArgs();
const GENERATED = path.join(REPO, "tools", "preview", "test", "fixtures", "generated-program.ts");
const RUNS = 3;
const PROD_TARGET_S = 3;
const LARGE_TARGET_S = 10;
/** Marginal cost per resource between sizes may vary this much before growth counts as non-linear. */
const LINEARITY_TOLERANCE = 1.5;

interface Run {
    seconds: number;
    cpuSeconds: number;
    resources: number;
    mandatory: number;
    advisory: number;
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU seconds (user + system) of this process's reaped children and their reaped descendants (Linux). */
function childrenCpuSeconds(): number {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    // Fields after the command name: state is field 3; cutime and cstime are fields 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

function preview(args: string[]): Run {
    const cpuBefore = childrenCpuSeconds();
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [...PREVIEW, ...args, "--json"], {
        cwd: REPO,
        encoding: "utf8",
        maxBuffer: 512 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = childrenCpuSeconds() - cpuBefore;
    if (result.status !== 0 && result.status !== 1) {
        throw new Error(`preview ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    }
    const report = JSON.parse(result.stdout) as { summary: { resources: number; mandatory: number; advisory: number } };
    return { seconds, cpuSeconds, ...report.summary };
}

function median(args: string[]): Run {
    const runs = Array.from({ length: RUNS }, () => preview(args));
    return {
        ...runs[0],
        seconds: percentile(runs.map((r) => r.seconds), 50),
        cpuSeconds: percentile(runs.map((r) => r.cpuSeconds), 50),
    };
}

const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function main(): void {
    const rows: BenchRow[] = [];
    // One untimed run so that tsx's transform cache and the OS file cache are warm, as on a developer's machine.
    preview(["--stack", "prod"]);

    const prod = median(["--stack", "prod"]);
    rows.push({
        case: "--stack prod",
        resources: prod.resources,
        "wall s (median)": prod.seconds,
        "CPU s (median)": prod.cpuSeconds,
        "CPU ms/resource": (prod.cpuSeconds * 1000) / prod.resources,
        "marginal CPU ms/resource": "",
        violations: `${prod.mandatory} mandatory, ${prod.advisory} advisory`,
        target: `<= ${PROD_TARGET_S} s`,
        result: verdict(prod.seconds <= PROD_TARGET_S),
    });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-bench-"));
    try {
        let previous: Run | undefined;
        let firstMarginal: number | undefined;
        for (const count of [500, 1000, 2000]) {
            const configFile = path.join(dir, `Pulumi.bench-${count}.yaml`);
            fs.writeFileSync(configFile, `config:\n  aws:region: us-east-1\n  preview-fixtures:resourceCount: "${count}"\n`);
            const run = median([
                "--stack", "prod",
                "--program", path.relative(REPO, GENERATED),
                "--config-file", configFile,
            ]);
            const marginal = previous ? ((run.cpuSeconds - previous.cpuSeconds) * 1000) / (run.resources - previous.resources) : undefined;
            firstMarginal ??= marginal;
            let target = "";
            let result = "";
            if (count === 2000) {
                target = `<= ${LARGE_TARGET_S} s`;
                result = verdict(run.seconds <= LARGE_TARGET_S);
            }
            if (marginal !== undefined && firstMarginal !== undefined && count === 2000) {
                const linear = marginal <= firstMarginal * LINEARITY_TOLERANCE;
                target = [target, `marginal CPU <= ${LINEARITY_TOLERANCE}x ${firstMarginal.toFixed(2)} ms (500 -> 1,000)`].filter(Boolean).join("; ");
                result = [result, `${verdict(linear)} (linear)`].filter(Boolean).join("; ");
            }
            rows.push({
                case: `generated ${count}`,
                resources: run.resources,
                "wall s (median)": run.seconds,
                "CPU s (median)": run.cpuSeconds,
                "CPU ms/resource": (run.cpuSeconds * 1000) / run.resources,
                "marginal CPU ms/resource": marginal === undefined ? "" : marginal,
                violations: `${run.mandatory} mandatory, ${run.advisory} advisory`,
                target,
                result,
            });
            previous = run;
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    printTable(`offline preview, end to end (median of ${RUNS} runs, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})`, rows);
}

main();
