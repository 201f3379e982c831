import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TEST_CREDENTIALS } from "../../../lambda-src/test/support/sagemaker-runtime-server";
import { priceKey } from "../../../policy-pack/cost/prices";
import { fetchPrices, pricingClient } from "../fetch-prices";
import { catalog, ec2 } from "./support/pricing-catalog";
import { type PricingServer, startPricingServer } from "./support/pricing-server";

import { region } from "./support/pricing-catalog";

describe("price fetcher against a loopback Price List API", function () {
    let server: PricingServer;
    let tmp: string;
    const saved = { ...process.env };

    before(() => {
        process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
        process.env.AWS_SESSION_TOKEN = TEST_CREDENTIALS.sessionToken;
        delete process.env.AWS_PROFILE;
    });
    after(() => {
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) {
            if (saved[key] === undefined) delete process.env[key];
            else process.env[key] = saved[key];
        }
    });
    beforeEach(async () => {
        server = await startPricingServer(catalog());
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "prices-"));
    });
    afterEach(async () => {
        await server.close();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const keys = [
        priceKey.sagemakerHosting("ml.m5.large"),
        priceKey.sagemakerTraining("ml.m5.xlarge"),
        priceKey.sagemakerServerless(3072),
        priceKey.sagemakerServerlessProvisioned(3072),
        priceKey.ec2Instance("m5.xlarge"),
        priceKey.ebsVolume("gp3"),
        priceKey.lambdaProvisionedConcurrency("arm64"),
        priceKey.lambdaProvisionedConcurrency("x86_64"),
        priceKey.kmsKey(),
        priceKey.logsIngestion(),
        priceKey.logsStorage(),
        priceKey.s3Standard(),
        priceKey.cloudwatchAlarm("standard"),
        priceKey.cloudwatchAlarm("high-resolution"),
    ];

    it("picks each price from the right product through the real SDK, signed for service pricing", async () => {
        const client = pricingClient({ endpoint: server.url });
        const result = await fetchPrices(keys, region, { client, now: new Date("2026-12-01T08:00:00Z") });
        expect(result.failed).to.deep.equal({});
        const usd = Object.fromEntries(Object.entries(result.prices).map(([k, p]) => [k, p.usd]));
        expect(usd).to.deep.equal({
            "sagemaker:hosting:ml.m5.large": 0.115,
            "sagemaker:training:ml.m5.xlarge": 0.23,
            "sagemaker:serverless:3072": 0.00006,
            "sagemaker:serverless-provisioned:3072": 0.0000144,
            "ec2:instance:m5.xlarge": 0.192,
            "ec2:ebs:gp3": 0.08,
            "lambda:provisioned-concurrency:arm64": 0.0000033334,
            "lambda:provisioned-concurrency:x86_64": 0.0000041667,
            "kms:key": 1,
            "logs:ingestion": 0.5,
            "logs:storage": 0.03,
            "s3:standard-storage": 0.023,
            "cloudwatch:alarm:standard": 0.1,
            "cloudwatch:alarm:high-resolution": 0.3,
        });
        expect(result.prices["sagemaker:hosting:ml.m5.large"]).to.include({ sku: "HOSTM5L", usageType: "USE1-Host:ml.m5.large", asOf: "2026-12-01" });
        expect(result.prices["sagemaker:hosting:ml.m5.large"].source).to.match(/^AWS Price List API \(GetProducts AmazonSageMaker, per Hrs, effective 2026-11-01\)$/);
        expect(server.rejected).to.deep.equal([]);
        expect(server.calls.every((c) => c.region === "us-east-1" && c.service === "pricing")).to.equal(true);
        // The log ingestion query needed a second page.
        expect(server.calls.filter((c) => c.serviceCode === "AmazonCloudWatch" && c.nextToken !== undefined)).to.have.length.greaterThan(0);
        const ec2Call = server.calls.find((c) => c.serviceCode === "AmazonEC2" && c.filters.some((f) => f.Field === "instanceType"));
        expect(ec2Call?.filters).to.deep.include({ Type: "TERM_MATCH", Field: "regionCode", Value: "us-east-1" });
    });

    it("answers from its cache while fresh and asks again once stale", async () => {
        const client = pricingClient({ endpoint: server.url });
        const cacheFile = path.join(tmp, "prices.json");
        const first = await fetchPrices(keys.slice(0, 2), region, { client, cacheFile, now: new Date("2026-12-01T08:00:00Z") });
        expect(first.cached).to.deep.equal([]);
        const calls = server.calls.length;
        const second = await fetchPrices(keys.slice(0, 2), region, { client, cacheFile, now: new Date("2026-12-01T20:00:00Z") });
        expect(second.cached).to.have.members(keys.slice(0, 2));
        expect(second.prices).to.deep.equal(first.prices);
        expect(server.calls.length).to.equal(calls);
        await fetchPrices(keys.slice(0, 2), region, { client, cacheFile, now: new Date("2026-12-02T09:00:00Z") });
        expect(server.calls.length).to.equal(calls + 2);
    });

    it("reports a key with no product, an ambiguous match and a failing service by name, and still prices the rest", async () => {
        await server.close();
        const products = catalog();
        products.push(ec2("EC2M5XLOTHER", { usagetype: "BoxUsage:m5.xlarge-other" }, "0.2000000000"));
        server = await startPricingServer(products, { failServiceCodes: ["awskms"] });
        const client = pricingClient({ endpoint: server.url });
        const result = await fetchPrices([priceKey.sagemakerHosting("ml.z9.huge"), priceKey.ec2Instance("m5.xlarge"), priceKey.kmsKey(), priceKey.logsStorage()], region, { client });
        expect(Object.keys(result.prices)).to.deep.equal(["logs:storage"]);
        expect(result.failed["sagemaker:hosting:ml.z9.huge"]).to.match(/no on-demand product for sagemaker:hosting:ml\.z9\.huge in us-east-1 \(AmazonSageMaker, .*instanceName=ml\.z9\.huge/);
        expect(result.failed["ec2:instance:m5.xlarge"]).to.match(/matched 2 products with different prices .*EC2M5XL .*\$0\.192.*EC2M5XLOTHER .*\$0\.2/);
        expect(result.failed["kms:key"]).to.match(/GetProducts awskms for kms:key in us-east-1 failed: InternalErrorException/);
    });

    it("refuses a Price List region the API is not served from", () => {
        expect(() => pricingClient({ region: "us-west-2" })).to.throw(/served from us-east-1, eu-central-1, ap-south-1, not us-west-2/);
    });
});
