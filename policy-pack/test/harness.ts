/**
 * Drives policies the way @pulumi/policy's analyzer (server.js) does: props wrapped in the unknown-checking
 * proxy, getConfig returning the policy's config as the CLI delivers it (validated against the policy's
 * schema, defaults filled in: the offline preview's implementation of that step), stack resources with parent, dependencies and
 * propertyDependencies resolved to resource objects, and an UnknownValueError turned into an advisory
 * "can't run policy" diagnostic instead of a failure.
 */
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    UnknownValueError,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { withSchemaDefaults } from "../../tools/preview/policy-config";

/** The engine's marker for a value unknown during preview. */
export const U = unknownValue;

export interface Spec {
    type: string;
    name: string;
    /** The resource's URN when names repeat (as in a real stack); dependsOn may then name URNs. */
    urn?: string;
    props: Record<string, unknown>;
    /** Names of resources this one depends on. */
    dependsOn?: string[];
    /** Property -> names of the resources its value came from. */
    propertyDependencies?: Record<string, string[]>;
    /** The resource's ignoreChanges option (the engine then shows the state's values of those properties). */
    ignoreChanges?: string[];
}

export interface Outcome {
    /** Violation messages, each prefixed with the URN's resource name when the policy named one. */
    violations: { message: string; urn?: string }[];
    /** The advisory message for what could not be checked, if any. */
    unchecked?: string;
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::sagemaker-classifier::${type}::${name}`;
}

function proxied(props: Record<string, unknown>): Record<string, unknown> {
    return (unknownCheckingProxy as unknown as (p: object) => Record<string, unknown>)(structuredClone(props));
}

const noOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/**
 * The config a policy gets from the engine for `given`, its entry in a config file: the enforcement level
 * is the engine's business (getConfig leaves it out), the rest is validated and completed from the schema.
 */
function engineConfig(policy: ResourceValidationPolicy | StackValidationPolicy, given: object): object {
    const properties: Record<string, unknown> = { ...given };
    delete properties.enforcementLevel;
    return withSchemaDefaults(policy, properties, "test config");
}

function isTypeOf(type: string) {
    return (cls: { __pulumiType?: string }) => cls.__pulumiType === type;
}

async function capture(run: (report: ReportViolation) => Promise<void> | void): Promise<Outcome> {
    const outcome: Outcome = { violations: [] };
    const report: ReportViolation = (message: string, urn?: string) => outcome.violations.push({ message, urn });
    try {
        await run(report);
    } catch (e) {
        if (!(e instanceof (UnknownValueError as unknown as new () => Error))) throw e;
        outcome.unchecked = (e as Error).message;
    }
    return outcome;
}

export async function validateResource(policy: ResourceValidationPolicy, spec: Spec, given: object = {}): Promise<Outcome> {
    const config = engineConfig(policy, given);
    const props = proxied(spec.props);
    const args = {
        type: spec.type,
        props,
        urn: spec.urn ?? urnOf(spec.type, spec.name),
        name: spec.name,
        opts: noOptions,
        stackTags: new Map<string, string>(),
        isType: isTypeOf(spec.type),
        asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === spec.type ? props : undefined),
        getConfig: () => config,
        notApplicable: (reason?: string): never => {
            throw new Error(`notApplicable: ${reason}`);
        },
    } as unknown as ResourceValidationArgs;
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    return capture(async (report) => {
        for (const validation of validations) await validation(args, report);
    });
}

export function toStackResources(specs: Spec[]): PolicyResource[] {
    const byName = new Map<string, PolicyResource>();
    const resources = specs.map((spec) => {
        const props = proxied(spec.props);
        const resource = {
            type: spec.type,
            props,
            urn: spec.urn ?? urnOf(spec.type, spec.name),
            name: spec.name,
            opts: spec.ignoreChanges ? { ...noOptions, ignoreChanges: spec.ignoreChanges } : noOptions,
            dependencies: [] as PolicyResource[],
            propertyDependencies: {} as Record<string, PolicyResource[]>,
            isType: isTypeOf(spec.type),
            asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === spec.type ? props : undefined),
        } as unknown as PolicyResource;
        const key = spec.urn ?? spec.name;
        if (byName.has(key)) throw new Error(`duplicate test resource ${key}`);
        byName.set(key, resource);
        return resource;
    });
    // As server.js does, dependencies on resources not in the stack are dropped.
    const resolve = (names: string[]) => names.map((n) => byName.get(n)).filter((r): r is PolicyResource => r !== undefined);
    specs.forEach((spec, i) => {
        const propDeps = Object.entries(spec.propertyDependencies ?? {});
        resources[i].propertyDependencies = Object.fromEntries(propDeps.map(([k, names]) => [k, resolve(names)]));
        // As the engine reports them: dependencies are the union of property dependencies and dependsOn.
        const all = new Set([...(spec.dependsOn ?? []), ...propDeps.flatMap(([, names]) => names)]);
        resources[i].dependencies = resolve([...all]);
    });
    return resources;
}

export async function validateStack(policy: StackValidationPolicy, specs: Spec[] | PolicyResource[], given: object = {}): Promise<Outcome> {
    const config = engineConfig(policy, given);
    const resources = specs.length > 0 && "urn" in specs[0] ? (specs as PolicyResource[]) : toStackResources(specs as Spec[]);
    const args = {
        resources,
        stackTags: new Map<string, string>(),
        getConfig: () => config,
        notApplicable: (reason?: string): never => {
            throw new Error(`notApplicable: ${reason}`);
        },
    } as unknown as StackValidationArgs;
    return capture((report) => policy.validateStack(args, report));
}

/** Runs every policy of the pack over a stack, as analyze per resource then analyzeStack. */
export async function runPack(
    policies: (ResourceValidationPolicy | StackValidationPolicy)[],
    specs: Spec[],
    packConfig: Record<string, unknown>,
): Promise<{ policy: string; level: string; message: string }[]> {
    const results: { policy: string; level: string; message: string }[] = [];
    const stack = toStackResources(specs);
    for (const policy of policies) {
        const entry = packConfig[policy.name];
        const { enforcementLevel, ...config } = typeof entry === "string" ? { enforcementLevel: entry } : ((entry ?? {}) as { enforcementLevel?: string });
        const level = enforcementLevel ?? policy.enforcementLevel ?? "advisory";
        if (level === "disabled") continue;
        const outcomes: Outcome[] = [];
        if ("validateStack" in policy) outcomes.push(await validateStack(policy, stack, config));
        else for (const spec of specs) outcomes.push(await validateResource(policy, spec, config));
        for (const o of outcomes) {
            for (const v of o.violations) results.push({ policy: policy.name, level, message: v.message });
            if (o.unchecked) results.push({ policy: policy.name, level: "advisory", message: o.unchecked });
        }
    }
    return results;
}
