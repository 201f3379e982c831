/**
 * Starts a policy pack as the CLI's analyzer plugin does: `node <@pulumi/pulumi>/cmd/run-policy-pack
 * <engine address> <pack dir>` with the pack's directory as cwd, resolving @pulumi/pulumi from the pack (through
 * pack-runner.js, which defers a module the pack never uses).
 * @pulumi/policy prints the port of its Analyzer gRPC server on stdout; stderr is the pack's log.
 * Kept free of the gRPC modules so the CLI can start the pack before it loads them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { trackChild } from "./processes";
import { policyPackRunner } from "./pulumi-sdk";

/** Text without the stack frames ("    at f (file:1:2)") Node.js writes under an error. */
export function withoutStackFrames(text: string): string {
    return text
        .split("\n")
        .filter((line) => !/^\s+at\s/.test(line))
        .join("\n")
        .trim();
}

/**
 * A policy pack that could not be started or that failed while analyzing. The message carries the pack's
 * own log without stack frames: they locate a bug in the pack, which is for its author (`fullLog`, printed
 * by --verbose), not for the person previewing a stack.
 */
export class PolicyPackError extends Error {
    /** The error's details and the pack's log as the pack wrote them, stack frames included. */
    readonly fullLog: string;

    constructor(message: string, readonly log: string, details = "") {
        const shown = withoutStackFrames(log);
        super(shown ? `${message}\n--- policy pack output ---\n${shown}` : message);
        this.name = "PolicyPackError";
        this.fullLog = [details.trim(), log.trim()].filter((part) => part !== "").join("\n");
    }
}

/** Runs the CLI's runner with its arguments, modules the pack never uses deferred (pack-runner.js). */
const PACK_RUNNER = path.join(__dirname, "pack-runner.js");
// The engine address is dropped by the runner; the pack never calls back into the engine.
const ENGINE_ADDRESS = "127.0.0.1:0";

export interface RunningPack {
    child: ChildProcess;
    port: number;
    log: () => string;
    stop: () => Promise<void>;
}

/** Starts the pack as the CLI does and waits for the port it prints. */
export async function startPolicyPack(packDir: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunningPack> {
    const dir = path.resolve(packDir);
    const runner = policyPackRunner(dir);
    if (runner === undefined) {
        throw new PolicyPackError(`policy pack ${packDir}: cannot resolve @pulumi/pulumi/cmd/run-policy-pack from the pack's directory (run npm install there)`, "");
    }
    const child = spawn(process.execPath, [PACK_RUNNER, runner, ENGINE_ADDRESS, dir], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const untrack = trackChild(child);
    let stderr = "";
    let stdout = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
            await exited;
            clearTimeout(killTimer);
        }
        untrack();
    };
    try {
        const port = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new PolicyPackError(`policy pack ${packDir} did not print its port within ${timeoutMs} ms`, stderr)), timeoutMs);
            child.stdout?.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                const line = stdout.split("\n")[0];
                if (stdout.includes("\n") || /^\d+$/.test(line.trim())) {
                    const port = Number(line.trim());
                    clearTimeout(timer);
                    if (Number.isInteger(port) && port > 0) resolve(port);
                    else reject(new PolicyPackError(`policy pack ${packDir} printed "${line.trim()}" instead of its port`, stderr));
                }
            });
            child.once("error", (err) => {
                clearTimeout(timer);
                reject(new PolicyPackError(`policy pack ${packDir} could not be started: ${err.message}`, stderr));
            });
            child.once("exit", (code, signal) => {
                clearTimeout(timer);
                reject(new PolicyPackError(`policy pack ${packDir} failed to start (exit ${signal ?? code})`, stderr + stdout));
            });
        });
        return { child, port, log: () => stderr, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}
