/**
 * Unit prices, keyed by what the estimate needs ("sagemaker:hosting:ml.m5.large"), per region. A price book is
 * either the snapshot shipped with the pack (price-snapshot.ts, refreshed by `npm run prices:update`) or what
 * the AWS Price List API answered (tools/cost/fetch-prices.ts); every price says where it came from and when,
 * so an estimate can say how old its numbers are.
 */
import { PRICE_SNAPSHOT } from "./price-snapshot";

/** The unit a price is per. */
export type PriceUnit = "hour" | "second" | "GB-second" | "GB" | "GB-month" | "month" | "request";

export interface Price {
    usd: number;
    unit: PriceUnit;
    /** Where the number comes from: "AWS Price List API" (with sku) or the public page it was read from. */
    source: string;
    /** The day the price was read or published (YYYY-MM-DD). */
    asOf: string;
    /** The Price List product the number was read from, when it came from the API. */
    sku?: string;
    usageType?: string;
}

export interface PriceSnapshot {
    /** When the snapshot was assembled (YYYY-MM-DD). */
    date: string;
    currency: "USD";
    regions: string[];
    /** How the snapshot was made, for a reader of the file. */
    note: string;
    prices: Record<string, Record<string, Price>>;
}

/** The keys of the prices an estimate looks up; each maps to one Price List query (tools/cost/fetch-prices.ts). */
export const priceKey = {
    sagemakerHosting: (instanceType: string) => `sagemaker:hosting:${instanceType}`,
    sagemakerTraining: (instanceType: string) => `sagemaker:training:${instanceType}`,
    /** Per second of inference at this memory size. */
    sagemakerServerless: (memoryMb: number) => `sagemaker:serverless:${memoryMb}`,
    /** Per second that one provisioned-concurrency slot of this memory size is kept warm. */
    sagemakerServerlessProvisioned: (memoryMb: number) => `sagemaker:serverless-provisioned:${memoryMb}`,
    ec2Instance: (instanceType: string) => `ec2:instance:${instanceType}`,
    ebsVolume: (volumeType: string) => `ec2:ebs:${volumeType}`,
    lambdaProvisionedConcurrency: (architecture: string) => `lambda:provisioned-concurrency:${architecture}`,
    kmsKey: () => "kms:key",
    logsIngestion: () => "logs:ingestion",
    logsStorage: () => "logs:storage",
    s3Standard: () => "s3:standard-storage",
    /** Per metric an alarm watches, per month, by resolution. */
    cloudwatchAlarm: (resolution: "standard" | "high-resolution") => `cloudwatch:alarm:${resolution}`,
    cloudwatchDashboard: () => "cloudwatch:dashboard",
    /** Per request an API Gateway HTTP API serves (the first tier: an account's first 300 million a month). */
    apigatewayHttpRequest: () => "apigateway:http-request",
} as const;

export const HOURS_PER_MONTH = 730;

/** A price looked up for an estimate, with its key, so a report can list which prices it used. */
export interface UsedPrice extends Price {
    key: string;
    region: string;
}

export class MissingPriceError extends Error {
    constructor(
        readonly region: string,
        readonly key: string,
        /** The regions the book has, when it has none for `region`. */
        knownRegions?: string[],
    ) {
        super(
            (knownRegions ? `no prices for region ${region} (the price book has ${knownRegions.join(", ") || "none"})` : `no price for ${key} in ${region}`) +
                `. Run \`npm run prices:update -- --region ${region}\` with AWS credentials to add it.`,
        );
    }
}

/** Prices for one region, recording every lookup. */
export class PriceBook {
    private readonly used = new Map<string, UsedPrice>();
    private readonly missing = new Set<string>();

    constructor(
        readonly region: string,
        private readonly prices: Record<string, Record<string, Price>>,
    ) {}

    static fromSnapshot(region: string, snapshot: PriceSnapshot = PRICE_SNAPSHOT): PriceBook {
        return new PriceBook(region, snapshot.prices);
    }

    has(key: string): boolean {
        return this.prices[this.region]?.[key] !== undefined;
    }

    /** The price of `key` in this book's region; throws MissingPriceError naming the key and the fix. */
    get(key: string): UsedPrice {
        const price = this.prices[this.region]?.[key];
        if (!price) {
            this.missing.add(key);
            throw new MissingPriceError(this.region, key, this.prices[this.region] ? undefined : Object.keys(this.prices));
        }
        const used = { ...price, key, region: this.region };
        this.used.set(key, used);
        return used;
    }

    /** Keys looked up but not in the book. */
    missingKeys(): string[] {
        return [...this.missing].sort();
    }

    /** Every price looked up so far, by key. */
    usedPrices(): UsedPrice[] {
        return [...this.used.values()].sort((a, b) => a.key.localeCompare(b.key));
    }
}

/** Whole days between a price's date and `now`. */
export function ageInDays(asOf: string, now: Date): number {
    return Math.max(0, Math.floor((now.getTime() - Date.parse(`${asOf}T00:00:00Z`)) / 86_400_000));
}
