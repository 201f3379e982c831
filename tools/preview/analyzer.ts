/**
 * The engine's side of the Analyzer protocol. The policy pack runs as its own process, started as the
 * CLI's analyzer plugin starts it (`node @pulumi/pulumi/cmd/run-policy-pack <engine address> <pack dir>`
 * from the pack's directory; @pulumi/policy binds its gRPC server on 127.0.0.1 and prints the port), and
 * is driven with the generated stubs @pulumi/pulumi ships: GetAnalyzerInfo, the config file validated
 * against each policy's schema, Configure, Remediate and Analyze for every resource, AnalyzeStack for
 * all of them. The process is shut down on every path.
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import pLimit from "p-limit";
import type { CapturedResource } from "./capture";
import { ENFORCEMENT_LEVELS, resolvePolicyConfig, type EnforcementLevel, type PolicyDescription, type ResolvedPolicyConfig } from "./policy-config";
import { PolicyPackError, startPolicyPack, withoutStackFrames, type RunningPack } from "./pack-process";
import { analyzerProtocol, type AnalyzerGrpc, type AnalyzerPb } from "./pulumi-sdk";

export type { EnforcementLevel, PolicyDescription } from "./policy-config";
export { PolicyPackError, startPolicyPack, type RunningPack } from "./pack-process";

export interface Violation {
    policyPack: string;
    policyPackVersion: string;
    policyName: string;
    enforcementLevel: EnforcementLevel;
    description: string;
    message: string;
    /** The resource the violation is about; empty for a stack-wide violation that names none. */
    urn: string;
    resourceType: string;
    resourceName: string;
}

export interface PolicyPackInfo {
    name: string;
    version: string;
    policies: (PolicyDescription & { config: ResolvedPolicyConfig })[];
}

export interface ConfigurePolicyPackOptions {
    packDir: string;
    /** The policy config file's parsed JSON ({} for none). */
    policyConfig: unknown;
    /** Names the config in error messages, e.g. its file name. */
    policyConfigSource?: string;
    /** The stack's config, passed to the pack's process as the CLI passes it (PULUMI_CONFIG). */
    stackConfig?: Record<string, string>;
    /** How long the pack may take to print its port. */
    startTimeoutMs?: number;
}

export interface RunPolicyPackOptions extends ConfigurePolicyPackOptions {
    resources: CapturedResource[];
}

export interface PolicyPackResult {
    pack: PolicyPackInfo;
    violations: Violation[];
}

const CALL_DEADLINE_MS = 120_000;
const MAX_MESSAGE_BYTES = 400 * 1024 * 1024;
const CONCURRENT_ANALYZE_CALLS = 16;

const { analyzerPb, analyzerGrpc } = analyzerProtocol();

const LEVEL_BY_ENUM: Record<number, EnforcementLevel> = {
    [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
    [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
};
const ENUM_BY_LEVEL: Record<EnforcementLevel, AnalyzerPb.EnforcementLevel> = {
    advisory: analyzerPb.EnforcementLevel.ADVISORY,
    mandatory: analyzerPb.EnforcementLevel.MANDATORY,
    remediate: analyzerPb.EnforcementLevel.REMEDIATE,
    disabled: analyzerPb.EnforcementLevel.DISABLED,
};

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(client: AnalyzerGrpc.AnalyzerClient, method: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
        method.call(client, req, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res)));
    });
}

/** The engine leaves internal keys ("__defaults", a dynamic resource's "__provider") out of what analyzers see. */
function withoutInternalKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutInternalKeys);
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) if (!k.startsWith("__")) out[k] = withoutInternalKeys(v);
        return out;
    }
    return value;
}

function toStruct(props: Record<string, unknown>): Struct {
    return Struct.fromJavaScript(withoutInternalKeys(props) as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** Pulumi custom timeouts are Go durations ("5m", "1h30m"); the analyzer wants seconds. */
function durationSeconds(duration: string | undefined): number {
    if (!duration) return 0;
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
    let total = 0;
    for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(amount) * units[unit];
    return total;
}

function resourceOptions(r: CapturedResource): AnalyzerPb.AnalyzerResourceOptions {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setProtect(r.options.protect === true);
    o.setIgnorechangesList(r.options.ignoreChanges ?? []);
    o.setDeletebeforereplacedefined(r.options.deleteBeforeReplace !== undefined);
    o.setDeletebeforereplace(r.options.deleteBeforeReplace === true);
    o.setAdditionalsecretoutputsList(r.options.additionalSecretOutputs ?? []);
    o.setAliasesList(r.options.aliases ?? []);
    if (r.options.customTimeouts) {
        const t = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts();
        t.setCreate(durationSeconds(r.options.customTimeouts.create));
        t.setUpdate(durationSeconds(r.options.customTimeouts.update));
        t.setDelete(durationSeconds(r.options.customTimeouts.delete));
        o.setCustomtimeouts(t);
    }
    if (r.parent) o.setParent(r.parent);
    return o;
}

/** The provider of each resource as the analyzer sees it; built once per provider, shared by its resources. */
function providerLookup(byUrn: Map<string, CapturedResource>): (r: CapturedResource) => AnalyzerPb.AnalyzerProviderResource | undefined {
    const cache = new Map<string, AnalyzerPb.AnalyzerProviderResource>();
    return (r) => {
        const provider = r.provider ? byUrn.get(r.provider) : undefined;
        if (!provider) return undefined;
        let p = cache.get(provider.urn);
        if (!p) {
            p = new analyzerPb.AnalyzerProviderResource();
            p.setType(provider.type);
            p.setName(provider.name);
            p.setUrn(provider.urn);
            p.setProperties(toStruct(provider.inputs));
            cache.set(provider.urn, p);
        }
        return p;
    };
}

type ProviderLookup = ReturnType<typeof providerLookup>;

function analyzeRequest(r: CapturedResource, props: Record<string, unknown>, providerOf: ProviderLookup): AnalyzerPb.AnalyzeRequest {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn);
    req.setProperties(toStruct(props));
    req.setOptions(resourceOptions(r));
    const provider = providerOf(r);
    if (provider) req.setProvider(provider);
    return req;
}

function stackResource(r: CapturedResource, providerOf: ProviderLookup): AnalyzerPb.AnalyzerResource {
    const res = new analyzerPb.AnalyzerResource();
    res.setType(r.type);
    res.setName(r.name);
    res.setUrn(r.urn);
    res.setProperties(toStruct(r.outputs));
    res.setOptions(resourceOptions(r));
    const provider = providerOf(r);
    if (provider) res.setProvider(provider);
    if (r.parent) res.setParent(r.parent);
    res.setDependenciesList(r.dependencies);
    const deps = res.getPropertydependenciesMap();
    for (const [key, urns] of Object.entries(r.propertyDependencies)) {
        const d = new analyzerPb.AnalyzerPropertyDependencies();
        d.setUrnsList(urns);
        deps.set(key, d);
    }
    return res;
}

function describePolicies(info: AnalyzerPb.AnalyzerInfo): PolicyDescription[] {
    const initial = info.getInitialconfigMap();
    return info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        const init = initial.get(p.getName());
        return {
            name: p.getName(),
            description: p.getDescription(),
            enforcementLevel: LEVEL_BY_ENUM[p.getEnforcementlevel()] ?? "advisory",
            type: p.getPolicyType() === analyzerPb.PolicyType.POLICY_TYPE_STACK ? "stack" : "resource",
            configSchema: schema
                ? { properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown>, required: schema.getRequiredList() }
                : undefined,
            initialConfig: init
                ? { enforcementLevel: LEVEL_BY_ENUM[init.getEnforcementlevel()], properties: init.getProperties()?.toJavaScript() as Record<string, unknown> | undefined }
                : undefined,
        };
    });
}

function urnParts(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    if (parts.length < 4) return { type: "", name: "" };
    return { type: parts[2].split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

/** A running policy pack that took its config: analyze() runs it over the resources once, then stops it. */
export interface ConfiguredPolicyPack {
    /**
     * Starts analyzing one resource as the program registers it, as the engine does during a preview, before the
     * program finishes. analyze() waits for it; a failure is reported there.
     */
    analyzeResource(resource: CapturedResource): void;
    analyze(resources: CapturedResource[]): Promise<PolicyPackResult>;
    /** Stops the pack without analyzing (analyze() stops it itself). */
    stop(): Promise<void>;
}

/**
 * Starts the pack (or takes the started one), asks it for its policies, validates the config against their schemas
 * and configures it: what the engine does before the program registers its first resource, so a caller can do it
 * while the program runs. Config problems throw a plain Error naming the policy and property; a pack that fails to
 * start or to describe itself throws a PolicyPackError carrying its log. The pack is stopped when this throws.
 */
export async function configurePolicyPack(o: ConfigurePolicyPackOptions, started?: Promise<RunningPack>): Promise<ConfiguredPolicyPack> {
    const pack = await (started ??
        startPolicyPack(o.packDir, { ...process.env, PULUMI_CONFIG: JSON.stringify(o.stackConfig ?? {}) }, o.startTimeoutMs));
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    });
    const stop = async () => {
        client.close();
        await pack.stop();
    };
    const failed = (what: string, err: unknown) => {
        // @pulumi/policy sends a failed policy's error with its stack trace: keep the message lines only.
        const details = (err as grpc.ServiceError).details ?? (err as Error).message;
        const summary = withoutStackFrames(details)
            .split("\n")
            .map((line) => line.trim().replace(/^Error: /, ""))
            .filter((line) => line !== "")
            .join(" ");
        return new PolicyPackError(`policy pack ${o.packDir}: ${what} failed: ${summary}`, pack.log(), details);
    };
    let info: AnalyzerPb.AnalyzerInfo;
    let policies: PolicyDescription[];
    let resolved: Record<string, ResolvedPolicyConfig>;
    try {
        try {
            info = await call(client, client.getAnalyzerInfo, new Empty());
        } catch (err) {
            throw failed("GetAnalyzerInfo", err);
        }
        policies = describePolicies(info);
        const initialAll = info.getInitialconfigMap().get("all");
        resolved = resolvePolicyConfig(
            policies,
            o.policyConfig,
            o.policyConfigSource ?? "policy config",
            initialAll ? LEVEL_BY_ENUM[initialAll.getEnforcementlevel()] : undefined,
        );

        const configure = new analyzerPb.ConfigureAnalyzerRequest();
        const configMap = configure.getPolicyconfigMap();
        for (const [name, c] of Object.entries(resolved)) {
            const pc = new analyzerPb.PolicyConfig();
            pc.setEnforcementlevel(ENUM_BY_LEVEL[c.enforcementLevel]);
            pc.setProperties(Struct.fromJavaScript(c.properties as Parameters<typeof Struct.fromJavaScript>[0]));
            configMap.set(name, pc);
        }
        try {
            await call(client, client.configure, configure);
        } catch (err) {
            throw failed("Configure", err);
        }
    } catch (err) {
        await stop();
        throw err;
    }

    const remediates = Object.values(resolved).some((c) => c.enforcementLevel === "remediate");
    /** The resources registered so far (every one once analyze() is called), whose providers the resources name. */
    const registered = new Map<string, CapturedResource>();
    const registeredProvider = providerLookup(registered);
    const limit = pLimit(CONCURRENT_ANALYZE_CALLS);
    const analyses = new Map<string, Promise<AnalyzerPb.AnalyzeDiagnostic[]>>();
    const analyzeResource = (r: CapturedResource): Promise<AnalyzerPb.AnalyzeDiagnostic[]> => {
        let analysis = analyses.get(r.urn);
        if (analysis) return analysis;
        registered.set(r.urn, r);
        analysis = limit(async () => {
            // As the engine does: remediations rewrite the inputs first, then the result is analyzed.
            let props = r.inputs;
            if (remediates) {
                try {
                    const response = await call(client, client.remediate, analyzeRequest(r, props, registeredProvider));
                    for (const remediation of response.getRemediationsList()) {
                        const next = remediation.getProperties();
                        if (next) props = next.toJavaScript() as Record<string, unknown>;
                    }
                } catch (err) {
                    throw failed(`Remediate of ${r.urn}`, err);
                }
            }
            try {
                return (await call(client, client.analyze, analyzeRequest(r, props, registeredProvider))).getDiagnosticsList();
            } catch (err) {
                throw failed(`Analyze of ${r.urn}`, err);
            }
        });
        // Awaited by analyze(); until then a failure must not count as unhandled.
        analysis.catch(() => undefined);
        analyses.set(r.urn, analysis);
        return analysis;
    };

    const analyze = async (resources: CapturedResource[]): Promise<PolicyPackResult> => {
        try {
            const byUrn = new Map(resources.map((r) => [r.urn, r]));
            for (const r of resources) if (!registered.has(r.urn)) registered.set(r.urn, r);
            const packName = info.getName();
            const packVersion = info.getVersion();
            const violations: Violation[] = [];
            const collect = (diags: AnalyzerPb.AnalyzeDiagnostic[], defaultUrn: string) => {
                for (const d of diags) {
                    const urn = d.getUrn() || defaultUrn;
                    const resource = byUrn.get(urn);
                    const parts = urnParts(urn);
                    violations.push({
                        policyPack: d.getPolicypackname() || packName,
                        policyPackVersion: d.getPolicypackversion() || packVersion,
                        policyName: d.getPolicyname(),
                        enforcementLevel: LEVEL_BY_ENUM[d.getEnforcementlevel()] ?? "advisory",
                        description: d.getDescription(),
                        message: d.getMessage(),
                        urn,
                        resourceType: resource?.type ?? parts.type,
                        resourceName: resource?.name ?? parts.name,
                    });
                }
            };

            const analyzed = Promise.all(resources.map(analyzeResource));
            analyzed.catch(() => undefined);
            // Built while the pack works through the last resources; sent, as the engine sends it, once they are done.
            const stackRequest = new analyzerPb.AnalyzeStackRequest();
            stackRequest.setResourcesList(resources.map((r) => stackResource(r, registeredProvider)));
            (await analyzed).forEach((diags, i) => collect(diags, resources[i].urn));
            try {
                collect((await call(client, client.analyzeStack, stackRequest)).getDiagnosticsList(), "");
            } catch (err) {
                throw failed("AnalyzeStack", err);
            }

            return {
                pack: {
                    name: packName,
                    version: packVersion,
                    policies: policies.map((p) => ({ ...p, config: resolved[p.name] })),
                },
                violations,
            };
        } finally {
            await stop();
        }
    };
    return { analyzeResource: (r) => void analyzeResource(r), analyze, stop };
}

/**
 * Runs the policy pack over the captured resources: configurePolicyPack, then analyze. The pack's process is stopped
 * before this returns or throws.
 */
export async function runPolicyPack(o: RunPolicyPackOptions, started?: Promise<RunningPack>): Promise<PolicyPackResult> {
    return (await configurePolicyPack(o, started)).analyze(o.resources);
}

export { ENFORCEMENT_LEVELS };
