/**
 * `npm test`: build, lint, mocha and pytest, arranged so that a fresh machine waits as little as possible.
 *
 * Creating .venv (torch, TorchServe and the SageMaker toolkits from PyPI) takes minutes and is mostly download, so
 * it runs in the background while the build, the lint and the mocha specs that need no Python run. pytest starts as
 * soon as .venv is ready, beside whichever mocha part runs then, and the mocha specs that need Python follow the
 * others: each is mostly one busy process (a test run or a model server), so on two cores neither waits long. Each
 * background part's output is printed whole when it ends. Only a failed build (or Python environment) stops the run
 * early; otherwise every part runs, and the run fails when any part failed.
 *
 *   npm test                      tsx tools/test/run.ts --serial   (one part after another, output as it comes)
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PYTHON_SPECS } from "./partition";

const ROOT = path.resolve(__dirname, "..", "..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

interface Part {
    name: string;
    command: string;
    args: string[];
}

interface Outcome {
    part: Part;
    code: number;
    seconds: number;
    output?: string;
}

/** Runs a part; with `buffered` its output is kept and returned, otherwise it goes straight to this terminal. */
function run(part: Part, buffered: boolean): Promise<Outcome> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn(part.command, part.args, {
            cwd: ROOT,
            stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit",
        });
        const chunks: Buffer[] = [];
        child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
        child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk));
        child.on("error", (error) => chunks.push(Buffer.from(`${part.name}: ${error.message}\n`)));
        child.on("close", (code, signal) => resolve({
            part,
            code: code ?? (signal ? 128 : 1),
            seconds: (Date.now() - started) / 1000,
            output: buffered ? Buffer.concat(chunks).toString() : undefined,
        }));
    });
}

function report(outcome: Outcome): void {
    if (outcome.output !== undefined) {
        process.stdout.write(`\n──── ${outcome.part.name} ────\n${outcome.output}`);
    }
    const verdict = outcome.code === 0 ? "passed" : `FAILED (exit ${outcome.code})`;
    process.stdout.write(`──── ${outcome.part.name}: ${verdict} in ${outcome.seconds.toFixed(0)} s\n`);
}

/** mocha adds command-line specs to those of .mocharc.json; the part with Python runs only its own, with the
 * config's other settings. */
function mochaOnly(specs: readonly string[]): string[] {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, ".mocharc.json"), "utf8")) as
        { "node-option": string[]; extension: string[]; timeout: number; reporter: string };
    return ["--no-config", ...config["node-option"].flatMap((option) => ["-n", option]),
        ...config.extension.flatMap((extension) => ["--extension", extension]), "--timeout", String(config.timeout),
        "--reporter", config.reporter, ...specs];
}

const mocha = (name: string, args: string[]): Part => ({ name, command: NPM, args: ["run", "test:ts", "--", ...args] });

const PARTS = {
    pythonEnv: { name: "Python environment (.venv)", command: NPM, args: ["run", "pyenv", "--silent"] },
    build: { name: "build", command: NPM, args: ["run", "build", "--silent"] },
    lint: { name: "lint", command: NPM, args: ["run", "lint", "--silent"] },
    mochaWithoutPython: mocha("mocha: specs without Python", PYTHON_SPECS.flatMap((spec) => ["--ignore", spec])),
    mochaWithPython: mocha("mocha: specs with Python", mochaOnly(PYTHON_SPECS)),
    pytest: { name: "pytest", command: NPM, args: ["run", "test:py", "--silent"] },
} satisfies Record<string, Part>;

/** The build (the Lambda bundle, the compiled pack) is what the tests run, so its failure ends the run; a failed
 * lint or suite does not stop the others, so one run shows every failure. */
async function serial(): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const part of [PARTS.pythonEnv, PARTS.build, PARTS.lint, PARTS.mochaWithoutPython, PARTS.mochaWithPython,
        PARTS.pytest]) {
        const outcome = await run(part, false);
        report(outcome);
        outcomes.push(outcome);
        if (outcome.code !== 0 && (part === PARTS.pythonEnv || part === PARTS.build)) break;
    }
    return outcomes;
}

async function overlapped(): Promise<Outcome[]> {
    const pythonEnv = run(PARTS.pythonEnv, true);
    const build = await run(PARTS.build, false);
    report(build);
    if (build.code !== 0) {
        const env = await pythonEnv;
        report(env);
        return [build, env];
    }
    // pytest starts as soon as .venv is ready, beside whichever mocha part is running then.
    const pytest = pythonEnv.then((env) => {
        report(env);
        return env.code === 0 ? run(PARTS.pytest, true) : undefined;
    });
    const lint = await run(PARTS.lint, false);
    report(lint);
    const withoutPython = await run(PARTS.mochaWithoutPython, false);
    report(withoutPython);
    const env = await pythonEnv;
    if (env.code !== 0) return [build, lint, withoutPython, env];
    const withPython = await run(PARTS.mochaWithPython, false);
    report(withPython);
    const py = (await pytest)!;
    report(py);
    return [build, lint, withoutPython, env, withPython, py];
}

async function main(): Promise<void> {
    const started = Date.now();
    const outcomes = process.argv.includes("--serial") ? await serial() : await overlapped();
    const failed = outcomes.filter((outcome) => outcome.code !== 0);
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    if (failed.length > 0) {
        process.stdout.write(`\nnpm test: FAILED in ${minutes} min: ${failed.map((o) => o.part.name).join(", ")}\n`);
        process.exit(1);
    }
    process.stdout.write(`\nnpm test: every part passed in ${minutes} min\n`);
}

void main();
