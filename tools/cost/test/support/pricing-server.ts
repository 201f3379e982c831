/**
 * A loopback HTTP server speaking the AWS Price List Query API (`AWSPriceListService.GetProducts`, JSON 1.1
 * protocol, SigV4 for service "pricing") over a catalog of Price List products, closely enough for the real
 * @aws-sdk/client-pricing to be pointed at it. Filters are applied as the service applies them
 * (TERM_MATCH/EQUALS: the attribute equals the value; CONTAINS: it contains it), answers are paged with
 * MaxResults/NextToken, and signatures are recomputed with the runtime server's verifier.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { AUTHORIZATION, TEST_CREDENTIALS, verifySignature } from "../../../../lambda-src/test/support/sagemaker-runtime-server";

export interface CatalogProduct {
    serviceCode: string;
    sku: string;
    productFamily?: string;
    attributes: Record<string, string>;
    /** USD per unit of the first (or only) tier. */
    usd: string;
    unit: string;
    /** Further tiers, e.g. S3 storage above 50 TB. */
    moreTiers?: { beginRange: string; usd: string }[];
}

export interface GetProductsCall {
    serviceCode: string;
    filters: { Type: string; Field: string; Value: string }[];
    nextToken?: string;
    region: string;
    service: string;
}

export interface PricingServer {
    url: string;
    calls: GetProductsCall[];
    rejected: string[];
    close(): Promise<void>;
}

/** A product as GetProducts returns it: one JSON document per product, as a string. */
export function priceListDocument(p: CatalogProduct): string {
    const term = `${p.sku}.JRTCKXETXF`;
    const dimensions: Record<string, unknown> = {
        [`${term}.6YS6EN2CT7`]: { unit: p.unit, beginRange: "0", endRange: p.moreTiers ? p.moreTiers[0].beginRange : "Inf", pricePerUnit: { USD: p.usd }, description: `$${p.usd} per ${p.unit}` },
    };
    for (const [i, tier] of (p.moreTiers ?? []).entries()) {
        dimensions[`${term}.TIER${i}`] = { unit: p.unit, beginRange: tier.beginRange, endRange: "Inf", pricePerUnit: { USD: tier.usd } };
    }
    return JSON.stringify({
        product: { productFamily: p.productFamily, attributes: { servicecode: p.serviceCode, ...p.attributes }, sku: p.sku },
        serviceCode: p.serviceCode,
        terms: { OnDemand: { [term]: { priceDimensions: dimensions, sku: p.sku, effectiveDate: "2026-11-01T00:00:00Z", offerTermCode: "JRTCKXETXF" } } },
        version: "20261101000000",
        publicationDate: "2026-11-01T00:00:00Z",
    });
}

function matches(p: CatalogProduct, filter: { Type: string; Field: string; Value: string }): boolean {
    const value = filter.Field === "ServiceCode" ? p.serviceCode : filter.Field === "productFamily" ? p.productFamily : p.attributes[filter.Field];
    if (value === undefined) return false;
    if (filter.Type === "CONTAINS") return value.includes(filter.Value);
    return value === filter.Value;
}

function error(res: http.ServerResponse, status: number, type: string, message: string): void {
    const body = JSON.stringify({ __type: type, Message: message });
    res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "loopback", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
}

export async function startPricingServer(catalog: CatalogProduct[], options: { failServiceCodes?: string[] } = {}): Promise<PricingServer> {
    const calls: GetProductsCall[] = [];
    const rejected: string[] = [];
    const refuse = (res: http.ServerResponse, status: number, type: string, message: string) => {
        rejected.push(`${type}: ${message}`);
        error(res, status, type, message);
    };
    const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
        if (req.method !== "POST" || (req.url ?? "/") !== "/") return refuse(res, 404, "UnknownOperationException", `${req.method} ${req.url}`);
        const target = req.headers["x-amz-target"];
        if (target !== "AWSPriceListService.GetProducts") return refuse(res, 400, "UnknownOperationException", `unsupported X-Amz-Target ${String(target)}`);
        if (req.headers["content-type"] !== "application/x-amz-json-1.1") return refuse(res, 400, "SerializationException", `Content-Type ${req.headers["content-type"]}`);
        const auth = AUTHORIZATION.exec(req.headers.authorization ?? "");
        if (!auth) return refuse(res, 403, "MissingAuthenticationTokenException", "Missing or malformed SigV4 Authorization");
        const [, accessKeyId, , region, service] = auth;
        if (accessKeyId !== TEST_CREDENTIALS.accessKeyId) return refuse(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
        if (service !== "pricing") return refuse(res, 403, "InvalidSignatureException", `Credential should be scoped to correct service: 'pricing', not '${service}'.`);
        if (!(await verifySignature(req, body, auth, TEST_CREDENTIALS))) return refuse(res, 403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");

        const request = JSON.parse(body.toString("utf8")) as { ServiceCode?: string; Filters?: GetProductsCall["filters"]; FormatVersion?: string; NextToken?: string; MaxResults?: number };
        if (!request.ServiceCode) return refuse(res, 400, "InvalidParameterException", "ServiceCode is required");
        const filters = request.Filters ?? [];
        for (const f of filters) {
            if (!["TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF"].includes(f.Type)) return refuse(res, 400, "InvalidParameterException", `Invalid filter type ${f.Type}`);
        }
        calls.push({ serviceCode: request.ServiceCode, filters, nextToken: request.NextToken, region, service });
        if (options.failServiceCodes?.includes(request.ServiceCode)) return error(res, 500, "InternalErrorException", "An internal error occurred");
        const all = catalog.filter((p) => p.serviceCode === request.ServiceCode && filters.every((f) => matches(p, f)));
        const start = request.NextToken ? Number(request.NextToken) : 0;
        const size = Math.min(request.MaxResults ?? 100, 100);
        const page = all.slice(start, start + size);
        const answer = JSON.stringify({
            FormatVersion: request.FormatVersion ?? "aws_v1",
            PriceList: page.map(priceListDocument),
            ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
        });
        res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "loopback", "Content-Length": Buffer.byteLength(answer) });
        res.end(answer);
    };
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => void handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => error(res, 500, "InternalErrorException", String(e))));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        calls,
        rejected,
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
