/**
 * Policy configuration as the engine delivers it: the Pulumi CLI fills every property from the policy's
 * `configSchema` defaults, overlays the pack's initial config and the config file, validates the result
 * against the schema and only then configures the pack, so `args.getConfig()` is complete and typed as
 * the schema says. The one rule JSON Schema cannot state, a lower bound above its upper bound, is here.
 */
import { PolicyConfigSchema } from "@pulumi/policy";

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
