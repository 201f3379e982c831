/**
 * `npm run status -- --stack <name> [--watch]`: where a stack's training or tuning job and its endpoint are,
 * from the SageMaker API, and its EC2 training run (EC2 and S3). Exit 0 when nothing has failed, 1 when a job or the endpoint failed, 2 on a usage,
 * config or AWS error (named in one line).
 */
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { findProjectFile } from "../preview/capture";
import { ec2RunClients, Ec2RunApis } from "./ec2-run";
import { collectStatus, formatStatus, hasFailed, isSettled, SageMakerApi } from "./status";
import { resolveTargets, TargetError, TargetOptions } from "./targets";

const USAGE = `usage: npm run status -- --stack <name> [options]

  --stack <name>        the stack: its outputs (pulumi stack output) or, without them, names computed from Pulumi.<name>.yaml
  --outputs <file>      stack outputs as pulumi stack output --json writes them, instead of asking the Pulumi CLI
  --region <region>     AWS region (default: the stack's aws:region, then AWS_REGION)
  --watch               refresh until nothing is in progress any more (a job or the endpoint failing ends it too)
  --interval <seconds>  refresh interval with --watch (default 30, at least 5)
  --json                print the status as JSON (one document per refresh)
  -h, --help            show this help`;

class UsageError extends Error {}

export interface CliOptions {
    stack: string;
    outputsFile?: string;
    region?: string;
    watch: boolean;
    intervalSeconds: number;
    json: boolean;
}

export function parseCli(argv: string[]): CliOptions | "help" {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string" },
                outputs: { type: "string" },
                region: { type: "string" },
                watch: { type: "boolean" },
                interval: { type: "string" },
                json: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    if (values.help) return "help";
    if (!values.stack) throw new UsageError("--stack <name> is required");
    if (!/^[A-Za-z0-9_.-]+$/.test(values.stack)) throw new UsageError(`--stack "${values.stack}" is not a stack name`);
    const interval = values.interval ?? "30";
    if (!/^\d+$/.test(interval) || Number(interval) < 5) throw new UsageError(`--interval must be a whole number of seconds, at least 5; got "${interval}"`);
    if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region)) throw new UsageError(`--region "${values.region}" is not an AWS region`);
    return {
        stack: values.stack,
        outputsFile: values.outputs,
        region: values.region,
        watch: values.watch ?? false,
        intervalSeconds: Number(interval),
        json: values.json ?? false,
    };
}

export interface RunDeps {
    cwd: string;
    out: (text: string) => void;
    err: (text: string) => void;
    clientFor: (region: string) => SageMakerApi;
    /** EC2 and S3 clients for the stack's EC2 training run; without them it is not shown. */
    ec2ClientsFor?: (region: string) => Ec2RunApis;
    now: () => number;
    sleep: (ms: number) => Promise<void>;
    readPulumiOutputs?: TargetOptions["readPulumiOutputs"];
}

export async function run(argv: string[], deps: RunDeps): Promise<number> {
    let options: CliOptions | "help";
    try {
        options = parseCli(argv);
    } catch (error) {
        deps.err(`error: ${(error as Error).message}\n\n${USAGE}`);
        return 2;
    }
    if (options === "help") {
        deps.out(USAGE);
        return 0;
    }
    try {
        const projectFile = findProjectFile(path.join(deps.cwd, "index"));
        if (!projectFile) throw new TargetError(`no Pulumi.yaml in ${deps.cwd} or above`);
        const targets = await resolveTargets({
            stack: options.stack,
            projectDir: path.dirname(projectFile),
            outputsFile: options.outputsFile && path.resolve(deps.cwd, options.outputsFile),
            region: options.region,
            readPulumiOutputs: deps.readPulumiOutputs,
        });
        const client = deps.clientFor(targets.region);
        const ec2 = targets.ec2InstanceId ? deps.ec2ClientsFor?.(targets.region) : undefined;
        for (;;) {
            const status = await collectStatus(client, targets, deps.now(), ec2);
            deps.out(options.json ? JSON.stringify(status) : formatStatus(status));
            const done = isSettled(status) || hasFailed(status);
            if (!options.watch || done) return hasFailed(status) ? 1 : 0;
            await deps.sleep(options.intervalSeconds * 1000);
            if (!options.json) deps.out("");
        }
    } catch (error) {
        deps.err(`error: ${describeError(error)}`);
        return 2;
    }
}

function describeError(error: unknown): string {
    const err = error as { name?: string; message?: string };
    if (error instanceof TargetError) return err.message ?? String(error);
    if (err?.name === "CredentialsProviderError") return `no AWS credentials: ${err.message} (configure a profile or AWS_* variables)`;
    if (err?.name === "AccessDeniedException") return `SageMaker refused: ${err.message} (the status needs sagemaker:Describe* and sagemaker:List* on the stack's jobs and endpoint)`;
    if (err?.name === "UnauthorizedOperation") return `EC2 refused: ${err.message} (the status needs ec2:DescribeInstances for the stack's EC2 training run)`;
    return `${err?.name ? `${err.name}: ` : ""}${err?.message ?? String(error)}`;
}

if (require.main === module) {
    run(process.argv.slice(2), {
        cwd: process.cwd(),
        out: (text) => process.stdout.write(`${text}\n`),
        err: (text) => process.stderr.write(`${text}\n`),
        clientFor: (region) => new SageMakerClient({ region }),
        ec2ClientsFor: ec2RunClients,
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }).then((code) => {
        process.exitCode = code;
    });
}
