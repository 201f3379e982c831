import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { parse as parseYaml } from "yaml";
import { PRICE_SNAPSHOT } from "../../../policy-pack/cost/price-snapshot";
import { captureProgram, readStackConfig } from "../../preview/capture";
import { main } from "../cli";


const repoRoot = path.resolve(__dirname, "../../..");

class Sink extends Writable {
    text = "";
    _write(chunk: Buffer, _encoding: string, done: () => void): void {
        this.text += chunk.toString();
        done();
    }
}

async function run(args: string[], servingResultFile?: string): Promise<{ code: number; out: string; err: string }> {
    const out = new Sink();
    const err = new Sink();
    const code = await main(args, { out, err, cwd: repoRoot, now: new Date("2026-12-03T12:00:00Z"), servingResultFile });
    return { code, out: out.text, err: err.text };
}

/** A serving bench result as `BENCH_RECORD=1 npm run bench -- serving` writes it. */
const SERVING = {
    date: "2026-12-07",
    machine: { cpu: "AMD EPYC", vcpus: 2, capability: "AVX2", avx512: false, vnni: false, bf16: false },
    torch: "2.6.0",
    loadAverage: { start: 3.21, end: 2.5 },
    clients: 4,
    stock: { configuration: "stock handler, eager fp32, 2 workers x 1 thread", workers: 2, imagesPerSecond: 4, p99Ms: 900 },
    best: { configuration: "project handler, int8, 2 workers x 1 thread", precision: "int8", workers: 2, threadsPerWorker: 1, batchSize: 1, imagesPerSecond: 10, p99Ms: 600 },
    speedup: 2.5,
};

interface JsonEstimate {
    region: string;
    currency: string;
    resources: { name: string; type: string; hourlyUsd: number; monthlyUsd: number; oneOffUsd: number; basis: string }[];
    totals: { hourlyUsdAtMin: number; hourlyUsdAtMax: number; monthlyUsdAtMin: number; monthlyUsdAtMax: number; oneOffUsdMax: number };
}

describe("npm run cost", function () {
    this.timeout(120_000);

    it("prices the prod stack exactly as independent arithmetic over its config and the snapshot does", async () => {
        const { code, out, err } = await run(["--stack", "prod", "--json", "--prices", "snapshot"]);
        expect(code, err).to.equal(0);
        const estimate = JSON.parse(out) as JsonEstimate;

        // Independently: the stack file's numbers times the snapshot's prices, no estimator code involved.
        const doc = parseYaml(fs.readFileSync(path.join(repoRoot, "Pulumi.prod.yaml"), "utf8")).config;
        const c = (key: string) => doc[`sagemaker-classifier:${key}`];
        const prices = PRICE_SNAPSHOT.prices[doc["aws:region"]];
        const usd = (key: string) => prices[key].usd;
        const endpointPrice = usd(`sagemaker:hosting:${c("endpoint").instanceType}`);
        const lambdaHourly = c("api").provisionedConcurrency * (c("api").memoryMb / 1024) * 3600 * usd("lambda:provisioned-concurrency:arm64");
        const runtimeHours = c("training").maxRuntimeSeconds / 3600;
        const tuning = c("training").tuning.maxJobs * runtimeHours * usd(`sagemaker:training:${c("training").instanceType}`);
        // The EC2 run computes once, then stops itself: its root volume is billed for as long as the stack keeps it.
        const ec2 = usd(`ec2:instance:${c("ec2Training").instanceType}`) * runtimeHours;
        const ec2VolumeHourly = (c("ec2Training").rootVolumeGb * usd("ec2:ebs:gp3")) / 730;

        // Monitoring has no config count: count its keys, alarm metrics and dashboards in the program's resources.
        const { resources } = await captureProgram({ program: path.join(repoRoot, "infra", "index.ts"), stack: "prod", config: await readStackConfig(path.join(repoRoot, "Pulumi.prod.yaml")) });
        const ofType = (type: string) => resources.filter((r) => r.type === type);
        const alarmMetrics = ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
            .map((a) => (Array.isArray(a.inputs.metricQueries) ? (a.inputs.metricQueries as { metric?: unknown }[]).filter((q) => q.metric).length : 1))
            .reduce((n, m) => n + m, 0);
        const monthly = ofType("aws:kms/key:Key").length * usd("kms:key") + alarmMetrics * usd("cloudwatch:alarm:standard") + ofType("aws:cloudwatch/dashboard:Dashboard").length * usd("cloudwatch:dashboard");
        const fixedHourly = lambdaHourly + monthly / 730 + ec2VolumeHourly;
        // The HTTPS front bills per request: none when idle, at most its throttle's rate every second of the hour.
        const httpApiAtMax = c("api").http.throttlingRateLimit * 3600 * usd("apigateway:http-request");

        const expected = {
            hourlyUsdAtMin: c("autoscaling").minCapacity * endpointPrice + fixedHourly,
            hourlyUsdAtMax: c("autoscaling").maxCapacity * endpointPrice + fixedHourly + httpApiAtMax,
            oneOffUsdMax: tuning + ec2,
        };
        expect(estimate.region).to.equal("us-east-1");
        expect(estimate.currency).to.equal("USD");
        expect(estimate.totals.hourlyUsdAtMin).to.be.closeTo(expected.hourlyUsdAtMin, 1e-6);
        expect(estimate.totals.hourlyUsdAtMax).to.be.closeTo(expected.hourlyUsdAtMax, 1e-6);
        expect(estimate.totals.monthlyUsdAtMin).to.be.closeTo(expected.hourlyUsdAtMin * 730, 1e-5);
        expect(estimate.totals.monthlyUsdAtMax).to.be.closeTo(expected.hourlyUsdAtMax * 730, 1e-5);
        expect(estimate.totals.oneOffUsdMax).to.be.closeTo(expected.oneOffUsdMax, 1e-6);
        // The shape, exactly.
        expect(Object.keys(estimate)).to.deep.equal(["region", "currency", "resources", "totals"]);
        for (const r of estimate.resources) expect(Object.keys(r)).to.deep.equal(["name", "type", "hourlyUsd", "monthlyUsd", "oneOffUsd", "basis"]);
        const byType = (type: string) => estimate.resources.filter((r) => r.type === type);
        expect(byType("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob")[0].basis).to.match(/4 jobs x 1 x ml\.m5\.xlarge x 4 h max runtime.*2 at a time: up to 8 h wall time/);
        expect(byType("aws:sagemaker/endpoint:Endpoint")[0].basis).to.match(/1 x ml\.m5\.large at \$0\.115\/h, up to 4 = \$0\.460\/h/);
        expect(byType("aws:ec2/instance:Instance")[0].basis).to.match(/m5\.xlarge at \$0\.192\/h for 4 h .*stops itself when training ends, then stopped: 100 GB gp3 at \$0\.080\/GB-month until deleted/);
        expect(byType("aws:apigatewayv2/stage:Stage")[0].basis).to.match(/\$1\.00 per million requests; 0 requests\/h = \$0\/h; throttled at 20 requests\/s = \$0\.072\/h at max/);
        expect(err).to.match(/prices from the snapshot shipped with the policy pack \(2026-12-01/);
    });

    it("prices dev, serverless, at under a dollar a day when idle", async () => {
        const { code, out } = await run(["--stack", "dev", "--json", "--prices", "snapshot"]);
        expect(code).to.equal(0);
        const estimate = JSON.parse(out) as JsonEstimate;
        const endpoint = estimate.resources.find((r) => r.type === "aws:sagemaker/endpoint:Endpoint");
        expect(endpoint?.hourlyUsd, "a serverless endpoint costs nothing idle").to.equal(0);
        expect(endpoint?.basis).to.match(/serverless 3072 MB at \$0\.00006\/s/);
        expect(estimate.totals.hourlyUsdAtMin * 24).to.be.below(1);
        expect(estimate.totals.oneOffUsdMax).to.equal(0);
        // Traffic is priced per second of inference: 100 requests/h x 2 s x $0.00006/s.
        const busy = JSON.parse((await run(["--stack", "dev", "--json", "--prices", "snapshot", "--requests-per-hour", "100", "--seconds-per-request", "2"])).out) as JsonEstimate;
        expect(busy.totals.hourlyUsdAtMin - estimate.totals.hourlyUsdAtMin).to.be.closeTo(100 * 2 * PRICE_SNAPSHOT.prices["us-east-1"]["sagemaker:serverless:3072"].usd, 1e-6);
    });

    it("prints a table, how each figure is reached, and where every price came from and how old it is", async () => {
        const { code, out } = await run(["--stack", "prod", "--prices", "snapshot"]);
        expect(code).to.equal(0);
        expect(out).to.match(/^Cost of stack prod before `pulumi up` \(us-east-1/);
        expect(out).to.match(/\| resource +\| type +\| \$\/h idle \| \$\/h max \| \$\/month idle \| one-off max \$ \|/);
        expect(out).to.match(/\| classifier-endpoint +\| Endpoint +\| 0\.115 +\| 0\.460 +\| 83\.95 +\| 0 +\|/);
        expect(out).to.match(/\| \*\*total\*\* /);
        expect(out).to.match(/sagemaker:hosting:ml\.m5\.large: \$0\.115 per hour - AWS Price List API .*as of 2026-12-01 \(2 days old\)/);
    });

    it("says which resources it cannot price in a region the snapshot lacks, and how to fix it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-"));
        try {
            const file = path.join(dir, "Pulumi.paris.yaml");
            fs.writeFileSync(file, fs.readFileSync(path.join(repoRoot, "Pulumi.prod.yaml"), "utf8").replace("aws:region: us-east-1", "aws:region: eu-west-3"));
            const { code, out, err } = await run(["--stack", "paris", "--config-file", file, "--json", "--prices", "snapshot"]);
            expect(code).to.equal(0);
            expect(JSON.parse(out).region).to.equal("eu-west-3");
            expect(err).to.match(/not priced: classifier-endpoint \(aws:sagemaker\/endpoint:Endpoint\): no prices for region eu-west-3 \(the price book has us-east-1\)\. Run `npm run prices:update -- --region eu-west-3`/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("prices a million images at the recorded throughput, labelled as the measuring machine's figure", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-serving-"));
        try {
            const file = path.join(dir, "serving.json");
            fs.writeFileSync(file, JSON.stringify(SERVING));
            // The snapshot's ml.m5.large at $0.115/h over images per hour, per million: 0.115 / (4 x 3600) x 1e6 = 7.986;
            // at 10 images/s 3.194.
            expect(PRICE_SNAPSHOT.prices["us-east-1"]["sagemaker:hosting:ml.m5.large"].usd).to.equal(0.115);
            const { out } = await run(["--stack", "prod", "--prices", "snapshot"], file);
            expect(out).to.include("Cost per million images at the measured throughput (this machine's figure: AMD EPYC, 2 vCPUs (AVX2, no AVX-512, no VNNI), " +
                "PyTorch 2.6.0, 2026-12-07, load average 3.2 -> 2.5, 4 concurrent clients; bench/measured/serving.json):");
            expect(out).to.include("ml.m5.large at $0.115/h, project handler, int8, 2 workers x 1 thread: 10.00 images/s -> $3.194 per million images");
            expect(out).to.include("ml.m5.large at $0.115/h, stock handler, eager fp32, 2 workers x 1 thread: 4.00 images/s -> $7.986 per million images");
            // dev serves from a serverless endpoint: nothing is billed per instance.
            expect((await run(["--stack", "dev", "--prices", "snapshot"], file)).out).to.include("Cost per image: the stack has no endpoint instances");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("says why it cannot price an image when the recorded throughput is missing or malformed", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-serving-"));
        try {
            const missing = await run(["--stack", "prod", "--prices", "snapshot"], path.join(dir, "serving.json"));
            expect(missing.code).to.equal(0);
            expect(missing.out).to.match(/Cost per image: not estimated \(cannot read serving\.json: ENOENT.*; run `BENCH_RECORD=1 npm run bench -- serving`\)/);
            const file = path.join(dir, "serving.json");
            fs.writeFileSync(file, JSON.stringify({ ...SERVING, best: { ...SERVING.best, imagesPerSecond: 0 } }));
            const json = await run(["--stack", "prod", "--json", "--prices", "snapshot"], file);
            expect(Object.keys(JSON.parse(json.out)), "the document keeps its shape").to.deep.equal(["region", "currency", "resources", "totals"]);
            expect(json.err).to.match(/Cost per image: not estimated \(serving\.json: best\.imagesPerSecond /);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("rejects bad arguments with a message naming them", async () => {
        expect((await run([])).err).to.match(/--stack <name> is required/);
        expect((await run(["--stack", "prod", "--prices", "cheap"])).err).to.match(/--prices must be snapshot, live or auto, got "cheap"/);
        expect((await run(["--stack", "prod", "--requests-per-hour", "lots"])).err).to.match(/--requests-per-hour must be a number >= 0, got "lots"/);
        const missing = await run(["--stack", "nosuch"]);
        expect(missing.code).to.equal(2);
        expect(missing.err).to.match(/stack config file Pulumi\.nosuch\.yaml does not exist/);
    });
});
