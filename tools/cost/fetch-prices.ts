/**
 * Prices from the AWS Price List API (`GetProducts`), one query per price key, cached on disk so repeated
 * estimates make no calls. The Price List endpoint lives in us-east-1 (also eu-central-1 and ap-south-1)
 * whatever region is being priced; products are selected by `regionCode`.
 */
import { GetProductsCommand, type Filter, PricingClient } from "@aws-sdk/client-pricing";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Price, PriceUnit } from "../../policy-pack/cost/prices";

export const PRICING_API_REGIONS = ["us-east-1", "eu-central-1", "ap-south-1"];

export interface PriceQuery {
    serviceCode: string;
    filters: { field: string; value: string; type?: "TERM_MATCH" | "CONTAINS" }[];
    unit: PriceUnit;
    /** Narrows the answer when the filters alone match products that are not this price (other usage types). */
    accept?: (attributes: Record<string, string>) => boolean;
}

const usageTypeIs = (pattern: RegExp) => (attributes: Record<string, string>) => pattern.test(attributes.usagetype ?? "");

/** The GetProducts query answering one price key (see priceKey in policy-pack/cost/prices.ts). */
export function queryFor(key: string, region: string): PriceQuery {
    const [service, kind, ...rest] = key.split(":");
    const arg = rest.join(":");
    const inRegion = { field: "regionCode", value: region };
    const query = ((): PriceQuery | undefined => {
        switch (`${service}:${kind}`) {
            case "sagemaker:hosting":
            case "sagemaker:training":
                return {
                    serviceCode: "AmazonSageMaker",
                    unit: "hour",
                    filters: [inRegion, { field: "productFamily", value: "ML Instance" }, { field: "instanceName", value: arg }, { field: "component", value: kind === "hosting" ? "Hosting" : "Training" }],
                };
            case "sagemaker:serverless":
            case "sagemaker:serverless-provisioned": {
                const gb = Number(arg) / 1024;
                if (!Number.isInteger(gb)) return undefined;
                return {
                    serviceCode: "AmazonSageMaker",
                    unit: "second",
                    filters: [inRegion, { field: "productFamily", value: "ML Serverless" }, { field: "usagetype", value: `Mem-${gb}GB`, type: "CONTAINS" }],
                    // On-demand inference is "<prefix>-ServerlessInf:Mem-<n>GB"; provisioned concurrency carries a PC/Provisioned marker.
                    accept: kind === "serverless"
                        ? usageTypeIs(new RegExp(`^[A-Z0-9]+-ServerlessInf:Mem-${gb}GB$`))
                        : (a) => /(PC|Provisioned)/.test(a.usagetype ?? "") && !/Duration/.test(a.usagetype ?? "") && (a.usagetype ?? "").endsWith(`:Mem-${gb}GB`),
                };
            }
            case "ec2:instance":
                return {
                    serviceCode: "AmazonEC2",
                    unit: "hour",
                    filters: [
                        inRegion,
                        { field: "instanceType", value: arg },
                        { field: "operatingSystem", value: "Linux" },
                        { field: "tenancy", value: "Shared" },
                        { field: "preInstalledSw", value: "NA" },
                        { field: "capacitystatus", value: "Used" },
                        { field: "licenseModel", value: "No License required" },
                    ],
                };
            case "ec2:ebs":
                return { serviceCode: "AmazonEC2", unit: "GB-month", filters: [inRegion, { field: "productFamily", value: "Storage" }, { field: "volumeApiName", value: arg }] };
            case "lambda:provisioned-concurrency":
                return {
                    serviceCode: "AWSLambda",
                    unit: "GB-second",
                    filters: [inRegion, { field: "group", value: arg === "arm64" ? "AWS-Lambda-Provisioned-Concurrency-ARM" : "AWS-Lambda-Provisioned-Concurrency" }],
                };
            case "kms:key":
                return {
                    serviceCode: "awskms",
                    unit: "month",
                    filters: [inRegion, { field: "usagetype", value: "KMS-Keys", type: "CONTAINS" }],
                    accept: usageTypeIs(/^([A-Z0-9]+-)?KMS-Keys$/),
                };
            case "logs:ingestion":
            case "logs:storage": {
                const usage = kind === "ingestion" ? "DataProcessing-Bytes" : "TimedStorage-ByteHrs";
                return {
                    serviceCode: "AmazonCloudWatch",
                    unit: kind === "ingestion" ? "GB" : "GB-month",
                    filters: [inRegion, { field: "usagetype", value: usage, type: "CONTAINS" }],
                    accept: usageTypeIs(new RegExp(`^([A-Z0-9]+-)?${usage}$`)),
                };
            }
            case "cloudwatch:alarm": {
                const usage = arg === "high-resolution" ? "HighResAlarmMonitorUsage" : "AlarmMonitorUsage";
                return {
                    serviceCode: "AmazonCloudWatch",
                    unit: "month",
                    filters: [inRegion, { field: "usagetype", value: usage, type: "CONTAINS" }],
                    accept: usageTypeIs(new RegExp(`^([A-Z0-9]+-)?CW:${usage}$`)),
                };
            }
            case "apigateway:http-request":
                return {
                    serviceCode: "AmazonApiGateway",
                    unit: "request",
                    filters: [inRegion, { field: "usagetype", value: "ApiGatewayHttpRequest", type: "CONTAINS" }],
                    accept: usageTypeIs(/^([A-Z0-9]+-)?ApiGatewayHttpRequest$/),
                };
            case "s3:standard-storage":
                return {
                    serviceCode: "AmazonS3",
                    unit: "GB-month",
                    filters: [inRegion, { field: "volumeType", value: "Standard" }, { field: "usagetype", value: "TimedStorage-ByteHrs", type: "CONTAINS" }],
                    accept: usageTypeIs(/^([A-Z0-9]+-)?TimedStorage-ByteHrs$/),
                };
        }
        return undefined;
    })();
    // The dashboard price is per month on the pricing page but its Price List unit is not confirmed here: it stays a snapshot price.
    if (!query) throw new PriceFetchError(`price key ${key} has no Price List query (known kinds: sagemaker:hosting|training|serverless|serverless-provisioned, ec2:instance|ebs, lambda:provisioned-concurrency, kms:key, logs:ingestion|storage, s3:standard-storage, cloudwatch:alarm, apigateway:http-request)`);
    return query;
}

interface PriceListProduct {
    product?: { sku?: string; productFamily?: string; attributes?: Record<string, string> };
    terms?: { OnDemand?: Record<string, { effectiveDate?: string; priceDimensions?: Record<string, { unit?: string; beginRange?: string; pricePerUnit?: Record<string, string> }> }> };
    publicationDate?: string;
}

/** The on-demand USD price of one Price List product: its first tier (beginRange 0). */
function onDemandUsd(product: PriceListProduct): { usd: number; effectiveDate?: string; apiUnit?: string } | undefined {
    for (const term of Object.values(product.terms?.OnDemand ?? {})) {
        const dimensions = Object.values(term.priceDimensions ?? {});
        const first = dimensions.find((d) => d.beginRange === undefined || d.beginRange === "0") ?? dimensions[0];
        const usd = first?.pricePerUnit?.USD;
        if (usd !== undefined && Number.isFinite(Number(usd))) return { usd: Number(usd), effectiveDate: term.effectiveDate, apiUnit: first.unit };
    }
    return undefined;
}

export class PriceFetchError extends Error {}

/** Asks GetProducts for one key's price in `region`. */
export async function fetchPrice(client: PricingClient, key: string, region: string, now = new Date()): Promise<Price> {
    const query = queryFor(key, region);
    const filters: Filter[] = query.filters.map((f) => ({ Field: f.field, Value: f.value, Type: f.type ?? "TERM_MATCH" }));
    const candidates: { sku: string; usageType?: string; usd: number; effectiveDate?: string; apiUnit?: string }[] = [];
    let nextToken: string | undefined;
    do {
        let answer;
        try {
            answer = await client.send(new GetProductsCommand({ ServiceCode: query.serviceCode, Filters: filters, FormatVersion: "aws_v1", MaxResults: 100, NextToken: nextToken }));
        } catch (err) {
            throw new PriceFetchError(`Price List API GetProducts ${query.serviceCode} for ${key} in ${region} failed: ${(err as Error).name}: ${(err as Error).message}`);
        }
        for (const entry of answer.PriceList ?? []) {
            // Each entry is a JSON document; the SDK hands it over as a string or a lazily parsed string wrapper.
            const product = JSON.parse(String(entry)) as PriceListProduct;
            const attributes = product.product?.attributes ?? {};
            if (query.accept && !query.accept(attributes)) continue;
            const price = onDemandUsd(product);
            if (price) candidates.push({ sku: product.product?.sku ?? "?", usageType: attributes.usagetype, ...price });
        }
        nextToken = answer.NextToken;
    } while (nextToken);

    if (candidates.length === 0) throw new PriceFetchError(`Price List API has no on-demand product for ${key} in ${region} (${query.serviceCode}, ${describe(query)})`);
    const distinct = new Set(candidates.map((c) => c.usd));
    if (distinct.size > 1) {
        throw new PriceFetchError(
            `Price List API matched ${candidates.length} products with different prices for ${key} in ${region}: ` +
                candidates.map((c) => `${c.sku} ${c.usageType ?? ""} $${c.usd}`).join(", "),
        );
    }
    const chosen = candidates[0];
    return {
        usd: chosen.usd,
        unit: query.unit,
        source: `AWS Price List API (GetProducts ${query.serviceCode}${chosen.apiUnit ? `, per ${chosen.apiUnit}` : ""}${chosen.effectiveDate ? `, effective ${chosen.effectiveDate.slice(0, 10)}` : ""})`,
        asOf: now.toISOString().slice(0, 10),
        sku: chosen.sku,
        ...(chosen.usageType ? { usageType: chosen.usageType } : {}),
    };
}

function describe(query: PriceQuery): string {
    return query.filters.map((f) => `${f.field}${f.type === "CONTAINS" ? " contains " : "="}${f.value}`).join(", ");
}

interface CacheFile {
    [region: string]: { [key: string]: Price & { fetchedAt: string } };
}

export function defaultCacheFile(): string {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    return path.join(base, "sagemaker-classifier", "prices.json");
}

export interface FetchOptions {
    client: PricingClient;
    /** Where fetched prices are kept between runs; none: no cache. */
    cacheFile?: string;
    /** A cached price older than this is fetched again (default 24 h). */
    maxAgeHours?: number;
    now?: Date;
}

export interface FetchResult {
    prices: Record<string, Price>;
    /** Keys answered from the cache rather than the API. */
    cached: string[];
    /** Keys the API could not price, with why. */
    failed: Record<string, string>;
}

/** Fetches every key for `region`, taking fresh prices from the cache and writing back what it fetched. */
export async function fetchPrices(keys: string[], region: string, options: FetchOptions): Promise<FetchResult> {
    const now = options.now ?? new Date();
    const maxAgeMs = (options.maxAgeHours ?? 24) * 3_600_000;
    const cache = options.cacheFile ? readCache(options.cacheFile) : {};
    const result: FetchResult = { prices: {}, cached: [], failed: {} };
    for (const key of [...new Set(keys)].sort()) {
        const hit = cache[region]?.[key];
        if (hit && now.getTime() - Date.parse(hit.fetchedAt) < maxAgeMs) {
            const { fetchedAt: _fetchedAt, ...price } = hit;
            result.prices[key] = price;
            result.cached.push(key);
            continue;
        }
        try {
            const price = await fetchPrice(options.client, key, region, now);
            result.prices[key] = price;
            (cache[region] ??= {})[key] = { ...price, fetchedAt: now.toISOString() };
        } catch (err) {
            if (!(err instanceof PriceFetchError)) throw err;
            result.failed[key] = err.message;
        }
    }
    if (options.cacheFile) {
        fs.mkdirSync(path.dirname(options.cacheFile), { recursive: true });
        fs.writeFileSync(options.cacheFile, JSON.stringify(cache, null, 2));
    }
    return result;
}

function readCache(file: string): CacheFile {
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8"));
        return parsed && typeof parsed === "object" ? (parsed as CacheFile) : {};
    } catch {
        return {}; // A missing or damaged cache is refilled.
    }
}

/** A Price List client; `AWS_ENDPOINT_URL_PRICING` (or `endpoint`) points it elsewhere, as for any SDK client. */
export function pricingClient(options: { region?: string; endpoint?: string } = {}): PricingClient {
    const region = options.region ?? process.env.AWS_PRICING_REGION ?? "us-east-1";
    if (!PRICING_API_REGIONS.includes(region)) {
        throw new Error(`the Price List API is served from ${PRICING_API_REGIONS.join(", ")}, not ${region} (AWS_PRICING_REGION)`);
    }
    return new PricingClient({ region, ...(options.endpoint ? { endpoint: options.endpoint } : {}), maxAttempts: 2 });
}

/** Whether the SDK's default chain is likely to find credentials without probing instance metadata. */
export function credentialsConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
    if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return true;
    const home = os.homedir();
    const files = [env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials"), env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config")];
    return files.some((file) => fs.existsSync(file));
}
