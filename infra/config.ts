/**
 * The stack configuration, read once from `Pulumi.<stack>.yaml` and validated before any resource is declared.
 * Every problem is reported at once, each naming its config key and what is allowed, so a user fixes the file
 * in one pass. Components receive the typed result and never read config themselves.
 */
import * as pulumi from "@pulumi/pulumi";

export type TrainingMode = "existing" | "single" | "tuning";
export const TRAINING_MODES: readonly TrainingMode[] = ["existing", "single", "tuning"];
export type TuningStrategy = "Bayesian" | "Random" | "Hyperband" | "Grid";
const TUNING_STRATEGIES: readonly TuningStrategy[] = ["Bayesian", "Random", "Hyperband", "Grid"];
export type ParameterScaling = "Auto" | "Linear" | "Logarithmic" | "ReverseLogarithmic";
const PARAMETER_SCALINGS: readonly ParameterScaling[] = ["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"];
export const MODEL_NAMES = ["resnet50", "resnet18", "tiny-cnn"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface Hyperparameters {
    epochs: number;
    learningRate: number;
    batchSize: number;
    modelName: ModelName;
    pretrained: boolean;
}

export interface TuningConfig {
    maxJobs: number;
    maxParallelJobs: number;
    strategy: TuningStrategy;
    learningRate: { min: number; max: number; scaling: ParameterScaling };
    batchSizes: number[];
    /** How long `pulumi up` waits for the tuning job before failing. */
    waitTimeoutMinutes: number;
}

export interface TrainingConfig {
    mode: TrainingMode;
    /** `existing` mode: the model.tar.gz to deploy. */
    modelDataUrl?: string;
    instanceType: string;
    volumeSizeGb: number;
    maxRuntimeSeconds: number;
    hyperparameters: Hyperparameters;
    tuning: TuningConfig;
}

export interface Ec2TrainingConfig {
    enabled: boolean;
    instanceType: string;
    amiSsmParameter: string;
    rootVolumeGb: number;
    subnetId?: string;
    keyName?: string;
    hyperparameters: Hyperparameters;
}

export interface EndpointConfig {
    instanceType: string;
    initialInstanceCount: number;
    variantName: string;
    kmsKeyArn?: string;
}

export interface AutoscalingConfig {
    minCapacity: number;
    maxCapacity: number;
    targetInvocationsPerInstance: number;
    scaleInCooldownSeconds: number;
    scaleOutCooldownSeconds: number;
}

export interface ApiConfig {
    memoryMb: number;
    timeoutSeconds: number;
    invokeTimeoutMs: number;
    provisionedConcurrency: number;
    reservedConcurrency: number;
    logRetentionDays: number;
    allowHttpImageUrls: boolean;
}

export interface ImagesConfig {
    pytorchTrainingTag: string;
    pytorchInferenceTag: string;
}

export interface StackConfig {
    environment: string;
    /** S3 URI of the ImageFolder dataset (`train/`, `valid/`, `test/`); needed by every mode that trains. */
    dataS3Uri?: string;
    training: TrainingConfig;
    ec2Training: Ec2TrainingConfig;
    endpoint: EndpointConfig;
    autoscaling: AutoscalingConfig;
    api: ApiConfig;
    images: ImagesConfig;
    tags: Record<string, string>;
}

/** The raw values of the project's config keys, as `pulumi.Config.getObject` returns them. */
export type RawConfig = Partial<Record<(typeof CONFIG_KEYS)[number], unknown>>;
export const CONFIG_KEYS = [
    "environment",
    "data",
    "training",
    "ec2Training",
    "endpoint",
    "autoscaling",
    "api",
    "images",
    "tags",
] as const;

export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** SageMaker instance families this project knows to offer the CPU/GPU shapes a classifier needs. */
const SAGEMAKER_INSTANCE_TYPE =
    /^ml\.(t2|t3|m4|m5|m5d|m6i|m6id|m7i|c4|c5|c5d|c5n|c6i|c6id|c7i|r5|r5d|r6i|g4dn|g5|g6|g6e|p3|p3dn|p4d|p5|inf1|inf2|trn1)\.(medium|large|xlarge|[1-9][0-9]*xlarge)$/;
const EC2_INSTANCE_TYPE =
    /^(t3|t3a|m5|m5a|m5d|m6i|m6a|m7i|m7a|c5|c5a|c6i|c6a|c7i|r5|r6i|g4dn|g5|g6|g6e|p3|p4d|p5)\.(medium|large|xlarge|[1-9][0-9]*xlarge)$/;
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const SSM_PARAMETER = /^\/[A-Za-z0-9_.\-/]+$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const VARIANT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const ENVIRONMENT = /^[a-z][a-z0-9-]{0,15}$/;
/** The values CloudWatch Logs accepts for retention. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Reads one config object field by field, collecting problems instead of throwing at the first. */
class Section {
    private readonly value: Record<string, unknown>;
    constructor(
        private readonly key: string,
        raw: unknown,
        private readonly problems: string[],
        allowed: readonly string[],
    ) {
        if (raw === undefined || raw === null) {
            this.value = {};
        } else if (typeof raw !== "object" || Array.isArray(raw)) {
            problems.push(`${key} must be an object with the keys ${allowed.join(", ")}`);
            this.value = {};
        } else {
            this.value = raw as Record<string, unknown>;
            for (const field of Object.keys(this.value)) {
                if (!allowed.includes(field)) {
                    problems.push(`${key}.${field} is not a known setting (known: ${allowed.join(", ")})`);
                }
            }
        }
    }

    path(field: string): string {
        return `${this.key}.${field}`;
    }

    raw(field: string): unknown {
        return this.value[field];
    }

    section(field: string, allowed: readonly string[]): Section {
        return new Section(this.path(field), this.value[field], this.problems, allowed);
    }

    number(field: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
        const value = this.value[field];
        if (value === undefined) return fallback;
        const { min, max, integer } = opts;
        const kind = integer ? "an integer" : "a number";
        const range =
            min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : "";
        if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value)) ||
            (min !== undefined && value < min) || (max !== undefined && value > max)) {
            this.problems.push(`${this.path(field)} must be ${kind}${range}, got ${JSON.stringify(value)}`);
            return fallback;
        }
        return value;
    }

    integer(field: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
        return this.number(field, fallback, { ...opts, integer: true });
    }

    boolean(field: string, fallback: boolean): boolean {
        const value = this.value[field];
        if (value === undefined) return fallback;
        if (typeof value !== "boolean") {
            this.problems.push(`${this.path(field)} must be true or false, got ${JSON.stringify(value)}`);
            return fallback;
        }
        return value;
    }

    string(field: string, fallback: string, pattern?: RegExp, what?: string): string {
        return this.optionalString(field, pattern, what) ?? fallback;
    }

    optionalString(field: string, pattern?: RegExp, what?: string): string | undefined {
        const value = this.value[field];
        if (value === undefined) return undefined;
        if (typeof value !== "string" || (pattern && !pattern.test(value))) {
            this.problems.push(`${this.path(field)} must be ${what ?? "a string"}, got ${JSON.stringify(value)}`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(field: string, choices: readonly T[], fallback: T): T {
        const value = this.value[field];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || !choices.includes(value as T)) {
            this.problems.push(`${this.path(field)} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
            return fallback;
        }
        return value as T;
    }
}

const HYPERPARAMETER_KEYS = ["epochs", "learningRate", "batchSize", "modelName", "pretrained"];

function readHyperparameters(section: Section, fallback: Hyperparameters): Hyperparameters {
    return {
        epochs: section.integer("epochs", fallback.epochs, { min: 1, max: 500 }),
        learningRate: section.number("learningRate", fallback.learningRate, { min: 1e-6, max: 1 }),
        batchSize: section.integer("batchSize", fallback.batchSize, { min: 1, max: 4096 }),
        modelName: section.oneOf("modelName", MODEL_NAMES, fallback.modelName),
        pretrained: section.boolean("pretrained", fallback.pretrained),
    };
}

/** The course's defaults: ResNet-50 with pretrained weights, its learning rate and batch size search space. */
export const DEFAULT_HYPERPARAMETERS: Hyperparameters = {
    epochs: 2,
    learningRate: 0.01,
    batchSize: 32,
    modelName: "resnet50",
    pretrained: true,
};

export function parseConfig(raw: RawConfig, stack: string): StackConfig {
    const problems: string[] = [];

    let environment = stack;
    if (raw.environment !== undefined) {
        if (typeof raw.environment !== "string" || !ENVIRONMENT.test(raw.environment)) {
            problems.push(`environment must be a short lower-case name such as dev or prod, got ${JSON.stringify(raw.environment)}`);
        } else {
            environment = raw.environment;
        }
    }

    const data = new Section("data", raw.data, problems, ["s3Uri"]);
    const dataS3Uri = data.optionalString("s3Uri", S3_URI, "an S3 URI such as s3://my-bucket/dogImages/");

    const training = new Section("training", raw.training, problems, [
        "mode", "modelDataUrl", "instanceType", "volumeSizeGb", "maxRuntimeSeconds", "hyperparameters", "tuning",
    ]);
    const mode = training.oneOf("mode", TRAINING_MODES, "tuning");
    const modelDataUrl = training.optionalString("modelDataUrl", S3_URI, "the S3 URI of a model.tar.gz");
    if (mode === "existing" && training.raw("modelDataUrl") === undefined) {
        problems.push("training.modelDataUrl is required when training.mode is existing (the S3 URI of the model.tar.gz to deploy)");
    }
    if (mode !== "existing" && training.raw("modelDataUrl") !== undefined) {
        problems.push(`training.modelDataUrl is only used when training.mode is existing, but mode is ${mode}: remove it or set mode: existing`);
    }
    if (modelDataUrl !== undefined && !modelDataUrl.endsWith(".tar.gz")) {
        problems.push(`training.modelDataUrl must point to a model.tar.gz archive, got ${JSON.stringify(modelDataUrl)}`);
    }
    const hyperparameters = readHyperparameters(training.section("hyperparameters", HYPERPARAMETER_KEYS), DEFAULT_HYPERPARAMETERS);

    const tuningSection = training.section("tuning", ["maxJobs", "maxParallelJobs", "strategy", "learningRate", "batchSizes", "waitTimeoutMinutes"]);
    const lrSection = tuningSection.section("learningRate", ["min", "max", "scaling"]);
    const tuning: TuningConfig = {
        maxJobs: tuningSection.integer("maxJobs", 4, { min: 1, max: 500 }),
        maxParallelJobs: tuningSection.integer("maxParallelJobs", 2, { min: 1, max: 100 }),
        strategy: tuningSection.oneOf("strategy", TUNING_STRATEGIES, "Bayesian"),
        learningRate: {
            min: lrSection.number("min", 0.001, { min: 1e-6, max: 1 }),
            max: lrSection.number("max", 0.1, { min: 1e-6, max: 1 }),
            scaling: lrSection.oneOf("scaling", PARAMETER_SCALINGS, "Auto"),
        },
        batchSizes: [32, 64, 128, 256, 512],
        waitTimeoutMinutes: tuningSection.integer("waitTimeoutMinutes", 240, { min: 1, max: 7 * 24 * 60 }),
    };
    const batchSizes = tuningSection.raw("batchSizes");
    if (batchSizes !== undefined) {
        if (!Array.isArray(batchSizes) || batchSizes.length === 0 || batchSizes.length > 30 ||
            !batchSizes.every((b) => Number.isInteger(b) && b >= 1 && b <= 4096) || new Set(batchSizes).size !== batchSizes.length) {
            problems.push(`training.tuning.batchSizes must be a list of 1 to 30 distinct integers from 1 to 4096, got ${JSON.stringify(batchSizes)}`);
        } else {
            tuning.batchSizes = batchSizes as number[];
        }
    }
    if (tuning.learningRate.min >= tuning.learningRate.max) {
        problems.push(`training.tuning.learningRate.min (${tuning.learningRate.min}) must be below training.tuning.learningRate.max (${tuning.learningRate.max})`);
    }
    if (tuning.maxParallelJobs > tuning.maxJobs) {
        problems.push(`training.tuning.maxParallelJobs (${tuning.maxParallelJobs}) must not exceed training.tuning.maxJobs (${tuning.maxJobs})`);
    }
    if (tuning.strategy === "Hyperband" || tuning.strategy === "Grid") {
        // Both need settings (resource limits, categorical-only ranges) the course's search space does not have.
        problems.push(`training.tuning.strategy ${tuning.strategy} is not supported by this project's search space; use Bayesian or Random`);
    }

    const trainingConfig: TrainingConfig = {
        mode,
        modelDataUrl,
        instanceType: training.string("instanceType", "ml.m5.xlarge", SAGEMAKER_INSTANCE_TYPE, "a SageMaker instance type such as ml.m5.xlarge"),
        volumeSizeGb: training.integer("volumeSizeGb", 30, { min: 1, max: 16384 }),
        maxRuntimeSeconds: training.integer("maxRuntimeSeconds", 4 * 3600, { min: 60, max: 28 * 24 * 3600 }),
        hyperparameters,
        tuning,
    };

    const ec2 = new Section("ec2Training", raw.ec2Training, problems, [
        "enabled", "instanceType", "amiSsmParameter", "rootVolumeGb", "subnetId", "keyName", "hyperparameters",
    ]);
    const ec2Training: Ec2TrainingConfig = {
        enabled: ec2.boolean("enabled", false),
        instanceType: ec2.string("instanceType", "m5.xlarge", EC2_INSTANCE_TYPE, "an EC2 instance type such as m5.xlarge"),
        amiSsmParameter: ec2.string(
            "amiSsmParameter",
            "/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.7-ubuntu-22.04/latest/ami-id",
            SSM_PARAMETER,
            "an SSM parameter name starting with /",
        ),
        rootVolumeGb: ec2.integer("rootVolumeGb", 100, { min: 75, max: 16384 }),
        subnetId: ec2.optionalString("subnetId", /^subnet-[0-9a-f]{8,17}$/, "a subnet id such as subnet-0123456789abcdef0"),
        keyName: ec2.optionalString("keyName", /^[\x20-\x7e]{1,255}$/, "the name of an EC2 key pair"),
        hyperparameters: readHyperparameters(ec2.section("hyperparameters", HYPERPARAMETER_KEYS), hyperparameters),
    };
    if ((mode !== "existing" || ec2Training.enabled) && dataS3Uri === undefined) {
        const who = mode !== "existing" ? `training.mode is ${mode}` : "ec2Training.enabled is true";
        problems.push(`data.s3Uri is required when ${who} (the S3 prefix holding train/, valid/ and test/ image folders)`);
    }

    const endpoint = new Section("endpoint", raw.endpoint, problems, ["instanceType", "initialInstanceCount", "variantName", "kmsKeyArn"]);
    const endpointConfig: EndpointConfig = {
        instanceType: endpoint.string("instanceType", "ml.m5.large", SAGEMAKER_INSTANCE_TYPE, "a SageMaker instance type such as ml.m5.large"),
        initialInstanceCount: endpoint.integer("initialInstanceCount", 1, { min: 1, max: 100 }),
        variantName: endpoint.string("variantName", "AllTraffic", VARIANT_NAME, "letters, digits and hyphens, at most 63 characters"),
        kmsKeyArn: endpoint.optionalString("kmsKeyArn", KMS_KEY_ARN, "a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/<uuid>"),
    };

    const scaling = new Section("autoscaling", raw.autoscaling, problems, [
        "minCapacity", "maxCapacity", "targetInvocationsPerInstance", "scaleInCooldownSeconds", "scaleOutCooldownSeconds",
    ]);
    const autoscaling: AutoscalingConfig = {
        minCapacity: scaling.integer("minCapacity", 1, { min: 1, max: 100 }),
        maxCapacity: scaling.integer("maxCapacity", 2, { min: 1, max: 100 }),
        targetInvocationsPerInstance: scaling.number("targetInvocationsPerInstance", 10, { min: 1, max: 100000 }),
        scaleInCooldownSeconds: scaling.integer("scaleInCooldownSeconds", 30, { min: 0, max: 3600 }),
        scaleOutCooldownSeconds: scaling.integer("scaleOutCooldownSeconds", 30, { min: 0, max: 3600 }),
    };
    if (autoscaling.maxCapacity < autoscaling.minCapacity) {
        problems.push(`autoscaling.maxCapacity (${autoscaling.maxCapacity}) must be at least autoscaling.minCapacity (${autoscaling.minCapacity})`);
    }
    if (endpointConfig.initialInstanceCount < autoscaling.minCapacity || endpointConfig.initialInstanceCount > autoscaling.maxCapacity) {
        problems.push(
            `endpoint.initialInstanceCount (${endpointConfig.initialInstanceCount}) must be within autoscaling.minCapacity..maxCapacity ` +
                `(${autoscaling.minCapacity}..${autoscaling.maxCapacity})`,
        );
    }

    const apiSection = new Section("api", raw.api, problems, [
        "memoryMb", "timeoutSeconds", "invokeTimeoutMs", "provisionedConcurrency", "reservedConcurrency", "logRetentionDays", "allowHttpImageUrls",
    ]);
    const api: ApiConfig = {
        memoryMb: apiSection.integer("memoryMb", 512, { min: 128, max: 10240 }),
        timeoutSeconds: apiSection.integer("timeoutSeconds", 30, { min: 1, max: 900 }),
        // SageMaker ends an invocation after 60 s, and the handler refuses a longer deadline.
        invokeTimeoutMs: apiSection.integer("invokeTimeoutMs", 20000, { min: 100, max: 60000 }),
        provisionedConcurrency: apiSection.integer("provisionedConcurrency", 3, { min: 1, max: 1000 }),
        reservedConcurrency: apiSection.integer("reservedConcurrency", 10, { min: 1, max: 1000 }),
        logRetentionDays: 14,
        allowHttpImageUrls: apiSection.boolean("allowHttpImageUrls", false),
    };
    const retention = apiSection.raw("logRetentionDays");
    if (retention !== undefined) {
        if (!LOG_RETENTION_DAYS.includes(retention as number)) {
            problems.push(`api.logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${JSON.stringify(retention)}`);
        } else {
            api.logRetentionDays = retention as number;
        }
    }
    if (api.reservedConcurrency < api.provisionedConcurrency) {
        problems.push(`api.reservedConcurrency (${api.reservedConcurrency}) must be at least api.provisionedConcurrency (${api.provisionedConcurrency})`);
    }
    if (api.invokeTimeoutMs >= api.timeoutSeconds * 1000) {
        problems.push(`api.invokeTimeoutMs (${api.invokeTimeoutMs}) must be below api.timeoutSeconds (${api.timeoutSeconds} s) so the function can answer 504 itself`);
    }

    const imagesSection = new Section("images", raw.images, problems, ["pytorchTrainingTag", "pytorchInferenceTag"]);
    const images: ImagesConfig = {
        pytorchTrainingTag: imagesSection.string("pytorchTrainingTag", "2.6.0-cpu-py312-ubuntu22.04-sagemaker", IMAGE_TAG, "a container image tag"),
        pytorchInferenceTag: imagesSection.string("pytorchInferenceTag", "2.6.0-cpu-py312-ubuntu22.04-sagemaker", IMAGE_TAG, "a container image tag"),
    };

    const tags: Record<string, string> = {};
    if (raw.tags !== undefined) {
        if (typeof raw.tags !== "object" || raw.tags === null || Array.isArray(raw.tags) ||
            !Object.values(raw.tags).every((v) => typeof v === "string")) {
            problems.push(`tags must be a map of tag names to string values, got ${JSON.stringify(raw.tags)}`);
        } else {
            Object.assign(tags, raw.tags);
        }
    }

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        environment,
        dataS3Uri,
        training: trainingConfig,
        ec2Training,
        endpoint: endpointConfig,
        autoscaling,
        api,
        images,
        tags,
    };
}

/** Reads the project's config keys from the current stack and validates them. */
export function loadConfig(): StackConfig {
    const config = new pulumi.Config();
    const raw: RawConfig = {};
    const problems: string[] = [];
    const namespace = `${pulumi.getProject()}:`;
    for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
        const key = fullKey.slice(namespace.length);
        if (fullKey.startsWith(namespace) && !(CONFIG_KEYS as readonly string[]).includes(key)) {
            problems.push(`${fullKey} is not a known setting (known: ${CONFIG_KEYS.join(", ")})`);
        }
    }
    for (const key of CONFIG_KEYS) {
        try {
            raw[key] = key === "environment" ? config.get(key) : config.getObject<unknown>(key);
        } catch {
            problems.push(`${key} is not valid YAML/JSON`);
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return parseConfig(raw, pulumi.getStack());
}

/** Splits an S3 URI into bucket and key prefix (no leading or trailing slash). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
    const match = S3_URI.exec(uri);
    if (!match) throw new Error(`not an S3 URI: ${uri}`);
    return { bucket: match[1], key: (match[2] ?? "").replace(/^\/+|\/+$/g, "") };
}
