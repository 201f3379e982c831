/**
 * Dollars per million images on the stack's endpoint instances, at the images per second `npm run bench -- serving`
 * recorded (bench/measured/serving.json): the stock handler serving eager fp32, and the project's best configuration.
 * The throughput is that machine's, shared and without an endpoint instance's instruction set, so every line says
 * which machine, when and under what load.
 */
import type { Estimate } from "../../policy-pack/cost/estimate";
import type { ServingResult } from "../../bench/serving-result";
import { dollars } from "./report";

const HOSTING = "sagemaker:hosting:";
const SECONDS_PER_HOUR = 3600;

export function usdPerMillionImages(hourlyUsd: number, imagesPerSecond: number): number {
    return (hourlyUsd / (imagesPerSecond * SECONDS_PER_HOUR)) * 1e6;
}

export interface ImageCost {
    instanceType: string;
    hourlyUsd: number;
    configuration: string;
    imagesPerSecond: number;
    usdPerMillionImages: number;
}

/** Per instance type the estimate priced for hosting: the stock path's and the best configuration's cost per image. */
export function imageCosts(estimate: Estimate, result: ServingResult): ImageCost[] {
    return estimate.prices
        .filter((price) => price.key.startsWith(HOSTING))
        .flatMap((price) => [result.stock, result.best].map((served) => ({
            instanceType: price.key.slice(HOSTING.length),
            hourlyUsd: price.usd,
            configuration: served.configuration,
            imagesPerSecond: served.imagesPerSecond,
            usdPerMillionImages: usdPerMillionImages(price.usd, served.imagesPerSecond),
        })));
}

/** Which machine the throughput is from, and what it cannot show about an endpoint instance. */
export function measuredOn(result: ServingResult): string {
    const m = result.machine;
    const isa = [m.capability, m.avx512 ? "AVX-512" : "no AVX-512", m.vnni ? "VNNI" : "no VNNI"].join(", ");
    return `this machine's figure: ${m.cpu}, ${m.vcpus} vCPUs (${isa}), PyTorch ${result.torch}, ${result.date}, load average ` +
        `${result.loadAverage.start.toFixed(1)} -> ${result.loadAverage.end.toFixed(1)}, ${result.clients} concurrent clients`;
}

export function imageCostLines(estimate: Estimate, result: ServingResult | { problem: string }): string[] {
    if ("problem" in result) return [`Cost per image: not estimated (${result.problem}; run \`BENCH_RECORD=1 npm run bench -- serving\`)`];
    const costs = imageCosts(estimate, result);
    if (costs.length === 0) return ["Cost per image: the stack has no endpoint instances (a serverless endpoint is billed per second of inference)"];
    return [
        `Cost per million images at the measured throughput (${measuredOn(result)}; bench/measured/serving.json):`,
        ...costs.map((c) => `  ${c.instanceType} at $${dollars(c.hourlyUsd)}/h, ${c.configuration}: ${c.imagesPerSecond.toFixed(2)} images/s -> $${dollars(c.usdPerMillionImages)} per million images`),
        "  An endpoint instance differs: its vCPUs are its own (this machine's were shared), and m5/c5 instances have AVX-512 VNNI, " +
            "whose int8 instructions this machine lacks, so int8 gains more there; an ml.m5.large's 2 vCPUs are one core's two hyperthreads.",
    ];
}
