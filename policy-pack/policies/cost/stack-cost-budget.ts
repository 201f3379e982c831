import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { type CostResource, estimateStack, type ResourceCost } from "../../cost/estimate";
import { PriceBook } from "../../cost/prices";
import { PRICE_SNAPSHOT } from "../../cost/price-snapshot";
import { label } from "../../lib/label";
import { link, StackIndex, T } from "../../lib/stack";
import { raw, Unchecked } from "../../lib/unknown";

const name = "stack-cost-budget";

const configSchema = {
    properties: {
        maxHourlyUsd: { type: "number" as const, minimum: 0, description: "Most the stack may cost per hour at maximum scale (every instance and serverless slot busy), in USD.", default: 1 },
        maxOneOffUsd: { type: "number" as const, minimum: 0, description: "Most the stack's one-off jobs (training, tuning, EC2 training runs) may cost at their upper bound, in USD.", default: 25 },
    },
};

interface Config {
    maxHourlyUsd: number;
    maxOneOffUsd: number;
}

const usd = (value: number) => `$${value < 1 ? value.toFixed(3) : value.toFixed(2)}`;

/** The stack's region as its AWS provider is configured (the default provider carries `aws:region`). */
/**
 * A resource's properties as the program sets them: an endpoint that ignores changes to its configuration name
 * (another resource rolls it out) shows the state's name, so the configuration it links to stands in for it.
 */
function programProps(index: StackIndex, r: PolicyResource): Record<string, unknown> {
    const props = raw(r.props) as Record<string, unknown>;
    if (r.type !== T.endpoint || !r.opts?.ignoreChanges?.includes("endpointConfigName")) return props;
    const configuration = link(index, r, "endpointConfigName", T.endpointConfiguration);
    const linkedName = configuration.kind === "linked" && configuration.targets.length === 1 ? raw(configuration.targets[0].props) as Record<string, unknown> : undefined;
    return linkedName ? { ...props, endpointConfigName: linkedName.name } : props;
}

function stackRegion(resources: PolicyResource[]): string | undefined {
    for (const resource of resources) {
        const region = (raw(resource.provider?.props) as Record<string, unknown> | undefined)?.region;
        if (resource.provider?.type === "pulumi:providers:aws" && typeof region === "string") return region;
    }
    return undefined;
}

/** "Endpoint 'x' $0.920/h (8 x ml.m5.large ...)" for the resources that make up a total, largest first. */
function breakdown(costs: ResourceCost[], pick: (c: ResourceCost) => number, unit: string): string {
    return costs
        .filter((c) => pick(c) > 0)
        .sort((a, b) => pick(b) - pick(a))
        .map((c) => `${label(c)} ${usd(pick(c))}${unit} (${c.basis})`)
        .join("; ");
}

export const stackCostBudget: StackValidationPolicy & Implements = {
    name,
    description:
        "The stack's on-demand cost stays within the environment's budget: per hour at maximum scale (endpoint instances at max capacity, serverless " +
        "endpoints at max concurrency, Lambda provisioned concurrency, KMS keys) and one-off (training and tuning jobs at their max runtime, EC2 " +
        "training runs), priced from the price snapshot shipped in the pack.",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const unchecked = new Unchecked();
        const region = stackRegion(args.resources);
        if (!region) {
            unchecked.undecidable("the stack's region (no AWS provider with a known region), so its cost cannot be priced");
            return unchecked.finish();
        }
        const index = new StackIndex(args.resources);
        const resources: CostResource[] = args.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: programProps(index, r) }));
        const estimate = estimateStack(resources, PriceBook.fromSnapshot(region));
        const source = `prices of the pack's snapshot, ${PRICE_SNAPSHOT.date}, ${region}`;

        const { hourlyUsdAtMax, oneOffUsdMax } = estimate.totals;
        if (hourlyUsdAtMax > config.maxHourlyUsd) {
            const top = [...estimate.resources].sort((a, b) => b.hourlyUsdAtMax - a.hourlyUsdAtMax)[0];
            reportViolation(
                `The stack costs ${usd(hourlyUsdAtMax)}/h at maximum scale, ${usd(hourlyUsdAtMax - config.maxHourlyUsd)}/h over the budget of ${usd(config.maxHourlyUsd)}/h ` +
                    `(${name}.maxHourlyUsd; ${source}). It is made up of: ${breakdown(estimate.resources, (c) => c.hourlyUsdAtMax, "/h")}. ` +
                    "Lower the maximum scale (autoscaling.maxCapacity, endpoint.serverless.maxConcurrency, api.provisionedConcurrency) or a cheaper instance type, or raise the budget.",
                top?.urn,
            );
        }
        if (oneOffUsdMax > config.maxOneOffUsd) {
            const top = [...estimate.resources].sort((a, b) => b.oneOffUsd - a.oneOffUsd)[0];
            reportViolation(
                `The stack's one-off jobs may cost up to ${usd(oneOffUsdMax)}, ${usd(oneOffUsdMax - config.maxOneOffUsd)} over the budget of ${usd(config.maxOneOffUsd)} ` +
                    `(${name}.maxOneOffUsd; ${source}). They are: ${breakdown(estimate.resources, (c) => c.oneOffUsd, "")}. ` +
                    "Lower training.maxRuntimeSeconds, training.tuning.maxJobs or the instance type, or raise the budget.",
                top?.urn,
            );
        }
        for (const u of estimate.unpriced) unchecked.undecidable(`the cost of ${label(u)}: ${u.reason}`);
        unchecked.finish();
    },
};
