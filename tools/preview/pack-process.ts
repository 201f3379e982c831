/**
 * Starts a policy pack as the CLI's analyzer plugin does: `node <@pulumi/pulumi>/cmd/run-policy-pack
 * <engine address> <pack dir>` with the pack's directory as cwd, resolving @pulumi/pulumi from the pack.
 * @pulumi/policy prints the port of its Analyzer gRPC server on stdout; stderr is the pack's log.
 * Kept free of the gRPC modules so the CLI can start the pack before it loads them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { trackChild } from "./processes";

/** A policy pack that could not be started or that failed while analyzing; carries the pack's own log. */
export class PolicyPackError extends Error {
    constructor(message: string, readonly log: string) {
        super(log.trim() ? `${message}\n--- policy pack output ---\n${log.trim()}` : message);
        this.name = "PolicyPackError";
    }
}

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
    let runner: string;
    try {
        runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] });
    } catch {
        throw new PolicyPackError(`policy pack ${packDir}: cannot resolve @pulumi/pulumi/cmd/run-policy-pack from the pack's directory`, "");
    }
    const child = spawn(process.execPath, [runner, ENGINE_ADDRESS, dir], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
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
