/**
 * The capture process started by capture.ts: plays the engine for one program run. PULUMI_CONFIG and
 * PULUMI_CONFIG_SECRET_KEYS are already in the environment, as the language host would set them; the
 * rest comes in PULUMI_PREVIEW_CAPTURE. The Pulumi runtime is the program's own copy of @pulumi/pulumi,
 * so the monitor is installed where the program's resources will look for it.
 */
import * as path from "node:path";
import type { CapturedResource, CaptureMessage, CaptureOutcome } from "./capture";
import { EngineMonitor } from "./monitor";
import { ProviderCheck } from "./provider-check";
import { programRuntime, PULUMI_SDK_VERSION } from "./pulumi-sdk";

// Plain JavaScript, shared with the policy pack's runner (pack-runner.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deferAwsSdk, deferSdkModules } = require("./defer-modules") as {
    deferAwsSdk: (fromDir: string) => string[];
    deferSdkModules: (fromDir: string) => string[];
};

let reported = false;
function report(message: CaptureOutcome): void {
    if (reported) return;
    reported = true;
    process.send?.(message, () => process.exit(message.ok ? 0 : 1));
}

function errorMessage(err: unknown): string {
    // The program's own message, not the stack: it is meant for the person running the preview.
    return err instanceof Error ? err.message : String(err);
}

// The SDK takes a stack trace for every promise it tracks and every resource's source position, and
// under tsx each one is source-mapped: most of a large program's run time. The engine-side uses of those
// traces (leak reports, source positions in the CLI's UI) have no place in this preview, and errors are
// reported by their message alone. (A resource's source position lifts the limit for its own trace: see
// withoutSourcePositions.)
Error.stackTraceLimit = 0;
process.setSourceMapsEnabled(false);

process.on("uncaughtException", (err) => report({ ok: false, error: errorMessage(err) }));
process.on("unhandledRejection", (err) => report({ ok: false, error: errorMessage(err) }));

/**
 * Resource.stackTrace, which every resource's constructor calls for the source position the request carries, lifts
 * the stack-trace limit to take a whole trace and parses it: about a quarter of a millisecond a resource. The
 * monitor never reads the position, so the request goes without one.
 */
function withoutSourcePositions(load: (module: string) => unknown): void {
    const { Resource } = load("@pulumi/pulumi/resource") as { Resource: { stackTrace?: (skip: number) => unknown[] } };
    if (typeof Resource.stackTrace === "function") Resource.stackTrace = () => [];
}

async function main(): Promise<void> {
    const { program, project, stack, dryRun, providerCheckCache, streamResources } = JSON.parse(process.env.PULUMI_PREVIEW_CAPTURE ?? "{}") as {
        program: string;
        project: string;
        stack: string;
        dryRun: boolean;
        providerCheckCache?: string;
        streamResources?: boolean;
    };
    deferSdkModules(path.dirname(program));
    deferAwsSdk(path.dirname(program));
    const { settings, state, runInPulumiStack, proto, load } = programRuntime(program);
    withoutSourcePositions(load);
    const config = JSON.parse(process.env.PULUMI_CONFIG ?? "{}") as Record<string, string>;
    const providerCheck = providerCheckCache
        ? new ProviderCheck(load("@pulumi/pulumi/runtime/closure/serializeClosure"), providerCheckCache, {
            program,
            sdkVersion: PULUMI_SDK_VERSION,
            config: process.env.PULUMI_CONFIG ?? "",
        })
        : undefined;
    providerCheck?.install();
    const sendRegistered = streamResources ? (resource: CapturedResource) => process.send?.({ registered: resource } satisfies CaptureMessage) : undefined;
    const monitor = new EngineMonitor(proto, project, stack, dryRun, config, sendRegistered);
    settings.setMockOptions(monitor, project, stack, dryRun);
    // The feature set of the engine the CLI talks to, except output values (see EngineMonitor.supportsFeature).
    Object.assign(state.getStore(), {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsReplaceWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: false,
        supportsParameterization: true,
        supportsResourceHooks: false,
        supportsErrorHooks: false,
    });

    await runInPulumiStack(async () => {
        // As the Node.js language host does: the module's exports are the stack outputs, and an exported
        // function is the program's entry point.
        const exported: unknown = load(program);
        return exported instanceof Function ? await (exported as () => unknown)() : exported;
    });
    await settings.waitForRPCs();
    if (monitor.invokeErrors.length > 0) {
        report({ ok: false, error: monitor.invokeErrors.join("; ") });
        return;
    }
    // Without the check the SDK serialized each provider as the resource registered (none: no dynamic resources).
    const dynamicProviders = providerCheck ? await providerCheck.verify(Object.keys(require.cache)) : monitor.resources.some((r) => r.type.startsWith("pulumi-nodejs:dynamic")) ? "serialized" : "none";
    report({ ok: true, resources: monitor.resources, stackOutputs: monitor.stackOutputs, dynamicProviders });
}

main().catch((err: unknown) => report({ ok: false, error: errorMessage(err) }));
