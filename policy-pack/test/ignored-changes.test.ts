/**
 * A resource with ignoreChanges reaches the policies with the state's values of those properties (the engine
 * applies ignoreChanges before it calls the analyzers). The project's endpoint ignores `endpointConfigName`
 * (EndpointRollout moves it), so after its first rollout the name the policies see is a configuration the
 * program has replaced; they must still find the configuration the program names.
 */
import { expect } from "chai";
import { stackCostBudget } from "../policies/cost/stack-cost-budget";
import { sagemakerEndpointAutoscaling } from "../policies/sagemaker/sagemaker-endpoint-autoscaling";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, toStackResources, validateStack } from "./harness";

/** With the default AWS provider for a region, which the cost estimate prices for. */
function inRegion(specs: Spec[]) {
    const provider = { type: "pulumi:providers:aws", name: "default_7_48_0", urn: "urn:pulumi:test::sagemaker-classifier::pulumi:providers:aws::default_7_48_0", props: { region: "us-east-1", version: "7.48.0" } };
    return toStackResources(specs).map((r) => Object.assign(r, { provider }));
}

/** prod after one rollout: the endpoint's stale configuration name, under ignoreChanges. */
function afterRollout(ignored: boolean) {
    const specs = projectStack("prod");
    const endpoint = spec(specs, "endpoint");
    endpoint.props.endpointConfigName = "classifier-config-replaced";
    if (ignored) endpoint.ignoreChanges = ["endpointConfigName"];
    return specs;
}

describe("policies reading an input the resource ignores changes to", () => {
    for (const policy of [sagemakerEndpointAutoscaling]) {
        it(`${policy.name} links the endpoint to the configuration the program names, not the stale one in the state`, async () => {
            const entry = (prod as Record<string, unknown>)[policy.name];
            const config = typeof entry === "object" && entry !== null ? entry : {};
            const out = await validateStack(policy, afterRollout(true), config);
            expect(out.violations).to.deep.equal([]);
            expect(out.unchecked).to.equal(undefined);
            // Without ignoreChanges the same name really is an endpoint configuration outside the stack.
            const external = await validateStack(policy, afterRollout(false), config);
            expect([...external.violations.map((v) => v.message), external.unchecked ?? ""].join("\n")).to.match(/configuration|variant/);
        });
    }

    it("stack-cost-budget prices the endpoint from the configuration the program names", async () => {
        const config = prod["stack-cost-budget"];
        const stale = await validateStack(stackCostBudget, inRegion(afterRollout(true)), config);
        expect(stale.unchecked ?? "").to.not.include("endpoint configuration");
        const external = await validateStack(stackCostBudget, inRegion(afterRollout(false)), config);
        expect(external.unchecked).to.include("its endpoint configuration classifier-config-replaced is not in this stack");
    });
});
