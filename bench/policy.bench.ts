/**
 * Policy evaluation cost. In process (validateResource on every resource, then validateStack, as the
 * analyzer calls them): the project's dev and prod stacks and generated stacks of 500, 1,000 and 2,000
 * resources, to show time per resource stays flat. Through the real pack process (cold start included,
 * as `pulumi preview` pays it): the project's stacks and the generated stacks. Capture and pack run one after
 * the other here; the offline preview overlaps them, and its end-to-end target is in preview.bench.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { policies } from "../policy-pack/policies";
import { buildPack, packDir } from "../policy-pack/test/build-pack";
import { generatedStack } from "../policy-pack/test/fixtures";
import { runPack, Spec, urnOf } from "../policy-pack/test/harness";
import { runPolicyPack } from "../tools/preview/analyzer";
import { CapturedResource, captureProgram, defaultProviderCheckCache, readStackConfig } from "../tools/preview/capture";
import { BenchRow, printTable } from "./table";

const root = path.resolve(__dirname, "..");
const RUNS = 9;
// Linear growth: time per resource at the largest size within this factor of the smallest.
const FLATNESS_LIMIT = 1.5;

function policyConfig(stack: string): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(path.join(packDir, "config", `${stack}.json`), "utf8")) as Record<string, unknown>;
}

/**
 * Best wall time of evaluating every policy over the stack, after one warm-up run: the minimum is the cost of
 * the work itself, where a median of a few runs still carried whole garbage-collection pauses.
 */
async function evaluate(specs: Spec[], config: Record<string, unknown>): Promise<number> {
    const first = await runPack(policies, specs, config);
    const mandatory = first.filter((r) => r.level === "mandatory");
    if (mandatory.length > 0) throw new Error(`benchmark stack is not compliant: ${mandatory[0].policy}: ${mandatory[0].message}`);
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        await runPack(policies, specs, config);
        samples.push(performance.now() - start);
    }
    return Math.min(...samples);
}

function fromCaptured(resources: CapturedResource[]): Spec[] {
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.inputs,
        dependsOn: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        ignoreChanges: r.options.ignoreChanges,
    }));
}

function toCaptured(specs: Spec[]): CapturedResource[] {
    const urns = new Map(specs.map((s) => [s.name, urnOf(s.type, s.name)]));
    const urn = (name: string) => urns.get(name) ?? name;
    return specs.map((s) => {
        const propertyDependencies = Object.fromEntries(Object.entries(s.propertyDependencies ?? {}).map(([k, names]) => [k, names.map(urn)]));
        return {
            urn: urn(s.name),
            type: s.type,
            name: s.name,
            custom: true,
            inputs: s.props,
            outputs: s.props,
            dependencies: [...new Set([...(s.dependsOn ?? []), ...Object.values(s.propertyDependencies ?? {}).flat()])].map(urn),
            propertyDependencies,
            options: {},
        };
    });
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
    const start = performance.now();
    const result = await work();
    return [result, performance.now() - start];
}

async function main(): Promise<void> {
    buildPack();
    const projectRows: BenchRow[] = [];
    for (const stack of ["dev", "prod"]) {
        const stackConfig = await readStackConfig(path.join(root, `Pulumi.${stack}.yaml`));
        const program = path.join(root, "infra", "index.ts");
        // As the preview captures: dynamic providers are serialized only when the program changed (provider-check.ts).
        const [captured, captureMs] = await timed(() =>
            captureProgram({ program, stack, config: stackConfig, dryRun: true, providerCheckCache: defaultProviderCheckCache(program) }),
        );
        const inProcessMs = await evaluate(fromCaptured(captured.resources), policyConfig(stack));
        const [result, packMs] = await timed(() =>
            runPolicyPack({ packDir, policyConfig: policyConfig(stack), resources: captured.resources, stackConfig }),
        );
        const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory").length;
        projectRows.push({
            stack,
            resources: captured.resources.length,
            "in-process eval ms": Number(inProcessMs.toFixed(1)),
            "capture ms": Math.round(captureMs),
            "pack process ms (cold start + analyze)": Math.round(packMs),
            "mandatory violations": mandatory,
        });
    }
    printTable("Policy evaluation on the project's stacks (offline preview, real pack process)", projectRows);

    const sizes = [500, 1000, 2000];
    const perResource: number[] = [];
    const generatedRows: BenchRow[] = [];
    for (const size of sizes) {
        const specs = generatedStack(size);
        const ms = await evaluate(specs, policyConfig("prod"));
        const [, packMs] = await timed(() => runPolicyPack({ packDir, policyConfig: policyConfig("prod"), resources: toCaptured(specs) }));
        const us = (ms * 1000) / specs.length;
        perResource.push(us);
        const ratio = us / perResource[0];
        generatedRows.push({
            resources: specs.length,
            "in-process eval ms (best of 9)": Number(ms.toFixed(1)),
            "us per resource": Number(us.toFixed(1)),
            "vs smallest": Number(ratio.toFixed(2)),
            target: `<= ${FLATNESS_LIMIT}x`,
            result: ratio <= FLATNESS_LIMIT ? "PASS" : "MISS",
            "pack process ms (cold start + analyze)": Math.round(packMs),
        });
    }
    printTable("Policy evaluation on generated stacks (linear growth: time per resource stays flat)", generatedRows);
}

main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
