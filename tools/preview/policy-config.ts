/**
 * The policy pack config file (`--policy-pack-config`), checked the way the CLI checks it before it
 * configures the analyzer: every key names a policy of the pack (or is "all"), a value is an enforcement
 * level or an object of an optional `enforcementLevel` and the policy's properties, the properties are
 * validated against the policy's `configSchema` with the schema's defaults applied, and every problem is
 * an error that names the policy and the property.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof ENFORCEMENT_LEVELS)[number];

export interface PolicyDescription {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    type: "resource" | "stack";
    configSchema?: { properties: Record<string, unknown>; required: string[] };
    /** The pack's own initial config for this policy (PolicyPack's third argument). */
    initialConfig?: { enforcementLevel?: EnforcementLevel; properties?: Record<string, unknown> };
}

export interface ResolvedPolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

function isLevel(value: unknown): value is EnforcementLevel {
    return typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value);
}

function levelError(where: string, value: unknown): Error {
    return new Error(`${where}: enforcement level ${JSON.stringify(value)} is not one of ${ENFORCEMENT_LEVELS.join(", ")}`);
}

function describeAjvError(policy: string, err: ErrorObject): string {
    const params = err.params as Record<string, unknown>;
    if (err.keyword === "additionalProperties") {
        return `policy "${policy}" has no config property "${String(params.additionalProperty)}"`;
    }
    if (err.keyword === "required") {
        return `policy "${policy}": required config property "${String(params.missingProperty)}" is missing`;
    }
    const property = err.instancePath.replace(/^\//, "").replace(/\//g, ".");
    return `policy "${policy}": config property "${property}" ${err.message ?? "is invalid"}`;
}

/**
 * The schema keyword by which a pack declares that a numeric property may not exceed another
 * ("minTargetValue": {..., "x-notGreaterThan": "maxTargetValue"}). JSON Schema cannot compare two
 * properties and its validators ignore unknown keywords, so the CLI accepts such a schema; checking it
 * here rejects an unsatisfiable config before the pack is configured.
 */
export const NOT_GREATER_THAN = "x-notGreaterThan";

function misorderedBounds(policy: PolicyDescription, properties: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const schema = policy.configSchema?.properties ?? {};
    for (const [low, spec] of Object.entries(schema)) {
        const high = spec !== null && typeof spec === "object" ? (spec as Record<string, unknown>)[NOT_GREATER_THAN] : undefined;
        if (high === undefined) continue;
        if (typeof high !== "string" || !(high in schema)) {
            throw new Error(`policy "${policy.name}" has an invalid configSchema: ${low}.${NOT_GREATER_THAN} must name another config property, not ${JSON.stringify(high)}`);
        }
        const lowValue = properties[low];
        const highValue = properties[high];
        if (typeof lowValue === "number" && typeof highValue === "number" && lowValue > highValue) {
            problems.push(`policy "${policy.name}": config property "${low}" (${lowValue}) is greater than "${high}" (${highValue}); set ${low} <= ${high}`);
        }
    }
    return problems;
}

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
const validators = new WeakMap<object, ValidateFunction>();
const noSchema = {};

/** What schema validation needs of a policy: its name for messages and its schema. */
interface SchemaOwner {
    name: string;
    configSchema?: { properties: Record<string, unknown>; required?: string[] };
}

function validatorFor(policy: SchemaOwner): ValidateFunction {
    const key = policy.configSchema ?? noSchema;
    let validate = validators.get(key);
    if (!validate) {
        const schema = {
            type: "object",
            properties: policy.configSchema?.properties ?? {},
            required: policy.configSchema?.required ?? [],
            additionalProperties: false,
        };
        try {
            validate = ajv.compile(schema);
        } catch (err) {
            throw new Error(`policy "${policy.name}" has an invalid configSchema: ${(err as Error).message}`);
        }
        validators.set(key, validate);
    }
    return validate;
}

/**
 * A policy's properties as the CLI hands them to the pack: validated against its `configSchema`, every
 * property the config leaves out filled from the schema's default. Throws naming the policy and property.
 */
export function withSchemaDefaults(
    policy: SchemaOwner,
    given: Record<string, unknown>,
    source: string,
): Record<string, unknown> {
    const properties = structuredClone(given);
    const validate = validatorFor(policy);
    if (!validate(properties)) {
        const problems = (validate.errors ?? []).map((e) => describeAjvError(policy.name, e));
        throw new Error(`${source}: ${problems.join("; ")}`);
    }
    return properties;
}

/**
 * Resolves each policy's enforcement level and properties from the config file's JSON ({} without a
 * file: every policy runs with its defaults, as under the CLI), the pack's initial config (per policy, and
 * `packInitialAll`, its "all" key) and the policies' defaults. `source` names the file in error messages.
 */
export function resolvePolicyConfig(
    policies: PolicyDescription[],
    fileConfig: unknown,
    source: string,
    packInitialAll?: EnforcementLevel,
): Record<string, ResolvedPolicyConfig> {
    if (typeof fileConfig !== "object" || fileConfig === null || Array.isArray(fileConfig)) {
        throw new Error(`${source}: the policy config must be a JSON object keyed by policy name`);
    }
    const byName = new Map(policies.map((p) => [p.name, p]));
    const entries = Object.entries(fileConfig as Record<string, unknown>);

    let allLevel: EnforcementLevel | undefined;
    const perPolicy = new Map<string, { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> }>();
    for (const [key, value] of entries) {
        if (key === "all") {
            // As the CLI reads it: a level, or an object whose enforcementLevel applies to every policy.
            const level = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>).enforcementLevel : value;
            if (!isLevel(level)) throw levelError(`${source}: "all"`, level);
            allLevel = level;
            continue;
        }
        if (!byName.has(key)) {
            throw new Error(`${source}: policy "${key}" does not exist in the policy pack (its policies: ${[...byName.keys()].join(", ")})`);
        }
        if (typeof value === "string") {
            if (!isLevel(value)) throw levelError(`${source}: policy "${key}"`, value);
            perPolicy.set(key, { enforcementLevel: value, properties: {} });
        } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) throw levelError(`${source}: policy "${key}"`, enforcementLevel);
            perPolicy.set(key, { enforcementLevel: enforcementLevel as EnforcementLevel | undefined, properties });
        } else {
            throw new Error(`${source}: policy "${key}" must be an enforcement level or an object, not ${JSON.stringify(value)}`);
        }
    }

    const resolved: Record<string, ResolvedPolicyConfig> = {};
    for (const policy of policies) {
        const fromFile = perPolicy.get(policy.name);
        const properties = withSchemaDefaults(policy, { ...(policy.initialConfig?.properties ?? {}), ...(fromFile?.properties ?? {}) }, source);
        const misordered = misorderedBounds(policy, properties);
        if (misordered.length > 0) throw new Error(`${source}: ${misordered.join("; ")}`);
        resolved[policy.name] = {
            // The CLI's order: the policy's own level, the pack's initial "all", its initial config for the
            // policy, the file's "all", the file's entry for the policy; the last one set wins.
            enforcementLevel: fromFile?.enforcementLevel ?? allLevel ?? policy.initialConfig?.enforcementLevel ?? packInitialAll ?? policy.enforcementLevel,
            properties,
        };
    }
    return resolved;
}
