import { expect } from "chai";
import { VariantShapeProvider } from "../components/variant-shape";

describe("variant shape (dynamic provider): a new instance type re-registers the scalable target", () => {
    const provider = new VariantShapeProvider();
    const shape = { scalableResourceId: "endpoint/sagemaker-classifier-prod/variant/AllTraffic", instanceType: "ml.m5.large" };

    it("is replaced, deleting first (and so its dependent scalable target and policy), when the instance type changes", async () => {
        expect(await provider.diff("id", shape, { ...shape, instanceType: "ml.c5.xlarge" })).to.deep.equal({
            changes: true, replaces: ["instanceType"], deleteBeforeReplace: true,
        });
    });

    it("is left alone otherwise, so a count, model or scaling change keeps the target registered", async () => {
        expect(await provider.diff("id", shape, { ...shape })).to.include({ changes: false });
        expect((await provider.create(shape)).outs).to.deep.equal(shape);
    });
});
