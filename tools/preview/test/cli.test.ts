import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { fixture, REPO, runCli, startCli } from "./helpers";

const simple = ["--program", fixture("simple-program.ts"), "--policy-pack", fixture("fixture-pack")];
const POLICY_PACK = path.join(REPO, "policy-pack");

interface JsonReport {
    policyPacks: { name: string; version: string }[];
    resources: { urn: string; type: string; name: string; inputs: Record<string, unknown> }[];
    violations: { policyPack: string; policyName: string; enforcementLevel: string; message: string; urn: string; resourceType: string; resourceName: string }[];
    summary: { resources: number; mandatory: number; advisory: number };
}

/** Child processes of a process, from /proc (Linux): the preview's program and policy pack processes. */
function childrenOf(pid: number): number[] {
    const result: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command name (field 2) may contain spaces; the parent pid is the second field after it.
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === pid) result.push(Number(entry));
        } catch {
            // The process ended while we looked.
        }
    }
    return result;
}

function cmdline(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
        return "";
    }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("preview CLI", function () {
    this.timeout(180_000);

    it("prints the resource tree, the violations by policy and the summary; exit 0 without mandatory violations", async () => {
        const { code, stdout, stderr } = await runCli(["--stack", "test", ...simple]);
        expect(code, stderr).to.equal(0);
        expect(stdout).to.match(/^ \+ {3}pulumi:pulumi:Stack +preview-fixtures-test$/m);
        expect(stdout).to.match(/^ \+ {3}│ {2}├─ aws:s3\/bucket:Bucket +fixture-data-bucket$/m);
        // Registered as soon as the program constructs it: its provider is not serialized on this run (provider-check.ts).
        expect(stdout).to.match(/^ \+ {3}├─ pulumi-nodejs:dynamic:Resource +counter$/m);
        expect(stdout).not.to.include("__provider");
        expect(stdout).to.include("[advisory]  preview-fixture@v0.0.1  role-policy-statements (1)");
        expect(stdout).to.include("aws:cloudwatch/logGroup:LogGroup (logs)");
        expect(stdout.trim().split("\n").pop()).to.equal("Resources: 11 to create. Policy violations: 0 mandatory, 2 advisory.");
    });

    it("exits 1 on a mandatory violation and reports it in --json", async () => {
        const { code, stdout, stderr } = await runCli(["--stack", "test", ...simple, "--policy-pack-config", fixture("fixture-pack", "config", "strict.json"), "--json"]);
        expect(code, stderr).to.equal(1);
        const report = JSON.parse(stdout) as JsonReport;
        expect(report.summary).to.deep.equal({ resources: 11, mandatory: 1, advisory: 2 });
        expect(report.resources.map((r) => r.name)).to.include.members(["preview-fixtures-test", "fixture-data-bucket", "counter", "default_7_48_0"]);
        expect(report.resources.find((r) => r.name === "counter")?.inputs).not.to.have.property("__provider");
        const violation = report.violations.find((v) => v.enforcementLevel === "mandatory");
        expect(violation).to.include({
            policyPack: "preview-fixture",
            policyName: "bucket-name-prefix",
            resourceType: "aws:s3/bucket:Bucket",
            resourceName: "fixture-data-bucket",
            urn: "urn:pulumi:test::preview-fixtures::preview-fixtures:storage:Storage$aws:s3/bucket:Bucket::fixture-data-bucket",
        });
        expect(violation?.message).to.include("does not start with prod-");
    });

    describe("errors: exit 2 with a message naming the cause", () => {
        it("missing --stack and unknown options are usage errors", async () => {
            const none = await runCli([]);
            expect(none.code).to.equal(2);
            expect(none.stderr).to.include("--stack <name> is required").and.include("usage:");
            const unknown = await runCli(["--stack", "test", "--frobnicate"]);
            expect(unknown.code).to.equal(2);
            expect(unknown.stderr).to.include("--frobnicate");
        });

        it("a missing stack file", async () => {
            const { code, stderr, stdout } = await runCli(["--stack", "staging", ...simple]);
            expect(code).to.equal(2);
            expect(stderr).to.include(`stack config file ${fixture("Pulumi.staging.yaml")} does not exist`);
            expect(stdout).to.equal("");
        });

        it("a policy config naming an unknown policy", async () => {
            const { code, stderr } = await runCli(["--stack", "test", ...simple, "--policy-pack-config", fixture("fixture-pack", "config", "unknown-policy.json")]);
            expect(code).to.equal(2);
            expect(stderr).to.include(`${fixture("fixture-pack", "config", "unknown-policy.json")}: policy "no-such-policy" does not exist in the policy pack`);
        });

        it("a policy config value outside its schema", async () => {
            const { code, stderr } = await runCli(["--stack", "test", ...simple, "--policy-pack-config", fixture("fixture-pack", "config", "out-of-range.json")]);
            expect(code).to.equal(2);
            expect(stderr).to.include('policy "bucket-name-prefix": config property "maxLength" must be <= 63');
        });

        it("a policy config whose lower bound exceeds its upper bound, in one line, before the pack is configured", async () => {
            const config = fixture("fixture-pack", "config", "misordered.json");
            const { code, stderr, stdout } = await runCli(["--stack", "test", ...simple, "--policy-pack-config", config]);
            expect(code).to.equal(2);
            expect(stdout).to.equal("");
            expect(stderr).to.equal(`error: ${config}: policy "bucket-count": config property "minBuckets" (5) is greater than "maxBuckets" (2); set minBuckets <= maxBuckets\n`);
        });

        it("the project's pack with minTargetValue above prod's maxTargetValue, naming the policy and both properties", async () => {
            const config = fixture("misordered-bounds.json");
            const { code, stderr } = await runCli(["--stack", "prod", "--policy-pack-config", config]);
            expect(code).to.equal(2);
            // The program's own warnings (e.g. an image past its end of patch) may precede the error.
            expect(stderr.trim().split("\n").filter((line) => !line.startsWith("warning:"))).to.deep.equal([
                `error: ${config}: policy "sagemaker-endpoint-autoscaling": config property "minTargetValue" (20) is greater than "maxTargetValue" (10); set minTargetValue <= maxTargetValue`,
            ]);
        });

        it("a policy that fails during analysis: its message without the pack's stack frames, which --verbose adds", async () => {
            const args = ["--stack", "test", ...simple, "--policy-pack-config", fixture("fixture-pack", "config", "failing.json")];
            const { code, stderr } = await runCli(args);
            expect(code).to.equal(2);
            expect(stderr).to.include("AnalyzeStack failed: Error validating resource with policy 'fails-on-request'").and.include("fixture-pack: the policy failed as requested");
            expect(stderr).not.to.match(/^\s+at /m);
            const verbose = await runCli([...args, "--verbose"]);
            expect(verbose.code).to.equal(2);
            expect(verbose.stderr).to.include("--- policy pack log (--verbose) ---").and.match(/^\s+at .*index\.ts:\d+:\d+\)$/m);
        });

        it("a program that throws", async () => {
            const { code, stderr } = await runCli(["--stack", "test", "--program", fixture("throwing-program.ts"), "--policy-pack", fixture("fixture-pack")]);
            expect(code).to.equal(2);
            expect(stderr).to.include(`program ${fixture("throwing-program.ts")} failed: replicas must be 1 for this fixture, got 2`);
            expect(stderr).not.to.match(/\n\s+at /);
        });

        it("a policy pack that fails to start, with the pack's own log", async () => {
            const { code, stderr } = await runCli(["--stack", "test", "--program", fixture("simple-program.ts"), "--policy-pack", fixture("broken-pack"), "--policy-pack-config", fixture("fixture-pack", "config", "test.json")]);
            expect(code).to.equal(2);
            expect(stderr).to.include("failed to start").and.include("broken-pack: the policies could not be loaded");
            expect(stderr).not.to.match(/^\s+at /m);
        });
    });

    it("stops the program and the policy pack on Ctrl-C", async () => {
        const { child, result } = startCli(["--stack", "test", "--program", fixture("slow-program.ts"), "--policy-pack", fixture("fixture-pack"), "--policy-pack-config", fixture("fixture-pack", "config", "test.json")]);
        const cli = child.pid as number;
        let spawned: number[] = [];
        for (let i = 0; i < 600 && spawned.length < 2; i++) {
            await sleep(100);
            spawned = childrenOf(cli);
        }
        expect(spawned.map(cmdline).join("\n")).to.include("run-policy-pack").and.include("capture-child");
        child.kill("SIGINT");
        const { code } = await result;
        expect(code).to.equal(130);
        for (let i = 0; i < 50 && spawned.some((pid) => cmdline(pid)); i++) await sleep(100);
        expect(spawned.filter((pid) => cmdline(pid) !== "")).to.deep.equal([]);
    });

    describe("policy packs as the CLI takes them", () => {
        const awsguard = fixture("awsguard-pack");
        const both = ["--stack", "prod", "--policy-pack", "policy-pack", "--policy-pack", awsguard];

        it("runs the public @pulumi/awsguard pack beside the project's, its initial config key \"all\" making every policy mandatory", async () => {
            const { code, stdout, stderr } = await runCli([...both, "--policy-pack-config", "policy-pack/config/prod.json", "--policy-pack-config", fixture("awsguard-pack", "config", "advisory.json"), "--json"]);
            const advisory = JSON.parse(stdout) as JsonReport;
            expect(code, stderr).to.equal(0);
            expect(advisory.policyPacks.map((p) => p.name)).to.deep.equal(["sagemaker-classifier-policies", "pulumi-awsguard"]);
            const guard = advisory.violations.filter((v) => v.policyPack === "pulumi-awsguard");
            // The config file's "all" overrides the pack's initial "all", as under the CLI.
            expect(guard.length).to.be.greaterThan(0);
            expect(guard.every((v) => v.enforcementLevel === "advisory"), JSON.stringify(guard)).to.equal(true);

            // No config files at all: each pack runs with its own defaults (ours has config/prod.json, awsguard none).
            const run = await runCli([...both, "--json"]);
            expect(run.code, run.stderr).to.equal(1);
            expect(run.stderr).to.include(`policy pack ${awsguard}: no config file for stack prod, running its policies with their defaults`);
            const mandatory = JSON.parse(run.stdout) as JsonReport;
            const guardMandatory = mandatory.violations.filter((v) => v.policyPack === "pulumi-awsguard");
            expect(guardMandatory.map((v) => v.policyName).sort()).to.deep.equal(guard.map((v) => v.policyName).sort());
            expect(guardMandatory.every((v) => v.enforcementLevel === "mandatory")).to.equal(true);
            expect(mandatory.violations.filter((v) => v.policyPack === "sagemaker-classifier-policies" && v.enforcementLevel === "mandatory")).to.deep.equal([]);
        });

        it("runs a pack with no config file for the stack on its schema defaults instead of refusing", async () => {
            const { code, stdout, stderr } = await runCli(["--stack", "defaults", "--config-file", fixture("Pulumi.test.yaml"), ...simple, "--json"]);
            expect(code, stderr).to.equal(0);
            expect(stderr).to.include(`policy pack ${fixture("fixture-pack")}: no config file for stack defaults, running its policies with their defaults`);
            const report = JSON.parse(stdout) as JsonReport;
            // bucket-name-prefix reads its prefix from config; its default "fixture-" matches the fixture's buckets,
            // while a config without the default (prefix undefined) would flag every bucket.
            expect(report.violations.filter((v) => v.policyName === "bucket-name-prefix")).to.deep.equal([]);
        });

        it("refuses config files that do not pair one to one with the packs", async () => {
            const { code, stderr } = await runCli([...both, "--policy-pack-config", "policy-pack/config/prod.json"]);
            expect(code).to.equal(2);
            expect(stderr).to.include("1 --policy-pack-config for 2 --policy-pack: give one config file per policy pack, in the same order, or none");
        });
    });

    (fs.existsSync(path.join(POLICY_PACK, "package.json")) ? describe : describe.skip)("the project's policy pack against a program with known faults", () => {
        const faulty = ["--stack", "dev", "--program", fixture("faulty-program.ts")];
        const expected = [
            { policyName: "iam-no-overbroad-managed-policies", resourceName: "faulty-lambda-sagemaker-full-access" },
            { policyName: "lambda-role-least-privilege", resourceName: "faulty-lambda-role" },
            { policyName: "sagemaker-endpoint-autoscaling", resourceName: "faulty-endpoint" },
            { policyName: "lambda-provisioned-concurrency", resourceName: "faulty-provisioned" },
        ];

        it("reports each fault against the right resource in --json, exit 1", async () => {
            const { code, stdout, stderr } = await runCli([...faulty, "--json"]);
            expect(code, stderr).to.equal(1);
            const report = JSON.parse(stdout) as JsonReport;
            const mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory");
            for (const e of expected) {
                expect(mandatory.some((v) => v.policyName === e.policyName && v.resourceName === e.resourceName), JSON.stringify(e)).to.equal(true);
            }
            const pc = mandatory.find((v) => v.policyName === "lambda-provisioned-concurrency");
            expect(pc?.message).to.include("$LATEST");
            expect(mandatory.find((v) => v.policyName === "iam-no-overbroad-managed-policies")?.message).to.include("AmazonSageMakerFullAccess");
        });

        it("reports the same in text, exit 1", async () => {
            const { code, stdout, stderr } = await runCli(faulty);
            expect(code, stderr).to.equal(1);
            for (const e of expected) expect(stdout).to.match(new RegExp(`\\[mandatory\\]  sagemaker-classifier-policies@v[\\d.]+  ${e.policyName} `));
            expect(stdout).to.include("aws:iam/rolePolicyAttachment:RolePolicyAttachment (faulty-lambda-sagemaker-full-access)");
            expect(stdout).to.include("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig (faulty-provisioned)");
            expect(stdout).to.match(/Policy violations: [1-9]\d* mandatory/);
        });
    });
});
