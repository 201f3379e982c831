/**
 * The Lambda and inference.py must name a class alike whichever shape the endpoint answers in: the course's raw
 * logits (labelled by the Lambda) or our {"predictions": [...]} (labelled by inference.py). Both sides read the
 * labels from training-scripts/contract.json; this runs the real inference.py under /usr/bin/python3 on the same
 * logits the Lambda parses.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { LABELS, REQUEST_LIMITS } from "../../infra/contract";
import { parseModelResponse, type Prediction } from "../src/predictions";
import { PYTHON } from "../../tools/python-env/python";

const HELPER = path.join(__dirname, "support", "inference_output.py");

interface Case {
    logits: number[];
    /** null: the caller gave none, so the endpoint and the Lambda each apply their default. */
    topK: number | null;
}

/** A fixed-seed generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Distinct logits 0.05 apart in a random order: float32 (torch) and float64 (JS) softmax rank them alike. */
function shuffledLogits(next: () => number, offset: number): number[] {
    const ranks = LABELS.map((_, i) => i);
    for (let i = ranks.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [ranks[i], ranks[j]] = [ranks[j], ranks[i]];
    }
    return ranks.map((rank) => offset + rank * 0.05);
}

function cases(): Case[] {
    const next = random(11);
    const generated = Array.from({ length: 20 }, (_, i): Case => ({
        logits: shuffledLogits(next, (next() - 0.5) * 20),
        topK: i % 4 === 0 ? null : 1 + Math.floor(next() * LABELS.length),
    }));
    return [
        ...generated,
        { logits: shuffledLogits(next, 0), topK: LABELS.length },
        // Ties: both sides must break them by class index.
        { logits: LABELS.map(() => 0), topK: 7 },
        // Large logits: neither side may overflow.
        { logits: LABELS.map((_, i) => (i === 95 ? 1000 : 990 + (i % 3))), topK: 4 },
    ];
}

function runInferencePy(input: Case[]): Array<{ predictions: Prediction[] }> {
    const result = spawnSync(PYTHON, [HELPER], { input: JSON.stringify(input), encoding: "utf8", timeout: 120_000 });
    if (result.status !== 0) throw new Error(`inference_output.py exited ${result.status}: ${result.error ?? result.stderr}`);
    return JSON.parse(result.stdout) as Array<{ predictions: Prediction[] }>;
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const named = (predictions: Prediction[]) => predictions.map(({ label, index }) => ({ label, index }));

describe("labels across languages: the Lambda and inference.py", function () {
    this.timeout(180_000);
    const input = cases();
    let answers: Array<{ predictions: Prediction[] }>;
    before(() => {
        answers = runInferencePy(input);
    });

    it("return the same labels, indices and order for the same logits, in either response shape", () => {
        expect(answers).to.have.length(input.length);
        input.forEach((testCase, i) => {
            const topK = testCase.topK ?? REQUEST_LIMITS.defaultTopK;
            const fromLogits = parseModelResponse(encode(testCase.logits), topK);
            const fromInference = parseModelResponse(encode(answers[i]), topK);
            expect(fromLogits, `case ${i}`).to.have.length(topK);
            expect(named(answers[i].predictions), `case ${i}: inference.py vs the Lambda on raw logits`).to.deep.equal(named(fromLogits));
            expect(named(fromInference), `case ${i}: the Lambda on each shape`).to.deep.equal(named(fromLogits));
            fromInference.forEach((prediction, k) => expect(prediction.probability).to.be.closeTo(fromLogits[k].probability, 1e-5));
        });
    });

    it("label every index with the contract's spelling", () => {
        for (const answer of answers) {
            for (const { label, index } of answer.predictions) expect(label).to.equal(LABELS[index]);
        }
        const seen = new Set(answers.flatMap((answer) => answer.predictions.map((p) => p.index)));
        expect(seen.size, "the cases reach every class").to.equal(LABELS.length);
    });
});
