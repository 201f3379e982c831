/**
 * `npm run prices:update [-- --region <r> ...]`: refreshes the price snapshot shipped in the policy pack from
 * the AWS Price List API (needs AWS credentials). It prices what the project needs: every key an estimate of
 * each `Pulumi.<stack>.yaml` looks up, the instance types of the pack's allow lists (policy-pack/config/*.json),
 * and the serverless, Lambda, KMS, logs and S3 prices a stack may come to use, for the stacks' regions, the
 * snapshot's regions and any --region. A price the API cannot give keeps its snapshot value (and says so).
 */
import type { PricingClient } from "@aws-sdk/client-pricing";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { estimateStack } from "../../policy-pack/cost/estimate";
import { type Price, PriceBook, priceKey, type PriceSnapshot } from "../../policy-pack/cost/prices";
import { PRICE_SNAPSHOT } from "../../policy-pack/cost/price-snapshot";
import { captureProgram, readStackConfig } from "../preview/capture";
import { fetchPrices, pricingClient } from "./fetch-prices";
import { writeSnapshot } from "./snapshot-file";
import { costResources, stackRegion } from "./stack-cost";

const repoRoot = path.resolve(__dirname, "../..");
const SERVERLESS_MEMORY_SIZES = [1024, 2048, 3072, 4096, 5120, 6144];

/** Keys every region gets: what a stack of this project can come to use beyond its current config. */
export function baseKeys(): string[] {
    return [
        ...SERVERLESS_MEMORY_SIZES.flatMap((mb) => [priceKey.sagemakerServerless(mb), priceKey.sagemakerServerlessProvisioned(mb)]),
        priceKey.lambdaProvisionedConcurrency("arm64"),
        priceKey.lambdaProvisionedConcurrency("x86_64"),
        priceKey.kmsKey(),
        priceKey.logsIngestion(),
        priceKey.logsStorage(),
        priceKey.s3Standard(),
        priceKey.ebsVolume("gp3"),
        priceKey.cloudwatchAlarm("standard"),
        priceKey.cloudwatchAlarm("high-resolution"),
        priceKey.cloudwatchDashboard(),
    ];
}

/** The instance types the pack's allow lists admit, as price keys. */
export function allowListKeys(packConfigDir: string): string[] {
    const keys: string[] = [];
    for (const file of fs.readdirSync(packConfigDir).filter((f) => f.endsWith(".json"))) {
        const config = JSON.parse(fs.readFileSync(path.join(packConfigDir, file), "utf8"))["allowed-instance-types"] ?? {};
        for (const type of config.endpointInstanceTypes ?? []) keys.push(priceKey.sagemakerHosting(type));
        for (const type of config.trainingInstanceTypes ?? []) keys.push(priceKey.sagemakerTraining(type));
        for (const type of config.ec2InstanceTypes ?? []) keys.push(priceKey.ec2Instance(type));
    }
    return keys;
}

/** Per region, the keys the project's stacks look up when estimated. */
export async function stackKeys(projectDir: string): Promise<Record<string, string[]>> {
    const byRegion: Record<string, string[]> = {};
    for (const file of fs.readdirSync(projectDir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))) {
        const stack = file.slice("Pulumi.".length, -".yaml".length);
        const config = await readStackConfig(path.join(projectDir, file));
        const region = stackRegion(config);
        const capture = await captureProgram({ program: path.join(projectDir, "infra", "index.ts"), stack, config });
        const book = PriceBook.fromSnapshot(region);
        const estimate = estimateStack(costResources(capture.resources), book);
        (byRegion[region] ??= []).push(...estimate.prices.map((p) => p.key), ...book.missingKeys());
    }
    return byRegion;
}

export interface UpdateResult {
    snapshot: PriceSnapshot;
    /** "region key: why" for every price the API could not give. */
    problems: string[];
}

export async function updateSnapshot(options: { client: PricingClient; regions?: string[]; projectDir?: string; now?: Date; previous?: PriceSnapshot }): Promise<UpdateResult> {
    const projectDir = options.projectDir ?? repoRoot;
    const previous = options.previous ?? PRICE_SNAPSHOT;
    const now = options.now ?? new Date();
    const fromStacks = await stackKeys(projectDir);
    const regions = [...new Set([...Object.keys(fromStacks), ...previous.regions, ...(options.regions ?? [])])].sort();
    const common = [...baseKeys(), ...allowListKeys(path.join(projectDir, "policy-pack", "config"))];
    const prices: PriceSnapshot["prices"] = {};
    const problems: string[] = [];
    for (const region of regions) {
        const keys = [...new Set([...common, ...(fromStacks[region] ?? []), ...Object.keys(previous.prices[region] ?? {})])].sort();
        const fetched = await fetchPrices(keys, region, { client: options.client, now });
        const regionPrices: Record<string, Price> = {};
        for (const key of keys) {
            const price = fetched.prices[key] ?? previous.prices[region]?.[key];
            if (fetched.failed[key]) problems.push(`${region} ${key}: ${fetched.failed[key]}${price ? ` (kept the price of ${price.asOf})` : " (no price)"}`);
            if (price) regionPrices[key] = price;
        }
        prices[region] = regionPrices;
    }
    const date = now.toISOString().slice(0, 10);
    return {
        snapshot: {
            date,
            currency: "USD",
            regions,
            note: `Refreshed from the AWS Price List API on ${date} by npm run prices:update; a price it could not fetch keeps its earlier value and source.`,
            prices,
        },
        problems,
    };
}

async function cli(argv: string[]): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { region: { type: "string", multiple: true } }, strict: true });
    const { snapshot, problems } = await updateSnapshot({ client: pricingClient(), regions: values.region });
    writeSnapshot(snapshot);
    const count = Object.values(snapshot.prices).reduce((n, r) => n + Object.keys(r).length, 0);
    console.log(`wrote ${count} prices for ${snapshot.regions.join(", ")} (${snapshot.date}) to policy-pack/cost/price-snapshot.ts; run npm run build so the pack ships them`);
    for (const problem of problems) console.error(problem);
    return problems.some((p) => p.endsWith("(no price)")) ? 1 : 0;
}

if (require.main === module) {
    cli(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (e: unknown) => {
            console.error(`error: ${(e as Error).message}`);
            process.exitCode = 2;
        },
    );
}
