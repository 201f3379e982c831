/**
 * Runs a Pulumi program the way `pulumi preview` does, minus the cloud: in its own Node process (the
 * Pulumi runtime keeps global state, so each run gets a fresh one), with the stack's config in
 * PULUMI_CONFIG and the engine's side played by monitor.ts. Every registration comes back as a
 * CapturedResource.
 *
 * Values in `inputs` and `outputs` are in the engine's wire form: an unknown value is the UNKNOWN marker,
 * a secret is `{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value}`, an
 * asset or archive carries the asset signature, a resource reference carries its `urn` and `id`.
 * Under preview a custom resource's `outputs` are the planned state: the checked inputs (with autonames)
 * and `id` UNKNOWN; any other output is absent, which the SDK (and a policy) sees as unknown.
 * `provider` is the URN of the provider resource (the engine's default provider, captured as a
 * `pulumi:providers:<package>` resource, when the program names none).
 */
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { trackChild } from "./processes";

export { UNKNOWN } from "./provider";

export interface ResourceOptions {
    protect?: boolean;
    ignoreChanges?: string[];
    deleteBeforeReplace?: boolean;
    replaceOnChanges?: string[];
    retainOnDelete?: boolean;
    /** Dependencies that no input property accounts for (the request only carries their union). */
    dependsOn?: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
    additionalSecretOutputs?: string[];
    aliases?: string[];
}

export interface CapturedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    provider?: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    options: ResourceOptions;
}

export interface CaptureOptions {
    program: string;
    stack: string;
    project?: string;
    config: Record<string, string>;
    /** Preview (the default) or the outputs of a completed update. */
    dryRun?: boolean;
    /**
     * Where to remember programs whose dynamic providers serialized (provider-check.ts): given, a provider is serialized
     * only when the program changed since, and its `__provider` input is a placeholder. For runs that never read it.
     */
    providerCheckCache?: string;
    /**
     * Told of each resource as the program registers it, as the engine learns of it, before the run finishes (the
     * result still lists them all). A component's outputs arrive only with the result.
     */
    onResource?: (resource: CapturedResource) => void;
}

export interface CaptureResult {
    resources: CapturedResource[];
    stackOutputs: Record<string, unknown>;
    /** What the program wrote to stdout and stderr. */
    programOutput: string;
    /** Whether the dynamic providers were serialized, or found unchanged since they last were (providerCheckCache). */
    dynamicProviders: DynamicProviderCheck;
}

export type DynamicProviderCheck = "serialized" | "reused" | "none";

/** How the capture process's run ended: its last message. */
export type CaptureOutcome =
    | { ok: true; resources: CapturedResource[]; stackOutputs: Record<string, unknown>; dynamicProviders: DynamicProviderCheck }
    | { ok: false; error: string };

/** The messages the capture process sends back: each resource as it registers when asked, then the outcome. */
export type CaptureMessage = { registered: CapturedResource } | CaptureOutcome;

/** The Pulumi.yaml that governs a program: the nearest one walking up from the program's directory. */
export function findProjectFile(program: string): string | undefined {
    let dir = path.dirname(path.resolve(program));
    for (;;) {
        for (const file of ["Pulumi.yaml", "Pulumi.yml"]) {
            const candidate = path.join(dir, file);
            if (fs.existsSync(candidate)) return candidate;
        }
        const up = path.dirname(dir);
        if (up === dir) return undefined;
        dir = up;
    }
}

export function projectName(program: string): string {
    const file = findProjectFile(program);
    if (file) {
        const doc = parseYaml(fs.readFileSync(file, "utf8")) as { name?: unknown } | null;
        if (typeof doc?.name === "string" && doc.name) return doc.name;
    }
    return path.basename(path.dirname(path.resolve(program)));
}

const SECRET_CONFIG_PLACEHOLDER = "[secret]";

/**
 * Reads a Pulumi.<stack>.yaml into what the CLI puts in PULUMI_CONFIG: "namespace:key" -> string, with
 * objects and arrays JSON-encoded and keys without a namespace in the project's (`project`, by default
 * the one whose Pulumi.yaml sits next to the file). Secure values cannot be
 * decrypted without the stack's secrets provider; they are passed as the "[secret]" placeholder (and
 * listed by secretConfigKeys), which is enough for a preview that must not depend on their value.
 */
export async function readStackConfig(stackFile: string, project?: string): Promise<Record<string, string>> {
    let text: string;
    try {
        text = await fs.promises.readFile(stackFile, "utf8");
    } catch {
        throw new Error(`stack config file ${stackFile} does not exist or cannot be read`);
    }
    let doc: unknown;
    try {
        doc = parseYaml(text);
    } catch (err) {
        throw new Error(`stack config file ${stackFile} is not valid YAML: ${(err as Error).message}`);
    }
    const config = (doc as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new Error(`stack config file ${stackFile}: "config" must be a map of keys to values`);
    }
    const namespace = project ?? projectName(path.join(path.dirname(path.resolve(stackFile)), "index"));
    const result: Record<string, string> = {};
    for (const [rawKey, value] of Object.entries(config as Record<string, unknown>)) {
        const key = rawKey.includes(":") ? rawKey : `${namespace}:${rawKey}`;
        if (value === null || value === undefined) throw new Error(`stack config file ${stackFile}: key "${rawKey}" has no value`);
        if (typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            result[key] = SECRET_CONFIG_PLACEHOLDER;
        } else if (typeof value === "object") {
            result[key] = JSON.stringify(value);
        } else {
            result[key] = String(value);
        }
    }
    return result;
}

/** The keys readStackConfig replaced by the secret placeholder, for PULUMI_CONFIG_SECRET_KEYS. */
function secretConfigKeys(config: Record<string, string>): string[] {
    return Object.keys(config).filter((key) => config[key] === SECRET_CONFIG_PLACEHOLDER);
}

const CHILD = path.join(__dirname, "capture-child.ts");

/** The preview's record of programs whose dynamic providers serialized, beside the other caches in node_modules. */
export function defaultProviderCheckCache(program: string): string {
    let dir = path.dirname(path.resolve(program));
    while (!fs.existsSync(path.join(dir, "node_modules")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return path.join(dir, "node_modules", ".cache", "preview", "dynamic-providers.json");
}

export async function captureProgram(o: CaptureOptions): Promise<CaptureResult> {
    const program = path.resolve(o.program);
    if (!fs.existsSync(program)) throw new Error(`program ${o.program} does not exist`);
    const project = o.project ?? projectName(program);
    const env = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(o.config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretConfigKeys(o.config)),
        PULUMI_PREVIEW_CAPTURE: JSON.stringify({
            program,
            project,
            stack: o.stack,
            dryRun: o.dryRun ?? true,
            providerCheckCache: o.providerCheckCache,
            streamResources: o.onResource !== undefined,
        }),
    };
    const child = fork(CHILD, [], {
        cwd: path.dirname(program),
        env,
        // A require hook for TypeScript alone, as the Node.js language host registers ts-node: no ESM loader thread to
        // start, and JavaScript loads untouched (ts-register.js).
        execArgv: ["--require", path.join(__dirname, "ts-register.js")],
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        serialization: "advanced",
    });
    const untrack = trackChild(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
        const message = await new Promise<CaptureOutcome>((resolve, reject) => {
            let received: CaptureOutcome | undefined;
            child.on("message", (m: CaptureMessage) => {
                if ("registered" in m) o.onResource?.(m.registered);
                else received = m;
            });
            child.on("error", reject);
            child.on("exit", (code, signal) => {
                if (received) resolve(received);
                else reject(new Error(`program ${o.program} exited (${signal ?? `code ${code}`}) before finishing:\n${output.trim()}`));
            });
        });
        if (!message.ok) throw new Error(message.error);
        return { resources: message.resources, stackOutputs: message.stackOutputs, programOutput: output, dynamicProviders: message.dynamicProviders };
    } finally {
        untrack();
        if (child.exitCode === null && child.signalCode === null) child.kill();
    }
}
