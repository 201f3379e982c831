/**
 * The TypeScript reading of training-scripts/contract.json, the one declaration of the facts this side shares
 * with the Python side: breed labels, hyperparameter wire names with their defaults, ranges and tuning search
 * space, the int8 quantization switch and thresholds, model names, request limits, the SageMaker name pattern and the training metrics.
 *
 * A static JSON import, so esbuild inlines the file into the Lambda bundle and the program needs no file at
 * run time. This module imports nothing else: the Lambda and the local tools import it as well as the program.
 */
import contract from "../training-scripts/contract.json";

/** The file's path relative to the repository root (the Lambda bundle's staleness stamp hashes it). */
export const CONTRACT_FILE = "training-scripts/contract.json";

export type HyperparameterKey = keyof typeof contract.hyperparameters;
/** SageMaker's ScalingType values for a continuous parameter range. */
export const PARAMETER_SCALINGS = ["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] as const;
export type ParameterScaling = (typeof PARAMETER_SCALINGS)[number];

export interface NumericHyperparameter {
    wireName: string;
    type: "integer" | "number";
    default: number;
    min: number;
    max: number;
}

export interface Hyperparameters {
    epochs: number;
    learningRate: number;
    batchSize: number;
    modelName: string;
    pretrained: boolean;
}

export interface MetricDefinition {
    name: string;
    regex: string;
}

export interface TrainingMetrics {
    metricDefinitions: MetricDefinition[];
    objective: { metricName: string; type: "Minimize" | "Maximize" };
}

function fail(field: string, problem: string): never {
    throw new Error(`${CONTRACT_FILE}: ${field} ${problem}`);
}

function numeric(key: "epochs" | "learningRate" | "batchSize"): NumericHyperparameter {
    const spec = contract.hyperparameters[key];
    const field = `hyperparameters.${key}`;
    if (spec.type !== "integer" && spec.type !== "number") fail(field, `has type ${spec.type}, expected integer or number`);
    if (!(spec.min <= spec.default && spec.default <= spec.max)) fail(field, `default ${spec.default} is outside ${spec.min}..${spec.max}`);
    return { wireName: spec.wireName, type: spec.type, default: spec.default, min: spec.min, max: spec.max };
}

/** The 133 breeds in class-index order (the dataset's numbered class folders), spelled as callers see them. */
export const LABELS: readonly string[] = contract.labels;
if (new Set(LABELS).size !== LABELS.length || LABELS.some((label) => label.trim() === "" || label.includes("_"))) {
    fail("labels", "must be distinct, non-empty and spelled with spaces, not underscores");
}

export const EPOCHS = numeric("epochs");
export const LEARNING_RATE = numeric("learningRate");
export const BATCH_SIZE = numeric("batchSize");

/** The architectures train.py builds, by `model-name`; the first tuple element makes it a zod enum as it is. */
export const MODEL_NAMES = contract.hyperparameters.modelName.choices as [string, ...string[]];
if (MODEL_NAMES.length === 0 || !MODEL_NAMES.includes(contract.hyperparameters.modelName.default)) {
    fail("hyperparameters.modelName", `default ${contract.hyperparameters.modelName.default} is not one of its choices`);
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = {
    epochs: EPOCHS.default,
    learningRate: LEARNING_RATE.default,
    batchSize: BATCH_SIZE.default,
    modelName: contract.hyperparameters.modelName.default,
    pretrained: contract.hyperparameters.pretrained.default,
};

/** The course's search space: a continuous range of `lr` and a categorical list of `batch-size`. */
export const TUNING_DEFAULTS: Readonly<{ learningRate: { min: number; max: number; scaling: ParameterScaling }; batchSizes: readonly number[] }> = {
    learningRate: { ...contract.hyperparameters.learningRate.tuning, scaling: contract.hyperparameters.learningRate.tuning.scaling as ParameterScaling },
    batchSizes: contract.hyperparameters.batchSize.tuning.values,
};
{
    const { min, max } = TUNING_DEFAULTS.learningRate;
    if (!(LEARNING_RATE.min <= min && min < max && max <= LEARNING_RATE.max)) fail("hyperparameters.learningRate.tuning", `${min}..${max} is not a range within the hyperparameter's`);
    if (!PARAMETER_SCALINGS.includes(TUNING_DEFAULTS.learningRate.scaling)) fail("hyperparameters.learningRate.tuning.scaling", `must be one of ${PARAMETER_SCALINGS.join(", ")}`);
    if (TUNING_DEFAULTS.batchSizes.some((size) => !Number.isInteger(size) || size < BATCH_SIZE.min || size > BATCH_SIZE.max)) {
        fail("hyperparameters.batchSize.tuning.values", `must be integers from ${BATCH_SIZE.min} to ${BATCH_SIZE.max}`);
    }
}

/**
 * The hyperparameters by their wire names, in the contract's order: what SageMaker passes to train.py as
 * `--<name> <value>` and what the EC2 config file holds. Values keep their types; SageMaker callers stringify.
 */
export function hyperparameterWireValues(values: Hyperparameters): Record<string, string | number | boolean> {
    const wire: Record<string, string | number | boolean> = {};
    for (const key of Object.keys(contract.hyperparameters) as HyperparameterKey[]) {
        wire[contract.hyperparameters[key].wireName] = values[key];
    }
    return wire;
}

export function wireName(key: HyperparameterKey): string {
    return contract.hyperparameters[key].wireName;
}

/** The int8 quantization train.py runs at the end of training (`training.quantization`): the switch and thresholds. */
export interface Quantization {
    enabled: boolean;
    minAgreement: number;
    maxAccuracyDrop: number;
}
export type QuantizationKey = keyof typeof contract.quantization;

function fraction(key: "minAgreement" | "maxAccuracyDrop"): NumericHyperparameter {
    const spec = contract.quantization[key];
    if (!(spec.min <= spec.default && spec.default <= spec.max)) fail(`quantization.${key}`, `default ${spec.default} is outside ${spec.min}..${spec.max}`);
    return { wireName: spec.wireName, type: "number", default: spec.default, min: spec.min, max: spec.max };
}

export const QUANTIZATION_MIN_AGREEMENT = fraction("minAgreement");
export const QUANTIZATION_MAX_ACCURACY_DROP = fraction("maxAccuracyDrop");
export const DEFAULT_QUANTIZATION: Readonly<Quantization> = {
    enabled: contract.quantization.enabled.default,
    minAgreement: QUANTIZATION_MIN_AGREEMENT.default,
    maxAccuracyDrop: QUANTIZATION_MAX_ACCURACY_DROP.default,
};

/** The quantization settings by their wire names, as train.py and ec2_train.py take them (`--quantize true ...`). */
export function quantizationWireValues(values: Quantization): Record<string, number | boolean> {
    const wire: Record<string, number | boolean> = {};
    for (const key of Object.keys(contract.quantization) as QuantizationKey[]) {
        wire[contract.quantization[key].wireName] = values[key];
    }
    return wire;
}

export function quantizationWireName(key: QuantizationKey): string {
    return contract.quantization[key].wireName;
}

/** What the inference API accepts: the longest image URL, and topK's default and maximum (one per class). */
export const REQUEST_LIMITS = {
    maxUrlLength: contract.request.maxUrlLength,
    defaultTopK: contract.request.defaultTopK,
    maxTopK: LABELS.length,
} as const;

/** SageMaker's pattern for endpoint, endpoint configuration, model and production variant names. */
export const SAGEMAKER_NAME_PATTERN = new RegExp(contract.namePatterns.sageMakerName);

/** The metric lines train.py prints and the regexes SageMaker extracts them with. */
export const TRAINING_METRICS: TrainingMetrics = {
    metricDefinitions: contract.metrics.definitions,
    objective: contract.metrics.objective as TrainingMetrics["objective"],
};
if (!TRAINING_METRICS.metricDefinitions.some((metric) => metric.name === TRAINING_METRICS.objective.metricName)) {
    fail("metrics.objective", `metric ${TRAINING_METRICS.objective.metricName} has no metric definition`);
}
