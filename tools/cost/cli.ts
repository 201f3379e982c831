/**
 * `npm run cost -- --stack <name>`: what the stack costs before `pulumi up`. Runs the program as the offline
 * preview does and prices every resource that costs money, per hour at minimum and maximum scale, per month,
 * and one-off jobs at their upper bound. Exit 0 with an estimate, 2 on a usage, config or program error.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { captureProgram, findProjectFile, projectName, readStackConfig } from "../preview/capture";
import { defaultProgram } from "../preview/cli";
import { costResources, estimateWithPrices, type PriceMode, stackRegion } from "./stack-cost";
import { toJson, toText } from "./report";
import { imageCostLines } from "./image-cost";
import { readServingResult, SERVING_RESULT_FILE } from "../../bench/serving-result";

const USAGE = `usage: npm run cost -- --stack <name> [options]

  --stack <name>               stack to price: runs the program with Pulumi.<name>.yaml
  --program <file>             Pulumi program (.ts or .js) instead of the project's main
  --config-file <file>         stack config file instead of Pulumi.<name>.yaml
  --prices snapshot|live|auto  where prices come from (default auto: the Price List API when AWS credentials are configured, else the shipped snapshot)
  --requests-per-hour <n>      traffic a serverless endpoint serves (default 0: idle)
  --seconds-per-request <s>    billed inference time per request (default 1)
  --ec2-hours <h>              how long the EC2 training run computes before it stops itself (default: the longest SageMaker job's max runtime)
  --json                       one JSON document: region, currency, resources, totals
  -h, --help                   show this help`;

class UsageError extends Error {}

function positiveNumber(value: string | undefined, flag: string, fallback: number | undefined): number | undefined {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0, got "${value}"`);
    return n;
}

export interface CostIo {
    out: NodeJS.WritableStream;
    err: NodeJS.WritableStream;
    cwd: string;
    /** Prices' ages are counted to this moment. */
    now: Date;
    /** The serving throughput to price per image (default bench/measured/serving.json). */
    servingResultFile?: string;
}

export async function main(argv: string[], io: CostIo = { out: process.stdout, err: process.stderr, cwd: process.cwd(), now: new Date() }): Promise<number> {
    const { out, err, cwd } = io;
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                program: { type: "string" },
                "config-file": { type: "string" },
                prices: { type: "string" },
                "requests-per-hour": { type: "string" },
                "seconds-per-request": { type: "string" },
                "ec2-hours": { type: "string" },
                json: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (e) {
        err.write(`error: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        out.write(USAGE + "\n");
        return 0;
    }
    try {
        const stack = values.stack;
        if (!stack) throw new UsageError("--stack <name> is required");
        if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack "${stack}" is not a valid stack name`);
        const mode = (values.prices ?? "auto") as PriceMode;
        if (!["snapshot", "live", "auto"].includes(mode)) throw new UsageError(`--prices must be snapshot, live or auto, got "${values.prices}"`);
        const traffic = {
            requestsPerHour: positiveNumber(values["requests-per-hour"], "--requests-per-hour", 0) as number,
            secondsPerRequest: positiveNumber(values["seconds-per-request"], "--seconds-per-request", 1) as number,
        };
        const ec2TrainingHours = positiveNumber(values["ec2-hours"], "--ec2-hours", undefined);

        const program = values.program ? path.resolve(cwd, values.program) : defaultProgram(cwd);
        if (!fs.existsSync(program)) throw new UsageError(`program ${path.relative(cwd, program)} does not exist`);
        const projectFile = findProjectFile(program);
        const configFile = values["config-file"] ? path.resolve(cwd, values["config-file"]) : path.join(projectFile ? path.dirname(projectFile) : cwd, `Pulumi.${stack}.yaml`);
        if (!fs.existsSync(configFile)) throw new UsageError(`stack config file ${path.relative(cwd, configFile)} does not exist (create it or pass --config-file)`);

        const config = await readStackConfig(configFile, projectName(program));
        const region = stackRegion(config);
        let capture;
        try {
            capture = await captureProgram({ program, stack, config });
        } catch (e) {
            throw new UsageError(`program ${path.relative(cwd, program)} failed: ${(e as Error).message}`);
        }
        const { estimate, notes } = await estimateWithPrices(costResources(capture.resources), region, mode, { traffic, ec2TrainingHours });
        const serving = readServingResult(io.servingResultFile ?? SERVING_RESULT_FILE);
        if (values.json) {
            out.write(JSON.stringify(toJson(estimate), null, 2) + "\n");
            for (const u of estimate.unpriced) err.write(`not priced: ${u.name} (${u.type}): ${u.reason}\n`);
            // The document keeps its shape; the cost per image, a measured figure rather than a price, goes with the notes.
            err.write(imageCostLines(estimate, serving).join("\n") + "\n");
        } else {
            const heading = `Cost of stack ${stack} before \`pulumi up\` (${region}, on-demand USD; idle = minimum scale${traffic.requestsPerHour ? `, ${traffic.requestsPerHour} requests/h` : ", no traffic"})`;
            out.write(toText(estimate, heading, io.now) + "\n\n" + imageCostLines(estimate, serving).join("\n") + "\n");
        }
        for (const note of notes) err.write(`${note}\n`);
        return 0;
    } catch (e) {
        err.write(`error: ${(e as Error).message}\n${e instanceof UsageError && /required|valid|must be/.test(e.message) ? `${USAGE}\n` : ""}`);
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = 2;
        },
    );
}
