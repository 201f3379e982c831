import { expect } from "chai";
import { sagemakerModelNetworkIsolation as policy } from "../policies/sagemaker/sagemaker-model-network-isolation";
import { projectStack, spec } from "./fixtures";
import { U, validateResource } from "./harness";

describe("sagemaker-model-network-isolation", () => {
    it("passes prod's network-isolated model", async () => {
        const model = spec(projectStack("prod"), "model");
        expect(model.props.enableNetworkIsolation).to.equal(true);
        expect(await validateResource(policy, model)).to.deep.equal({ violations: [] });
    });

    it("rejects a model with network access, unset or false, naming the config keys that fix it", async () => {
        for (const value of [undefined, false]) {
            const model = spec(projectStack("prod"), "model");
            model.props.enableNetworkIsolation = value;
            const { violations } = await validateResource(policy, model);
            expect(violations).to.have.length(1);
            expect(violations[0].message).to.include("Model 'model' runs with network access").and.include("endpoint.networkIsolation: true");
        }
    });

    it("reports an isolation setting unknown at preview instead of passing it", async () => {
        const model = spec(projectStack("prod"), "model");
        model.props.enableNetworkIsolation = U;
        const outcome = await validateResource(policy, model);
        expect(outcome.violations).to.deep.equal([]);
        expect(outcome.unchecked).to.include("enableNetworkIsolation of Model 'model'");
    });

    it("ignores everything but models", async () => {
        for (const resource of projectStack("dev").filter((r) => r.type !== "aws:sagemaker/model:Model")) {
            expect((await validateResource(policy, resource)).violations, resource.name).to.deep.equal([]);
        }
    });
});
