import { expect } from "chai";
import { LABELS } from "../../infra/contract";
import { ModelResponseError, parseModelResponse } from "../src/predictions";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("lambda predictions: reading the endpoint's answer", () => {
    it("has the course dataset's 133 breeds in class-folder order, numbers and underscores removed", () => {
        expect(LABELS).to.have.length(133);
        expect(LABELS[0]).to.equal("Affenpinscher");
        expect(LABELS[49]).to.equal("Chinese shar-pei"); // 050.Chinese_shar-pei
        expect(LABELS[95]).to.equal("Labrador retriever"); // 096.Labrador_retriever
        expect(LABELS[132]).to.equal("Yorkshire terrier");
        expect(new Set(LABELS).size).to.equal(133);
        for (const label of LABELS) expect(label).to.match(/^[A-Z][a-z]*([ -][a-z]+)*$/);
    });

    it("softmax probabilities sum to one and survive huge logits", () => {
        const logits = LABELS.map((_, i) => 1000 + i / 100);
        const all = parseModelResponse(encode(logits), 133);
        expect(all.reduce((sum, p) => sum + p.probability, 0)).to.be.closeTo(1, 1e-9);
        expect(all.every((p) => Number.isFinite(p.probability))).to.equal(true);
        expect(all[0]).to.include({ index: 132, label: "Yorkshire terrier" });
    });

    it("rejects answers of the wrong shape with a reason", () => {
        const bad: [unknown, RegExp][] = [
            [LABELS.slice(1).map(() => 0), /132 class scores, expected 133/],
            [LABELS.map(() => null), /finite numbers/],
            [{ predictions: [{ label: "Beagle", index: -1, probability: 0.5 }] }, /prediction 0/],
            [{ predictions: [{ label: "Beagle", index: 1, probability: 1.5 }] }, /probability: 0..1/],
            [{ labels: [] }, /neither/],
            ["Beagle", /neither/],
        ];
        for (const [answer, reason] of bad) {
            expect(() => parseModelResponse(encode(answer), 5)).to.throw(ModelResponseError, reason);
        }
        expect(() => parseModelResponse(new Uint8Array([0xff, 0x00]), 5)).to.throw(ModelResponseError, /not JSON/);
    });
});
