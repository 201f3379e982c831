/**
 * Sizing the endpoint's auto-scaling target from measurement (`npm run bench -- sizing`): the real ResNet-50
 * served by the real TorchServe (the SageMaker PyTorch toolkit's start path) as prod deploys it: the model train.py ships
 * (int8 where its quantization report allows, as model_fn serves it) with prod's `endpoint.modelServer` settings (the
 * Model's environment from infra/components/endpoint.ts), driven by an open loop at rising request
 * rates (image URLs on a loopback host). The highest rate it sustains (answers at least 95% of the offered rate,
 * none failed, p99 within the bound) is the instance's max RPS; AWS's guidance for
 * SageMakerVariantInvocationsPerInstance is then max RPS x safety factor 0.5 x 60. Printed next to each stack's
 * configured target, with the instances each needs at a few request rates.
 *
 * SIZING_P99_MS (default 1000) sets the latency bound, SIZING_LEVEL_SECONDS (default 8) the length of each level.
 * This machine's cores are shared, so its max RPS is a floor for an instance with its vCPUs to itself.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { parse } from "yaml";
import { parseConfig, type RawConfig } from "../infra/config";
import { instanceVcpus, modelServerEnvironment } from "../infra/components/endpoint";
import { startModelServer } from "../tools/local/model-server";
import { closedLoop, openLoop, resnetFixture, runResnetScript, type LoadResult } from "./load";
import { formatNumber, printTable, type BenchRow } from "./table";

const P99_BOUND_MS = Number(process.env.SIZING_P99_MS ?? 1000);
const LEVEL_SECONDS = Number(process.env.SIZING_LEVEL_SECONDS ?? 8);
const RATES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40];
const SAFETY_FACTOR = 0.5;
const REQUEST_RATES = [1, 10, 100];
const IMAGES = 8;
const repoRoot = path.resolve(__dirname, "..");

/** Answered as fast as offered (a server that falls behind stretches the level, lowering its rate), none failed, p99 in bound. */
function sustained(level: LoadResult, rate: number): boolean {
    return level.failed === 0 && level.rps >= 0.95 * rate && level.p99 <= P99_BOUND_MS;
}

function stackConfig(stack: string) {
    const doc = parse(fs.readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config)) {
        if (key.startsWith("sagemaker-classifier:")) raw[key.slice("sagemaker-classifier:".length)] = value;
    }
    return parseConfig(raw as RawConfig, stack);
}

async function main(): Promise<void> {
    const fixture = await resnetFixture(IMAGES);
    const rows: BenchRow[] = [];
    let maxRps = 0;
    const prod = stackConfig("prod").endpoint;
    const environment = modelServerEnvironment(prod);
    const served = `${environment.SAGEMAKER_TS_MIN_WORKERS} worker(s), batch ${environment.SAGEMAKER_TS_BATCH_SIZE}, as prod's ${prod.instanceType} (${instanceVcpus(prod.instanceType)} vCPUs) on this machine's ${os.cpus().length}`;
    // The 1-minute load average around the levels: on a shared machine it says how far the figure is a floor.
    const loadAtStart = os.loadavg()[0];
    try {
        // What training ships: the calibration and report beside model.pth (here calibrated on generated photos).
        const int8Dir = path.join(path.dirname(fixture.modelDir), "int8");
        const { report, defaultVerdict } = await runResnetScript<{ report: { serve: string; reason: string }; defaultVerdict: { serve: string; reason: string } }>(["int8-dir", fixture.modelDir, int8Dir, String(IMAGES * 4)]);
        console.log(`the model: ${report.serve} (${report.reason}); the default thresholds would ship ${defaultVerdict.serve} for this generated network (${defaultVerdict.reason})`);
        const server = await startModelServer({ modelDir: int8Dir, port: 0, allowPrivateImageUrls: true, environment });
        try {
            const url = `${server.url}/invocations`;
            await closedLoop(url, fixture.bodies, 1, IMAGES, 0);
            for (const rate of RATES) {
                const level = await openLoop(url, fixture.bodies, rate, LEVEL_SECONDS);
                const ok = sustained(level, rate);
                rows.push({ "offered req/s": rate, "answered req/s": level.rps, failed: level.failed, "p50 ms": level.p50, "p99 ms": level.p99, sustained: ok ? "yes" : "no" });
                if (!ok) break;
                maxRps = rate;
            }
        } finally {
            await server.stop();
        }
    } finally {
        await fixture.close();
    }
    printTable(`ResNet-50 through TorchServe 0.12 with the project's handler (${served}), open loop, ${LEVEL_SECONDS} s per level, bound p99 <= ${P99_BOUND_MS} ms (load average ${formatNumber(loadAtStart)} -> ${formatNumber(os.loadavg()[0])})`, rows);

    const measuredTarget = Math.floor(maxRps * SAFETY_FACTOR * 60);
    const targets: Array<{ name: string; target: number; maxCapacity?: number }> = [
        { name: `measured: ${maxRps} req/s x ${SAFETY_FACTOR} x 60`, target: measuredTarget },
        // A serverless stack has no instances to target: SageMaker scales it by concurrency.
        ...["dev", "prod"].map((stack) => ({ stack, config: stackConfig(stack) })).filter(({ config }) => config.endpoint.mode === "instances").map(({ stack, config }) => (
            { name: `configured (${stack})`, target: config.autoscaling.targetInvocationsPerInstance, maxCapacity: config.autoscaling.maxCapacity }
        )),
    ];
    printTable("targetInvocationsPerInstance (invocations per instance per minute) and the instances target tracking settles on", targets.map(({ name, target, maxCapacity }) => ({
        target: name,
        "invocations/instance/min": target,
        "req/s per instance": target / 60,
        ...Object.fromEntries(REQUEST_RATES.map((rate) => {
            const needed = Math.ceil((rate * 60) / Math.max(target, 1));
            return [`instances at ${rate} req/s`, maxCapacity !== undefined && needed > maxCapacity ? `${needed} (capped at ${maxCapacity})` : needed];
        })),
    })));
    if (maxRps === 0) {
        console.log(`\nno level sustained within p99 <= ${formatNumber(P99_BOUND_MS)} ms: the machine is too loaded to size from`);
    }
}

main().then(
    () => process.exit(0),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    },
);
