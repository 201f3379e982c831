/**
 * The serving throughput `npm run bench -- serving` measured (recorded with BENCH_RECORD=1), which `npm run cost` prices
 * per million images. It says which machine, when and under what load: a figure of a shared 2-vCPU machine, not of
 * an endpoint instance.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";

export const SERVING_RESULT_FILE = path.join(__dirname, "measured", "serving.json");

const served = {
    configuration: z.string(),
    workers: z.number().int().positive(),
    imagesPerSecond: z.number().positive(),
    p99Ms: z.number().nonnegative(),
};

export const servingResultSchema = z.object({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    machine: z.object({ cpu: z.string(), vcpus: z.number().int().positive(), capability: z.string(), avx512: z.boolean(), vnni: z.boolean(), bf16: z.boolean() }),
    torch: z.string(),
    loadAverage: z.object({ start: z.number(), end: z.number() }),
    clients: z.number().int().positive(),
    stock: z.object(served),
    best: z.object({ ...served, precision: z.enum(["fp32", "int8"]), threadsPerWorker: z.number().positive(), batchSize: z.number().int().positive() }),
    speedup: z.number().positive(),
});

export type ServingResult = z.infer<typeof servingResultSchema>;

/** The recorded result, or why there is none usable (missing file, not JSON, a field out of shape). */
export function readServingResult(file = SERVING_RESULT_FILE): ServingResult | { problem: string } {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        return { problem: `cannot read ${path.basename(file)}: ${(error as Error).message}` };
    }
    const parsed = servingResultSchema.safeParse(raw);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return { problem: `${path.basename(file)}: ${issue.path.join(".") || "(root)"} ${issue.message}` };
    }
    return parsed.data;
}
