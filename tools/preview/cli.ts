/**
 * `npm run preview -- --stack <name>`: an offline `pulumi preview --policy-pack <dir>
 * --policy-pack-config <file>`. Prints the resources the stack would create and the policy violations;
 * exit 0 without mandatory violations, 1 with, 2 on a usage, config or program error.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { captureProgram, defaultProviderCheckCache, findProjectFile, projectName, readStackConfig } from "./capture";
import { ensurePackBuilt } from "./pack-build";
import type { ConfiguredPolicyPack } from "./analyzer";
import { PolicyPackError, startPolicyPack, type RunningPack } from "./pack-process";
import { summarize, toJson, toText } from "./report";

const USAGE = `usage: npm run preview -- --stack <name> [options]

  --stack <name>               stack to preview: reads Pulumi.<name>.yaml and <policy pack>/config/<name>.json
  --program <file>             Pulumi program (.ts or .js) instead of the project's main
  --config-file <file>         stack config file instead of Pulumi.<name>.yaml next to the project's Pulumi.yaml
  --policy-pack <dir>          policy pack directory (default: policy-pack); repeat to run several packs
  --policy-pack-config <file>  config file of the --policy-pack in the same position (repeat once per pack);
                               default: <policy pack>/config/<name>.json if it exists, else the pack's defaults
  --json                       print one JSON document instead of text
  --verbose                    when the policy pack fails, also print its full log with stack traces
  -h, --help                   show this help`;

/** A problem with the invocation or its inputs: reported in one line (plus the usage if it is about the arguments), exit code 2. */
class UsageError extends Error {
    constructor(message: string, readonly showUsage = false) {
        super(message);
    }
}

interface PackOption {
    dir: string;
    /** Undefined: the pack runs with its defaults, as the CLI runs a pack given no config. */
    configFile?: string;
}

interface Options {
    stack: string;
    program: string;
    configFile: string;
    packs: PackOption[];
    json: boolean;
    verbose: boolean;
}

/** The project's program: Pulumi.yaml's `main` (a file, or a directory holding index.ts/index.js). */
export function defaultProgram(cwd: string): string {
    const projectFile = findProjectFile(path.join(cwd, "index"));
    if (!projectFile) throw new UsageError(`no Pulumi.yaml in ${cwd} or above; pass --program <file>`);
    const doc = parseYaml(fs.readFileSync(projectFile, "utf8")) as { main?: unknown } | null;
    const main = path.resolve(path.dirname(projectFile), typeof doc?.main === "string" ? doc.main : ".");
    if (fs.existsSync(main) && fs.statSync(main).isDirectory()) {
        for (const candidate of ["index.ts", "index.js"]) if (fs.existsSync(path.join(main, candidate))) return path.join(main, candidate);
        throw new UsageError(`the project's main directory ${path.relative(cwd, main) || "."} has no index.ts or index.js`);
    }
    return main;
}

function parseOptions(argv: string[], cwd: string): Options | "help" {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                program: { type: "string" },
                "config-file": { type: "string" },
                "policy-pack": { type: "string", multiple: true },
                "policy-pack-config": { type: "string", multiple: true },
                json: { type: "boolean" },
                verbose: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (err) {
        throw new UsageError((err as Error).message, true);
    }
    if (values.help) return "help";
    const stack = values.stack;
    if (!stack) throw new UsageError("--stack <name> is required", true);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack "${stack}" is not a valid stack name`, true);

    const program = values.program ? path.resolve(cwd, values.program) : defaultProgram(cwd);
    if (!fs.existsSync(program) || !fs.statSync(program).isFile()) throw new UsageError(`program ${path.relative(cwd, program)} does not exist`);
    if (!/\.(ts|js|cjs|mts|cts)$/.test(program)) throw new UsageError(`program ${path.relative(cwd, program)} is not a .ts or .js file`);

    const projectFile = findProjectFile(program);
    const projectDir = projectFile ? path.dirname(projectFile) : path.dirname(program);
    const configFile = values["config-file"] ? path.resolve(cwd, values["config-file"]) : path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(configFile)) {
        throw new UsageError(`stack config file ${path.relative(cwd, configFile)} does not exist (create it or pass --config-file)`);
    }

    const packDirs = (values["policy-pack"] ?? ["policy-pack"]).map((dir) => path.resolve(cwd, dir));
    const configFiles = (values["policy-pack-config"] ?? []).map((file) => path.resolve(cwd, file));
    // As the CLI: config files pair with packs by position, so either none or one per pack.
    if (configFiles.length > 0 && configFiles.length !== packDirs.length) {
        throw new UsageError(
            `${configFiles.length} --policy-pack-config for ${packDirs.length} --policy-pack: give one config file per policy pack, in the same order, or none`,
            true,
        );
    }
    const packs = packDirs.map((dir, i): PackOption => {
        if (!fs.existsSync(path.join(dir, "package.json"))) {
            throw new UsageError(`policy pack ${path.relative(cwd, dir)} has no package.json (pass --policy-pack <dir>)`);
        }
        const given = configFiles[i];
        if (given !== undefined && !fs.existsSync(given)) {
            throw new UsageError(`policy config file ${path.relative(cwd, given)} does not exist`);
        }
        const conventional = path.join(dir, "config", `${stack}.json`);
        return { dir, configFile: given ?? (fs.existsSync(conventional) ? conventional : undefined) };
    });
    return { stack, program, configFile, packs, json: values.json === true, verbose: values.verbose === true };
}

function readPolicyConfig(file: string, cwd: string): unknown {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new UsageError(`policy config file ${path.relative(cwd, file)} is not valid JSON: ${(err as Error).message}`);
    }
}

/** Every value once all have settled, or the failure of the first (in order) that failed: one pack per error. */
async function allOrFirstFailure<T>(promises: Promise<T>[]): Promise<T[]> {
    const settled = await Promise.allSettled(promises);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Runs the preview and returns the exit code; output goes to the given streams. */
export async function main(argv: string[], io = { out: process.stdout, err: process.stderr, cwd: process.cwd() }): Promise<number> {
    const { out, err, cwd } = io;
    let options: Options | "help";
    try {
        options = parseOptions(argv, cwd);
    } catch (e) {
        const usage = e instanceof UsageError && e.showUsage ? `\n${USAGE}\n` : "";
        err.write(`error: ${(e as Error).message}\n${usage}`);
        return 2;
    }
    if (options === "help") {
        out.write(USAGE + "\n");
        return 0;
    }
    const o = options;
    const rel = (file: string) => path.relative(cwd, file) || ".";
    // Every pack started is stopped on every path; analyze() stops its own pack first.
    let started: Promise<RunningPack>[] = [];
    let configuring: Promise<ConfiguredPolicyPack>[] = [];
    try {
        const project = projectName(o.program);
        const config = await readStackConfig(o.configFile, project);
        const packs = o.packs.map((pack) => {
            const policyConfig = pack.configFile ? readPolicyConfig(pack.configFile, cwd) : {};
            if (!pack.configFile) err.write(`policy pack ${rel(pack.dir)}: no config file for stack ${o.stack}, running its policies with their defaults\n`);
            ensurePackBuilt(pack.dir, (line) => err.write(`${line}\n`));
            return { ...pack, policyConfig };
        });
        // The packs' start-up and configuration and the program's run are independent: overlap them.
        started = packs.map((pack) => {
            const running = startPolicyPack(pack.dir, { ...process.env, PULUMI_CONFIG: JSON.stringify(config) });
            running.catch(() => undefined);
            return running;
        });
        // As the engine does, each resource is analyzed as the program registers it; the stack once the program is done.
        const capturing = captureProgram({
            program: o.program,
            stack: o.stack,
            config,
            // The preview never reads a dynamic provider's serialized code: it checks only that it serializes (provider-check.ts).
            providerCheckCache: defaultProviderCheckCache(o.program),
            onResource: (resource) => {
                for (const configured of configuring) configured.then((pack) => pack.analyzeResource(resource), () => undefined);
            },
        });
        capturing.catch(() => undefined);
        // Loaded only now, once the program and the packs have started: the gRPC stubs take a while to load. Each pack
        // is configured as soon as it is up, while the program runs; the first resource arrives after this is set.
        const analyzer = import("./analyzer");
        configuring = packs.map((pack, i) => {
            const configured = analyzer.then(({ configurePolicyPack }) =>
                configurePolicyPack(
                    { packDir: pack.dir, policyConfig: pack.policyConfig, policyConfigSource: pack.configFile ? rel(pack.configFile) : `${rel(pack.dir)} defaults` },
                    started[i],
                ),
            );
            configured.catch(() => undefined);
            return configured;
        });
        // The cost summary only closes the text report; its modules (the price book, the SDK's rpc module) load
        // while the program and the packs run, and a --json run never loads them.
        const costModule = o.json ? undefined : import("../cost/stack-cost");
        costModule?.catch(() => undefined);
        let capture;
        try {
            capture = await capturing;
        } catch (e) {
            throw new UsageError(`program ${rel(o.program)} failed: ${(e as Error).message}`);
        }
        if (capture.programOutput.trim()) err.write(capture.programOutput.replace(/\n?$/, "\n"));
        const configured = await allOrFirstFailure(configuring);
        const ran = await allOrFirstFailure(configured.map((pack) => pack.analyze(capture.resources)));
        const report = {
            project,
            stack: o.stack,
            program: rel(o.program),
            policyPacks: ran.map((result) => ({ name: result.pack.name, version: result.pack.version })),
            resources: capture.resources,
            violations: ran.flatMap((result) => result.violations),
        };
        if (o.json) out.write(toJson(report) + "\n");
        else {
            // The cost goes just above the closing "Resources: ..." line, which stays the report's last.
            const text = toText(report);
            const last = text.lastIndexOf("\n");
            const { costSummary } = await costModule!;
            out.write(`${text.slice(0, last)}\n${costSummary(capture.resources, config).join("\n")}\n\n${text.slice(last + 1)}\n`);
        }
        return summarize(report).mandatory > 0 ? 1 : 0;
    } catch (e) {
        err.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        if (o.verbose && e instanceof PolicyPackError && e.fullLog) err.write(`--- policy pack log (--verbose) ---\n${e.fullLog}\n`);
        return 2;
    } finally {
        await Promise.all([
            ...configuring.map((configured) => configured.then((pack) => pack.stop(), () => undefined)),
            ...started.map((running) => running.then((pack) => pack.stop(), () => undefined)),
        ]);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`error: ${(e as Error).message}\n`);
            process.exitCode = 2;
        },
    );
}
