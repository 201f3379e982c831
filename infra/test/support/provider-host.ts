/**
 * Runs one method of a serialized dynamic provider the way Pulumi's dynamic provider host does
 * (@pulumi/pulumi/cmd/dynamic-provider): requireFromString(props.__provider).handler(), then configure() with
 * the stack config the engine sent, wrapped in the host's own Config class, in a fresh Node process.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const HOST = `
const fs = require("fs");
const [providerFile, method, argsJson, configJson] = process.argv.slice(2);
const pulumiDir = require.resolve("@pulumi/pulumi", { paths: [process.cwd()] });
const requireFromString = require(require.resolve("require-from-string", { paths: [pulumiDir] }));
const { Config } = require(require.resolve("@pulumi/pulumi/cmd/dynamic-provider/config", { paths: [process.cwd()] }));
const provider = requireFromString(fs.readFileSync(providerFile, "utf8")).handler();
const configured = provider.configure ? provider.configure({ config: new Config(JSON.parse(configJson), "sagemaker-classifier") }) : Promise.resolve();
// The result goes to fd 3 so that stdout holds only what the engine would show the user.
configured.then(() => provider[method](...JSON.parse(argsJson))).then(
    (result) => fs.writeSync(3, JSON.stringify(result ?? null)),
    (error) => { fs.writeSync(3, JSON.stringify({ error: error.message })); },
);
`;

export interface HostRun {
    providerFile: string;
    method: string;
    args: unknown[];
    /** The stack config the engine's Configure hands over (all of it, namespaced keys). */
    stackConfig?: Record<string, string>;
    env: NodeJS.ProcessEnv;
    /** Where the host script is written; the project directory the provider's requires resolve from is `cwd`. */
    workdir: string;
    cwd: string;
}

/** The call's result (or `{ error }`), and the lines it printed, which the CLI shows as info diagnostics. */
export async function runInProviderHost(run: HostRun): Promise<{ result: Record<string, unknown>; stdout: string[] }> {
    const host = path.join(run.workdir, "provider-host.js");
    if (!fs.existsSync(host)) fs.writeFileSync(host, HOST);
    const child = spawn(process.execPath, [host, run.providerFile, run.method, JSON.stringify(run.args), JSON.stringify(run.stackConfig ?? {})], {
        env: run.env, cwd: run.cwd, stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    const collect = (stream: NodeJS.ReadableStream) => {
        let text = "";
        stream.on("data", (chunk) => (text += chunk));
        return () => text;
    };
    const [stdout, stderr, result] = [collect(child.stdout!), collect(child.stderr!), collect(child.stdio[3] as NodeJS.ReadableStream)];
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (code !== 0) throw new Error(`host exited ${code}: ${stderr()}`);
    return { result: JSON.parse(result()) as Record<string, unknown>, stdout: stdout().split("\n").filter(Boolean) };
}
