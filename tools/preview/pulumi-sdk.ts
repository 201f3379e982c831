/**
 * Every use the offline preview makes of @pulumi/pulumi beyond its public API, in one place: the runtime
 * modules a program's mocks are installed through, the generated gRPC stubs of the resource, provider and
 * analyzer protocols, and the policy pack runner the CLI's analyzer plugin starts. None of these paths is
 * a documented API, so each SDK they are loaded from is first checked to be the version this module was
 * written against; another version is refused with a message saying what to do, instead of failing later
 * somewhere inside the SDK with a stack trace.
 */
import { createRequire } from "node:module";
import type * as AnalyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type * as AnalyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type { ProtoModules } from "./monitor";

export type { AnalyzerGrpc, AnalyzerPb };

/** The @pulumi/pulumi version whose internals this module uses (the project pins it exactly). */
export const PULUMI_SDK_VERSION = "3.248.0";

/**
 * A require() rooted at `from` (a file) whose @pulumi/pulumi has been checked to be PULUMI_SDK_VERSION.
 * `whose` names the owner of that SDK in the message ("the program infra/index.ts").
 */
function checkedSdk(from: string, whose: string): NodeJS.Require {
    const load = createRequire(from);
    let version: unknown;
    try {
        version = (load("@pulumi/pulumi/package.json") as { version?: unknown }).version;
    } catch {
        throw new Error(`${whose} cannot load @pulumi/pulumi; install it (npm install --save-exact @pulumi/pulumi@${PULUMI_SDK_VERSION})`);
    }
    if (version !== PULUMI_SDK_VERSION) {
        throw new Error(
            `${whose} uses @pulumi/pulumi ${String(version)}, but the offline preview drives the SDK's internals (runtime settings, ` +
                `generated gRPC stubs) as of ${PULUMI_SDK_VERSION} and cannot vouch for another version. Install ` +
                `@pulumi/pulumi@${PULUMI_SDK_VERSION} (npm install --save-exact @pulumi/pulumi@${PULUMI_SDK_VERSION}), or check ` +
                "tools/preview/pulumi-sdk.ts against the new SDK and update PULUMI_SDK_VERSION.",
        );
    }
    return load;
}

export interface ProgramRuntime {
    settings: {
        setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
        waitForRPCs(): Promise<void>;
    };
    state: { getStore(): Record<string, unknown> };
    runInPulumiStack(init: () => Promise<unknown>): Promise<unknown>;
    proto: ProtoModules;
    /** Loads the program itself with the same resolution as its SDK. */
    load: NodeJS.Require;
}

/**
 * The program's own copy of the runtime (the one its resources register through), so the mock monitor is
 * installed where they look for it.
 */
export function programRuntime(program: string): ProgramRuntime {
    const load = checkedSdk(program, `the program ${program}`);
    return {
        settings: load("@pulumi/pulumi/runtime/settings") as ProgramRuntime["settings"],
        state: load("@pulumi/pulumi/runtime/state") as ProgramRuntime["state"],
        runInPulumiStack: (load("@pulumi/pulumi/runtime/stack") as Pick<ProgramRuntime, "runInPulumiStack">).runInPulumiStack,
        proto: {
            Struct: (load("google-protobuf/google/protobuf/struct_pb") as { Struct: ProtoModules["Struct"] }).Struct,
            ...(load("@pulumi/pulumi/proto/resource_pb") as Pick<ProtoModules, "RegisterResourceResponse" | "ReadResourceResponse" | "RegisterPackageResponse">),
            InvokeResponse: (load("@pulumi/pulumi/proto/provider_pb") as Pick<ProtoModules, "InvokeResponse">).InvokeResponse,
        },
        load,
    };
}

/** The Analyzer protocol's generated stubs, from the preview's own SDK. */
export function analyzerProtocol(): { analyzerPb: typeof AnalyzerPb; analyzerGrpc: typeof AnalyzerGrpc } {
    const load = checkedSdk(__filename, "the offline preview");
    return {
        analyzerPb: load("@pulumi/pulumi/proto/analyzer_pb") as typeof AnalyzerPb,
        analyzerGrpc: load("@pulumi/pulumi/proto/analyzer_grpc_pb") as typeof AnalyzerGrpc,
    };
}

/**
 * The script the CLI's analyzer plugin runs for a Node.js pack, resolved from the pack's directory as the
 * CLI does. Its command line (`<engine address> <pack dir>`) is the contract between every CLI and SDK
 * version, so a pack built on another SDK version (a published pack such as @pulumi/awsguard) runs too.
 */
export function policyPackRunner(packDir: string): string | undefined {
    try {
        return require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    } catch {
        return undefined;
    }
}
