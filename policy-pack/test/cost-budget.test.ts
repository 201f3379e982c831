import { expect } from "chai";
import { PolicyResource } from "@pulumi/policy";
import { stackCostBudget } from "../policies/cost/stack-cost-budget";
import dev from "../config/dev.json";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, toStackResources, U, validateStack } from "./harness";

const policy = stackCostBudget;
const prodBudget = prod["stack-cost-budget"];
const devBudget = dev["stack-cost-budget"];

/** The stack's resources as the engine hands them over: each with its default AWS provider for a region. */
function inRegion(specs: Spec[], region = "us-east-1"): PolicyResource[] {
    const provider = { type: "pulumi:providers:aws", name: "default_7_48_0", urn: "urn:pulumi:test::sagemaker-classifier::pulumi:providers:aws::default_7_48_0", props: { region, version: "7.48.0" } };
    return toStackResources(specs).map((r) => Object.assign(r, { provider }));
}

function scaled(maxCapacity: number): Spec[] {
    const specs = projectStack("prod");
    spec(specs, "endpoint-target").props.maxCapacity = maxCapacity;
    return specs;
}

describe("stack-cost-budget", () => {
    it("passes the project's stacks within their environments' budgets, after update and under preview", async () => {
        for (const preview of [false, true]) {
            for (const [stack, budget] of [["dev", devBudget], ["prod", prodBudget]] as const) {
                const out = await validateStack(policy, inRegion(projectStack(stack, preview)), budget);
                expect(out.violations, `${stack} preview=${preview}`).to.deep.equal([]);
                expect(out.unchecked, `${stack} preview=${preview}`).to.equal(undefined);
            }
        }
    });

    it("rejects an endpoint scaled past the hourly budget, naming the resources that make up the cost", async () => {
        const out = await validateStack(policy, inRegion(scaled(12)), prodBudget);
        expect(out.violations).to.have.length(1);
        const [violation] = out.violations;
        // 12 x ml.m5.large at $0.115/h = $1.38/h, plus the (still running) EC2 instance and the Lambda's three warm 512 MB environments.
        expect(violation.message).to.match(/^The stack costs \$1\.\d\d\/h at maximum scale, \$0\.\d{3}\/h over the budget of \$1\.00\/h \(stack-cost-budget\.maxHourlyUsd; prices of the pack's snapshot, 2026-12-01, us-east-1\)/);
        expect(violation.message).to.match(/made up of: Endpoint 'endpoint' \$1\.38\/h \(AllTraffic: 1 x ml\.m5\.large at \$0\.115\/h, up to 12 = \$1\.38\/h at max scale\); Instance 'ec2-trainer' \$0\.203\/h \(m5\.xlarge at \$0\.192\/h \+ 100 GB gp3 .*, running\); ProvisionedConcurrencyConfig 'inference-warm' \$0\.023\/h \(3 warm environments x 0\.5 GB/);
        expect(violation.message).to.match(/Lower the maximum scale \(autoscaling\.maxCapacity/);
        expect(violation.urn).to.match(/::endpoint$/);
    });

    it("rejects one-off jobs past their budget, and nothing at exactly the budget", async () => {
        const specs = projectStack("prod");
        // 4 jobs x 1 h x ml.m5.xlarge at $0.23/h = $0.92.
        const out = await validateStack(policy, inRegion(specs), { ...prodBudget, maxOneOffUsd: 0.5 });
        expect(out.violations.map((v) => v.message).join("\n")).to.match(/one-off jobs may cost up to \$0\.920, \$0\.420 over the budget of \$0\.500 \(stack-cost-budget\.maxOneOffUsd.*They are: HyperParameterTuningJob 'tuning' \$0\.920 \(4 jobs x 1 x ml\.m5\.xlarge x 1 h/);
        const exact = await validateStack(policy, inRegion(specs), { ...prodBudget, maxOneOffUsd: 0.92 });
        expect(exact.violations).to.deep.equal([]);
    });

    it("says what it cannot price instead of passing it silently", async () => {
        const unknownType = projectStack("prod", true);
        spec(unknownType, "endpoint-config").props.productionVariants = [{ variantName: "AllTraffic", instanceType: U, initialInstanceCount: 1 }];
        const out = await validateStack(policy, inRegion(unknownType), prodBudget);
        expect(out.unchecked).to.match(/the cost of Endpoint 'endpoint': instanceType is unknown until deployed/);

        const elsewhere = await validateStack(policy, inRegion(projectStack("prod"), "ap-southeast-7"), prodBudget);
        expect(elsewhere.unchecked).to.match(/no prices for region ap-southeast-7 \(the price book has us-east-1\)\. Run `npm run prices:update -- --region ap-southeast-7`/);

        const noRegion = await validateStack(policy, projectStack("prod"), prodBudget);
        expect(noRegion.unchecked).to.match(/the stack's region \(no AWS provider with a known region\)/);
    });
});
