/**
 * End-to-end wall time of the offline preview (tools/preview/cli.ts): the program's run, the policy
 * pack's start, the analysis and the report, for `--stack prod` and for generated programs of 500, 1,000
 * and 2,000 resources checked against the project's policy pack. Each figure is the median of a few runs
 * of `tsx tools/preview/cli.ts ...`, the command `npm run preview --` executes (npm's own start-up
 * excluded). Targets: prod at most 3 s; 2,000 resources at most 10 s, growing linearly.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { percentile, printTable, type BenchRow } from "./table";

const REPO = path.resolve(__dirname, "..");
const CLI = path.join(REPO, "tools", "preview", "cli.ts");
const TSX_CLI = require.resolve("tsx/cli");
const GENERATED = path.join(REPO, "tools", "preview", "test", "fixtures", "generated-program.ts");
const RUNS = 3;
const PROD_TARGET_S = 3;
const LARGE_TARGET_S = 10;
/** Marginal cost per resource between sizes may vary this much before growth counts as non-linear. */
const LINEARITY_TOLERANCE = 1.5;

interface Run {
    seconds: number;
    resources: number;
    mandatory: number;
    advisory: number;
}

function preview(args: string[]): Run {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [TSX_CLI, CLI, ...args, "--json"], {
        cwd: REPO,
        encoding: "utf8",
        maxBuffer: 512 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0 && result.status !== 1) {
        throw new Error(`preview ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    }
    const report = JSON.parse(result.stdout) as { summary: { resources: number; mandatory: number; advisory: number } };
    return { seconds, ...report.summary };
}

function median(args: string[]): Run {
    const runs = Array.from({ length: RUNS }, () => preview(args));
    const seconds = percentile(runs.map((r) => r.seconds), 50);
    return { ...runs[0], seconds };
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
        "ms/resource": (prod.seconds * 1000) / prod.resources,
        "marginal ms/resource": "",
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
            const marginal = previous ? ((run.seconds - previous.seconds) * 1000) / (run.resources - previous.resources) : undefined;
            firstMarginal ??= marginal;
            let target = "";
            let result = "";
            if (count === 2000) {
                target = `<= ${LARGE_TARGET_S} s`;
                result = verdict(run.seconds <= LARGE_TARGET_S);
            }
            if (marginal !== undefined && firstMarginal !== undefined && marginal !== firstMarginal) {
                const linear = marginal <= firstMarginal * LINEARITY_TOLERANCE;
                target = [target, `marginal <= ${LINEARITY_TOLERANCE}x ${firstMarginal.toFixed(2)} ms`].filter(Boolean).join("; ");
                result = [result, `${verdict(linear)} (linear)`].filter(Boolean).join("; ");
            }
            rows.push({
                case: `generated ${count}`,
                resources: run.resources,
                "wall s (median)": run.seconds,
                "ms/resource": (run.seconds * 1000) / run.resources,
                "marginal ms/resource": marginal === undefined ? "" : marginal,
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
