/**
 * Policy configuration: the schema each policy declares doubles as the source of its defaults, so a
 * policy run without `--policy-pack-config` (or by a tool that does not apply schema defaults) behaves
 * exactly as documented. Values are re-checked here because a wrong type must be a clear error naming
 * the policy and key, not a confusing violation.
 */
import { PolicyConfigSchema } from "@pulumi/policy";

export function readConfig<C extends object>(
    policyName: string,
    schema: PolicyConfigSchema,
    given: object,
): C {
    const merged: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(schema.properties)) {
        const value = (given as Record<string, unknown>)[key] ?? (typeof spec === "object" ? spec.default : undefined);
        if (typeof spec === "object" && value !== undefined) {
            const expected = spec.type;
            const ok =
                expected === "array"
                    ? Array.isArray(value) && value.every((item) => typeof item === "string")
                    : expected === "integer"
                      ? Number.isInteger(value)
                      : expected === "number"
                        ? typeof value === "number" && Number.isFinite(value)
                        : expected === undefined || typeof value === expected;
            if (!ok) {
                throw new Error(
                    `policy config ${policyName}.${key} must be ${expected === "array" ? "an array of strings" : `a ${expected}`}, got ${JSON.stringify(value)}`,
                );
            }
            if (typeof value === "number" && typeof spec.minimum === "number" && value < spec.minimum) {
                throw new Error(`policy config ${policyName}.${key} must be >= ${spec.minimum}, got ${value}`);
            }
        }
        merged[key] = value;
    }
    return merged as C;
}

/**
 * Schema keyword on a numeric property naming the property it may not exceed ("minTargetValue" ->
 * "maxTargetValue"). JSON Schema cannot compare two properties; validators ignore unknown keywords, so
 * the Pulumi CLI accepts the schema, and a tool that knows the keyword (the offline preview) rejects a
 * bad config before it reaches the pack.
 */
export const NOT_GREATER_THAN = "x-notGreaterThan";

/** One message per lower bound above its upper bound, naming the policy and both properties. */
export function misorderedBounds(policyName: string, schema: PolicyConfigSchema, config: object): string[] {
    const values = config as Record<string, unknown>;
    const problems: string[] = [];
    for (const [low, spec] of Object.entries(schema.properties)) {
        const high = typeof spec === "object" ? (spec as Record<string, unknown>)[NOT_GREATER_THAN] : undefined;
        if (typeof high !== "string") continue;
        const lowValue = values[low];
        const highValue = values[high];
        if (typeof lowValue === "number" && typeof highValue === "number" && lowValue > highValue) {
            problems.push(
                `policy config ${policyName}: ${low} (${lowValue}) is greater than ${high} (${highValue}), so no value can satisfy the policy. ` +
                    `Set ${low} <= ${high} in the stack's policy config.`,
            );
        }
    }
    return problems;
}
