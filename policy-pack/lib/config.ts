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

/** Throws a config error when a lower bound exceeds its upper bound. */
export function requireOrdered(policyName: string, lowKey: string, low: number, highKey: string, high: number): void {
    if (low > high) {
        throw new Error(`policy config ${policyName}: ${lowKey} (${low}) is greater than ${highKey} (${high})`);
    }
}
