/**
 * Pricing a captured stack: the preview's resources (custom ones, their planned inputs), the stack's region,
 * and a price book from the shipped snapshot or, with credentials, from the Price List API over it.
 */
import type { CapturedResource } from "../preview/capture";
import { type CostResource, type Estimate, type EstimateOptions, estimateStack } from "../../policy-pack/cost/estimate";
import { type Price, PriceBook } from "../../policy-pack/cost/prices";
import { PRICE_SNAPSHOT } from "../../policy-pack/cost/price-snapshot";
import { summaryLines } from "./report";

export function costResources(captured: CapturedResource[]): CostResource[] {
    // By name: the program registers some resources inside outputs' callbacks, so capture order varies between runs.
    return captured
        .filter((r) => r.custom)
        .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }))
        .sort((a, b) => a.name.localeCompare(b.name) || a.urn.localeCompare(b.urn));
}

/** The region a stack deploys to, as the AWS provider resolves it: `aws:region`, else the environment. */
export function stackRegion(config: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string {
    const region = config["aws:region"] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error("the stack sets no aws:region (and AWS_REGION is unset): set it with `pulumi config set aws:region <region>`");
    return region;
}

export type PriceMode = "snapshot" | "live" | "auto";

export interface PricedEstimate {
    estimate: Estimate;
    /** Notes on where prices came from (live fetch failures, cache use). */
    notes: string[];
}

/** Estimates from the snapshot; in live mode (or auto with credentials) refetches every price it used or missed. */
export async function estimateWithPrices(resources: CostResource[], region: string, mode: PriceMode, options: EstimateOptions = {}): Promise<PricedEstimate> {
    const snapshotBook = PriceBook.fromSnapshot(region);
    const fromSnapshot = estimateStack(resources, snapshotBook, options);
    // The Price List client and the credential chain load only when prices may be fetched (the preview never does).
    const { credentialsConfigured, defaultCacheFile, fetchPrices, pricingClient } = await import("./fetch-prices");
    const live = mode === "live" || (mode === "auto" && credentialsConfigured());
    if (!live) return { estimate: fromSnapshot, notes: [`prices from the snapshot shipped with the policy pack (${PRICE_SNAPSHOT.date}; no AWS credentials configured, or --prices snapshot)`] };

    const keys = [...fromSnapshot.prices.map((p) => p.key), ...snapshotBook.missingKeys()];
    const fetched = await fetchPrices(keys, region, { client: pricingClient(), cacheFile: defaultCacheFile() });
    const merged: Record<string, Price> = { ...(PRICE_SNAPSHOT.prices[region] ?? {}), ...fetched.prices };
    const estimate = estimateStack(resources, new PriceBook(region, { [region]: merged }), options);
    const notes = [`prices from the AWS Price List API (${Object.keys(fetched.prices).length - fetched.cached.length} fetched, ${fetched.cached.length} from the cache in ${defaultCacheFile()})`];
    for (const [key, why] of Object.entries(fetched.failed)) notes.push(`${key}: ${why}; ${merged[key] ? `using the snapshot's price of ${merged[key].asOf}` : "no price"}`);
    return { estimate, notes };
}

/** The preview's closing lines: the stack's totals from the snapshot (the preview stays offline), or why there are none. */
export function costSummary(captured: CapturedResource[], config: Record<string, string>, env: NodeJS.ProcessEnv = process.env): string[] {
    try {
        const region = stackRegion(config, env);
        return summaryLines(estimateStack(costResources(captured), PriceBook.fromSnapshot(region)));
    } catch (e) {
        return [`Cost: not estimated (${(e as Error).message})`];
    }
}
