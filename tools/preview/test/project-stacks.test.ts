/**
 * The project's own stacks (infra/index.ts with Pulumi.dev.yaml / Pulumi.prod.yaml) against the project's
 * policy pack (policy-pack/ with config/<stack>.json), exactly as `npm run preview -- --stack <name>`.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, runCli } from "./helpers";

interface JsonReport {
    resources: { type: string; name: string; inputs: Record<string, unknown> }[];
    violations: { enforcementLevel: string; policyName: string; resourceName: string; message: string }[];
    summary: { resources: number; mandatory: number; advisory: number };
}

/** Every resource type the issue says each stack creates. */
const COMMON_TYPES = [
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:sagemaker/model:Model",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:lambda/function:Function",
    "aws:lambda/alias:Alias",
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
];
/** prod's endpoint runs on auto-scaled instances; dev's is serverless. */
const PROD_ONLY_TYPES = [
    "aws:appautoscaling/target:Target",
    "aws:appautoscaling/policy:Policy",
    "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/instance:Instance",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
];

const ready = ["infra/index.ts", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "policy-pack/package.json"].every((f) => fs.existsSync(path.join(REPO, f)));

(ready ? describe : describe.skip)("preview: the project's dev and prod stacks", function () {
    this.timeout(180_000);

    for (const stack of ["dev", "prod"]) {
        describe(stack, () => {
            let json: { code: number | null; report: JsonReport; stderr: string };
            before(async () => {
                const run = await runCli(["--stack", stack, "--json"]);
                let report: JsonReport;
                try {
                    report = JSON.parse(run.stdout) as JsonReport;
                } catch {
                    throw new Error(`preview --stack ${stack} --json printed no report (exit ${run.code}):\n${run.stderr}`);
                }
                json = { code: run.code, report, stderr: run.stderr };
            });

            it("exits 0 with no mandatory violation", () => {
                const mandatory = json.report.violations.filter((v) => v.enforcementLevel === "mandatory");
                expect(mandatory.map((v) => `${v.policyName} on ${v.resourceName}: ${v.message}`)).to.deep.equal([]);
                expect(json.code, json.stderr).to.equal(0);
            });

            it("creates every resource type the stack is specified to have", () => {
                const types = new Set(json.report.resources.map((r) => r.type));
                const expected = stack === "prod" ? [...COMMON_TYPES, ...PROD_ONLY_TYPES] : COMMON_TYPES;
                expect([...types]).to.include.members(expected);
                // Dynamic resources (prod's best-model waiter, the Lambda concurrency check) are typed
                // "pulumi-nodejs:dynamic:Resource" or, with a custom type name, "pulumi-nodejs:dynamic/<module>:<Name>".
                const dynamic = json.report.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic")).map((r) => r.name);
                if (stack === "prod") expect(dynamic.length, "prod's dynamic resources").to.be.greaterThan(1);
                expect(dynamic.some((n) => n.includes("concurrency-check")), "the Lambda concurrency check").to.equal(true);
                expect(dynamic.some((n) => n.includes("default-vpc-check")), "prod's EC2 run without a subnet checks the default VPC").to.equal(stack === "prod");
                if (stack === "dev") {
                    expect([...types]).not.to.include.members(["aws:ec2/instance:Instance"]);
                    expect([...types], "serverless: no Application Auto Scaling").not.to.include.members(["aws:appautoscaling/target:Target"]);
                    expect([...types]).not.to.include.members(["aws:sagemaker/trainingJob:TrainingJob"]);
                }
                const endpoint = json.report.resources.find((r) => r.type === "aws:sagemaker/endpoint:Endpoint");
                expect(endpoint?.inputs.name).to.equal(`sagemaker-classifier-${stack}`);
            });

            it("lists every resource in the text output, with a matching summary", async () => {
                const text = await runCli(["--stack", stack]);
                expect(text.code, text.stderr).to.equal(0);
                const lines = text.stdout.split("\n").filter((line) => line.startsWith(" + "));
                expect(lines).to.have.length(json.report.resources.length);
                for (const r of json.report.resources) {
                    expect(lines.some((line) => line.includes(r.type) && line.trimEnd().endsWith(` ${r.name}`)), `${r.type} ${r.name}`).to.equal(true);
                }
                expect(text.stdout).to.include(`Resources: ${json.report.resources.length} to create. Policy violations: 0 mandatory, ${json.report.summary.advisory} advisory.`);
            });
        });
    }
});
