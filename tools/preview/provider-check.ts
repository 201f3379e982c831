/**
 * A dynamic resource's provider is serialized by the SDK (its code and every value it captures, turned back into
 * JavaScript through the inspector and the TypeScript parser): most of the CPU time of a program run under preview,
 * for text the preview never uses (the engine's dynamic provider plugin would run it; analyzers never see it). What
 * the preview must keep is the check that every provider serializes, since `pulumi preview` fails on one that does
 * not. So on the preview's runs a provider is serialized only when something it could depend on changed since the
 * providers last serialized without error: the program's own source (every module it loaded outside node_modules),
 * the lockfile, the SDK's version and the stack's config. Until then its `__provider` is a placeholder, and after a
 * change the providers are serialized at the end of the run, a failure failing the run as it would fail the preview.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** What the SDK's runtime/closure/serializeClosure module exports and the dynamic Resource calls. */
interface ClosureModule {
    serializeFunction(func: () => unknown, args?: object): Promise<{ text: string; exportName: string; containsSecrets: boolean }>;
}

export const PLACEHOLDER_PROVIDER = "exports.handler = undefined; // serialized only when the program changes (tools/preview/provider-check.ts)";
/** Fingerprints of the runs whose providers serialized; the oldest are dropped. */
const REMEMBERED = 32;

function nearestFile(from: string, name: string): string | undefined {
    for (let dir = from; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, name);
        if (fs.existsSync(candidate)) return candidate;
        if (path.dirname(dir) === dir) return undefined;
    }
}

export class ProviderCheck {
    private readonly pending: Array<[() => unknown, object | undefined]> = [];
    private real?: ClosureModule["serializeFunction"];

    constructor(
        private readonly closure: ClosureModule,
        private readonly cacheFile: string,
        private readonly inputs: { program: string; sdkVersion: string; config: string },
    ) {}

    /** From now on the dynamic Resource's calls are recorded and answered with the placeholder. */
    install(): void {
        this.real = this.closure.serializeFunction;
        this.closure.serializeFunction = async (func, args) => {
            this.pending.push([func, args]);
            return { text: PLACEHOLDER_PROVIDER, exportName: "handler", containsSecrets: false };
        };
    }

    /** Everything serialization could depend on: the SDK, the lockfile, the config and the program's own modules. */
    fingerprint(loadedFiles: string[]): string {
        const hash = crypto.createHash("sha256").update(`${this.inputs.sdkVersion}\0${this.inputs.config}\0`);
        const lockfile = nearestFile(path.dirname(this.inputs.program), "package-lock.json");
        hash.update(lockfile ? fs.readFileSync(lockfile) : "no lockfile");
        for (const file of loadedFiles.filter((f) => !f.split(path.sep).includes("node_modules") && path.isAbsolute(f)).sort()) {
            hash.update(`\0${file}\0`);
            if (fs.existsSync(file)) hash.update(fs.readFileSync(file));
        }
        return hash.digest("hex");
    }

    private remembered(): string[] {
        try {
            const stored = JSON.parse(fs.readFileSync(this.cacheFile, "utf8")) as unknown;
            return Array.isArray(stored) ? stored.filter((entry): entry is string => typeof entry === "string") : [];
        } catch {
            return [];
        }
    }

    private remember(fingerprint: string): void {
        try {
            fs.mkdirSync(path.dirname(this.cacheFile), { recursive: true });
            const temporary = `${this.cacheFile}.${process.pid}.tmp`;
            fs.writeFileSync(temporary, JSON.stringify([fingerprint, ...this.remembered().filter((f) => f !== fingerprint)].slice(0, REMEMBERED)));
            fs.renameSync(temporary, this.cacheFile);
        } catch {
            // Nowhere to remember it: the next run serializes again.
        }
    }

    /**
     * Serializes the recorded providers unless this exact program serialized them before; rejects with the SDK's error
     * when one does not serialize. Says which it did.
     */
    async verify(loadedFiles: string[]): Promise<"reused" | "serialized" | "none"> {
        if (this.pending.length === 0) return "none";
        const fingerprint = this.fingerprint(loadedFiles);
        if (this.remembered().includes(fingerprint)) return "reused";
        for (const [func, args] of this.pending) await this.real!.call(this.closure, func, args);
        this.remember(fingerprint);
        return "serialized";
    }
}
