import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { catalogControls, DOC_PATH, enforcedInProd, implementations, renderPolicyControls } from "../../tools/docs/policy-controls";
import { notEnforced, notEnforcedInProd } from "../controls/coverage";
import { controlId } from "../lib/controls";
import { policies } from "../policies";

describe("industry controls: every control of the catalog has a policy or a reason", () => {
    const controls = catalogControls();
    const ids = new Set(controls.map((c) => c.id));
    const byControl = implementations();

    it("reads the whole catalog, one id per row", () => {
        expect(controls.length).to.equal(120);
        expect(ids.size).to.equal(controls.length);
    });

    it("names only controls of the catalog, in the policies and in the reasons", () => {
        for (const policy of policies) for (const ref of policy.controls) expect(ids.has(controlId(ref)), `${policy.name}: ${controlId(ref)}`).to.equal(true);
        for (const id of [...Object.keys(notEnforced), ...Object.keys(notEnforcedInProd)]) expect(ids.has(id), id).to.equal(true);
    });

    it("leaves no control silent: a policy implements it or a reason says why none does, never both", () => {
        for (const { id } of controls) {
            const implemented = (byControl.get(id) ?? []).length > 0;
            const reason = notEnforced[id];
            expect(implemented || reason !== undefined, `${id} has neither a policy nor a reason`).to.equal(true);
            expect(implemented && reason !== undefined, `${id} has a policy and a reason for having none`).to.equal(false);
        }
    });

    it("says why prod does not enforce a control a policy implements (advisory in prod, or checked only under a setting), and only then", () => {
        for (const { id } of controls) {
            const found = byControl.get(id) ?? [];
            const softer = found.length > 0 && !enforcedInProd(found);
            expect(softer, `${id}: ${softer ? "needs a reason in notEnforcedInProd" : "is enforced in prod or has no policy, so needs no notEnforcedInProd reason"}`).to.equal(
                notEnforcedInProd[id] !== undefined,
            );
        }
    });

    it("is documented in docs/policy-controls.md exactly as generated (run `npm run docs:policies` after changing a policy, a config or a reason)", () => {
        expect(fs.readFileSync(DOC_PATH, "utf8")).to.equal(renderPolicyControls());
    });

    it("is linked from the README's policy section", () => {
        const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
        expect(readme).to.include("(docs/policy-controls.md)");
    });
});
