/** Runs the preview CLI as users do (its own Node process, repo root as cwd) and collects its output. */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..", "..");
export const FIXTURES = path.join(__dirname, "fixtures");
export const CLI = path.join(REPO, "tools", "preview", "cli.ts");

/** Node's arguments in package.json's `npm run preview` script (`node <args>`), so tests and benches run what users run. */
export function previewNodeArgs(): string[] {
    const script = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.preview;
    const [command, ...args] = script.split(/\s+/);
    if (command !== "node" || path.resolve(REPO, args[args.length - 1] ?? "") !== CLI) {
        throw new Error(`package.json's preview script "${script}" is not "node [options] tools/preview/cli.ts"`);
    }
    return args.map((arg) => (arg.startsWith("./") ? path.join(REPO, arg) : arg));
}

export interface CliResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

export function startCli(args: string[]): { child: ChildProcess; result: Promise<CliResult> } {
    const child = spawn(process.execPath, [...previewNodeArgs(), ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
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
