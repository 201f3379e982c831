/**
 * Reads the endpoint's answer. Two shapes are accepted: our inference script's
 * {"predictions": [{label, index, probability}...]}, and the course's raw class scores (a list of 133 logits,
 * or that list wrapped in a batch of one), which are turned into softmax probabilities with the breed labels.
 */
import { LABELS } from "../../infra/contract";

export interface Prediction {
    label: string;
    /** The model's class index, 0-based: index i is the dataset's class folder number i + 1. */
    index: number;
    probability: number;
}

/** The endpoint answered, but not with anything we can read: a deployment mismatch, not a client error. */
export class ModelResponseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ModelResponseError";
    }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseModelResponse(body: Uint8Array, topK: number): Prediction[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(utf8.decode(body));
    } catch {
        throw new ModelResponseError("the endpoint's answer is not JSON");
    }
    if (Array.isArray(parsed)) {
        const scores = parsed.length === 1 && Array.isArray(parsed[0]) ? (parsed[0] as unknown[]) : parsed;
        return topKFromScores(scores, topK);
    }
    if (typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { predictions?: unknown }).predictions)) {
        return readPredictions((parsed as { predictions: unknown[] }).predictions, topK);
    }
    throw new ModelResponseError('the endpoint\'s answer is neither {"predictions": [...]} nor a list of class scores');
}

function readPredictions(entries: unknown[], topK: number): Prediction[] {
    const predictions = entries.map((entry, i): Prediction => {
        const { label, index, probability } = (entry ?? {}) as Record<string, unknown>;
        if (
            typeof label !== "string" ||
            typeof index !== "number" ||
            !Number.isInteger(index) ||
            index < 0 ||
            typeof probability !== "number" ||
            !(probability >= 0 && probability <= 1)
        ) {
            throw new ModelResponseError(`prediction ${i} from the endpoint is not {label: string, index: integer >= 0, probability: 0..1}`);
        }
        return { label, index, probability };
    });
    // The endpoint should already sort; sorting again keeps "top k" true even if it does not.
    return predictions.sort((a, b) => b.probability - a.probability).slice(0, topK);
}

function topKFromScores(scores: unknown[], topK: number): Prediction[] {
    if (scores.length !== LABELS.length) {
        throw new ModelResponseError(`the endpoint returned ${scores.length} class scores, expected ${LABELS.length}`);
    }
    if (!scores.every((score): score is number => typeof score === "number" && Number.isFinite(score))) {
        throw new ModelResponseError("the endpoint's class scores are not all finite numbers");
    }
    // Subtracting the maximum keeps exp() from overflowing on large logits without changing the result.
    const max = Math.max(...scores);
    const exps = scores.map((score) => Math.exp(score - max));
    const total = exps.reduce((sum, value) => sum + value, 0);
    return exps
        .map((value, index) => ({ label: LABELS[index], index, probability: value / total }))
        .sort((a, b) => b.probability - a.probability || a.index - b.index)
        .slice(0, topK);
}
