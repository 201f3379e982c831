/**
 * fast-check parameters: a fixed seed and a bounded number of runs in `npm test`, so every machine runs the same
 * examples; `npm run fuzz` sets FUZZ_RUNS and FUZZ_SEED=random for a longer search with fresh examples (a
 * failure prints the seed and path that reproduce it).
 */
import type { Parameters } from "fast-check";

const FIXED_SEED = 20261201;

export function fuzzParameters<T>(runs: number): Parameters<T> {
    const seed = process.env.FUZZ_SEED === "random" ? Date.now() : Number(process.env.FUZZ_SEED ?? FIXED_SEED);
    return { seed, numRuns: Number(process.env.FUZZ_RUNS ?? runs) };
}
