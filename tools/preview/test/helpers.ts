/** Runs the preview CLI as users do (its own Node process, repo root as cwd) and collects its output. */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..", "..");
export const FIXTURES = path.join(__dirname, "fixtures");
export const CLI = path.join(REPO, "tools", "preview", "cli.ts");

export interface CliResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

export function startCli(args: string[]): { child: ChildProcess; result: Promise<CliResult> } {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const result = new Promise<CliResult>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { child, result };
}

export function runCli(args: string[]): Promise<CliResult> {
    return startCli(args).result;
}

/** A fixture path relative to the repository root, as a user would type it. */
export function fixture(...parts: string[]): string {
    return path.relative(REPO, path.join(FIXTURES, ...parts));
}
