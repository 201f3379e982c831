/**
 * training-scripts/contract.json is the one declaration of what TypeScript and Python share. These tests hold
 * both sides to it: the source tree has no second declaration of those facts, the stack config's defaults and
 * ranges are train.py's (asked of the real argparse parser in the project's .venv), both loaders read the same
 * values, and the file ships in the SageMaker source archive.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, parseConfig, type RawConfig } from "../config";
import {
    BATCH_SIZE, CONTRACT_FILE, DEFAULT_HYPERPARAMETERS, DEFAULT_QUANTIZATION, EPOCHS, LABELS, LEARNING_RATE, MODEL_NAMES, QUANTIZATION_MAX_ACCURACY_DROP,
    QUANTIZATION_MIN_AGREEMENT, quantizationWireName, REQUEST_LIMITS, SAGEMAKER_NAME_PATTERN, TRAINING_METRICS, TUNING_DEFAULTS, type HyperparameterKey,
    type QuantizationKey, wireName,
} from "../contract";
import { buildSourceArchive } from "../source-archive";
import { PYTHON } from "../../tools/python-env/python";

const repoRoot = path.resolve(__dirname, "..", "..");
const scriptsDir = path.join(repoRoot, "training-scripts");

function python(code: string, input?: unknown): unknown {
    const stdout = execFileSync(PYTHON, ["-c", code], { cwd: scriptsDir, input: input === undefined ? undefined : JSON.stringify(input), encoding: "utf8" });
    return JSON.parse(stdout);
}

interface CopyRule {
    fact: string;
    /** Which files the rule reads. */
    applies: (file: string) => boolean;
    /** A match is a second declaration. */
    find: (text: string) => number[];
    /** What the rule must catch: a copy as it used to be written. */
    example: { file: string; text: string };
}

const anySource = () => true;
const typeScript = (file: string) => file.endsWith(".ts");

function linesMatching(pattern: RegExp): (text: string) => number[] {
    return (text) => text.split("\n").flatMap((line, i) => (pattern.test(line) ? [i + 1] : []));
}

/** The labels quoted in a file, either spelling; ten or more of them make a label list. */
function labelListLines(text: string): number[] {
    const quoted = LABELS.filter((label) => [label, label.replaceAll(" ", "_")].some((spelling) => text.includes(`"${spelling}"`) || text.includes(`'${spelling}'`)));
    return quoted.length >= 10 ? [text.split("\n").findIndex((line) => line.includes(quoted[0])) + 1] : [];
}

const RULES: CopyRule[] = [
    {
        fact: "the breed labels",
        applies: anySource,
        find: labelListLines,
        example: { file: "classifier/dog_breeds.json", text: JSON.stringify(LABELS.map((label) => label.replaceAll(" ", "_")), null, 2) },
    },
    {
        fact: "the SageMaker name pattern",
        applies: anySource,
        find: linesMatching(/\{0,62\}/),
        example: { file: "handler.py", text: 'ENDPOINT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")' },
    },
    {
        fact: "the URL length limit",
        applies: anySource,
        find: linesMatching(/url\w*length\w*\s*[:=]\s*\d/i),
        example: { file: "request.ts", text: "export const MAX_URL_LENGTH = 2048;" },
    },
    {
        fact: "the default or maximum top-k",
        applies: anySource,
        find: linesMatching(/(default|max)_?top_?k\w*\s*[:=]\s*\d/i),
        example: { file: "inference.py", text: "DEFAULT_TOP_K = 5" },
    },
    {
        fact: "the number of classes",
        applies: anySource,
        find: linesMatching(/(classes|top_?k)\w*\s*[:=]\s*133\b/i),
        example: { file: "artifacts.py", text: "COURSE_NUM_CLASSES = 133" },
    },
    {
        fact: "a hyperparameter default",
        applies: anySource,
        find: linesMatching(/\bDEFAULT_\w*(LR|LEARNING_RATE|EPOCHS|BATCH_SIZE|MODEL)\w*(\s*:\s*\w+)?\s*=\s*[\d"']|\b(learningRate|learning_rate)\s*[:=]\s*[\d.]/),
        example: { file: "config.ts", text: 'export const DEFAULT_HYPERPARAMETERS = { epochs: 2, learningRate: 0.01, batchSize: 32, modelName: "resnet50", pretrained: true } as const;' },
    },
    {
        fact: "a hyperparameter wire name",
        applies: typeScript,
        find: linesMatching(/["'](batch-size|model-name|lr)["']|\blr:/),
        example: { file: "sagemaker-training.ts", text: '        "batch-size": String(hp.batchSize),' },
    },
    {
        fact: "the model names",
        applies: anySource,
        find: linesMatching(/["']resnet50["']\s*,\s*["']resnet18["']/),
        example: { file: "config.ts", text: 'export const MODEL_NAMES = ["resnet50", "resnet18", "tiny-cnn"] as const;' },
    },
    {
        fact: "a training metric regex",
        applies: anySource,
        find: linesMatching(/\[0-9\.eE\+-\]/),
        example: { file: "metrics.json", text: '{ "name": "test:loss", "regex": "Testing Loss: ([0-9.eE+-]+)" }' },
    },
];

/** Source the project ships or runs: tests (which must spell out what they expect), docs and lockfiles aside. */
function sourceFiles(): string[] {
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
    return listed
        .split("\n")
        .filter((file) => /\.(ts|py|json|js|mjs)$/.test(file))
        .filter((file) => !/(^|\/)(test|tests)\/|\.test\.ts$|(^|\/)package(-lock)?\.json$|(^|\/)dist\//.test(file))
        .filter((file) => file !== CONTRACT_FILE && fs.existsSync(path.join(repoRoot, file)));
}

describe("the contract between TypeScript and Python (training-scripts/contract.json)", function () {
    this.timeout(120_000);

    it("each rule recognises the copy it is there to catch", () => {
        for (const rule of RULES) {
            expect(rule.applies(rule.example.file), rule.fact).to.equal(true);
            expect(rule.find(rule.example.text), rule.fact).to.not.be.empty;
        }
    });

    it("no source file declares a shared fact a second time", () => {
        const copies = sourceFiles().flatMap((file) => {
            const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
            return RULES.filter((rule) => rule.applies(file)).flatMap((rule) => rule.find(text).map((line) => `${file}:${line}: ${rule.fact}`));
        });
        // The one deliberate exception: the Python builders of each model, which model.py checks against the contract at import.
        expect(copies.filter((copy) => !copy.startsWith("training-scripts/classifier/model.py:")), `read these from ${CONTRACT_FILE} instead`).to.deep.equal([]);
    });

    it("the stack config's hyperparameter defaults are train.py's", () => {
        const pythonDefaults = python(
            "import argparse, json\nfrom classifier.config import add_hyperparameters\n" +
                "parser = argparse.ArgumentParser(); add_hyperparameters(parser); print(json.dumps(vars(parser.parse_args([]))))",
        ) as Record<string, unknown>;
        const stackDefaults = parseConfig({ training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz" } }, "dev").training.hyperparameters;
        expect(stackDefaults).to.deep.equal(DEFAULT_HYPERPARAMETERS);
        for (const [key, value] of Object.entries(stackDefaults)) {
            expect(pythonDefaults[wireName(key as HyperparameterKey).replaceAll("-", "_")], key).to.equal(value);
        }
        const quantizationDefaults = parseConfig({ training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz" } }, "dev").training.quantization;
        expect(quantizationDefaults).to.deep.equal({ enabled: true, minAgreement: 0.99, maxAccuracyDrop: 0.005 });
        expect(quantizationDefaults).to.deep.equal(DEFAULT_QUANTIZATION);
        for (const [key, value] of Object.entries(quantizationDefaults)) {
            expect(pythonDefaults[quantizationWireName(key as QuantizationKey).replaceAll("-", "_")], key).to.equal(value);
        }
        // The course's estimator trains with the tuner's best learning rate from 0.001..0.1; 0.001 is Adam's default.
        expect(DEFAULT_HYPERPARAMETERS.learningRate).to.equal(0.001);
    });

    it("the stack config and train.py accept and refuse the same hyperparameter values", () => {
        const probes: Array<{ key: HyperparameterKey | QuantizationKey; value: number | string; section?: "quantization" }> = [];
        for (const [key, spec] of [["epochs", EPOCHS], ["learningRate", LEARNING_RATE], ["batchSize", BATCH_SIZE]] as const) {
            const step = spec.type === "integer" ? 1 : spec.min / 2;
            probes.push(...[spec.min, spec.max, spec.min - step, spec.max + step, spec.default].map((value) => ({ key, value })));
        }
        probes.push(...[...MODEL_NAMES, "vgg16"].map((value) => ({ key: "modelName" as const, value })));
        for (const [key, spec] of [["minAgreement", QUANTIZATION_MIN_AGREEMENT], ["maxAccuracyDrop", QUANTIZATION_MAX_ACCURACY_DROP]] as const) {
            probes.push(...[spec.min, spec.max, spec.min - 0.01, spec.max + 0.01, spec.default].map((value) => ({ key, value, section: "quantization" as const })));
        }
        const pythonAccepts = python(
            "import argparse, json, sys\nfrom classifier.config import add_hyperparameters\n" +
                "parser = argparse.ArgumentParser(exit_on_error=False); add_hyperparameters(parser)\n" +
                "def accepts(option, value):\n    try:\n        parser.parse_args([option, str(value)]); return True\n" +
                "    except (argparse.ArgumentError, SystemExit):\n        return False\n" +
                "print(json.dumps([accepts(p['option'], p['value']) for p in json.load(sys.stdin)]))",
            probes.map(({ key, value, section }) => ({ option: `--${section ? quantizationWireName(key as QuantizationKey) : wireName(key as HyperparameterKey)}`, value })),
        ) as boolean[];
        const stackAccepts = probes.map(({ key, value, section }) => {
            const raw: RawConfig = { training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz", [section ?? "hyperparameters"]: { [key]: value } } };
            try {
                parseConfig(raw, "dev");
                return true;
            } catch (error) {
                if (!(error instanceof ConfigError)) throw error;
                return false;
            }
        });
        const verdicts = probes.map((probe, i) => `${probe.key}=${probe.value}: stack ${stackAccepts[i]}, train.py ${pythonAccepts[i]}`);
        expect(verdicts.filter((_, i) => stackAccepts[i] !== pythonAccepts[i])).to.deep.equal([]);
        expect(stackAccepts.filter((accepted) => !accepted), "the probes include refused values").to.have.length.greaterThan(5);
    });

    it("the Python loader reads the same facts as the TypeScript one", () => {
        const fromPython = python(
            "import json\nfrom classifier import contract\nfrom classifier.model import MODELS\n" +
                "print(json.dumps({'labels': contract.LABELS, 'models': sorted(MODELS), 'modelNames': contract.MODEL_NAMES, " +
                "'defaultModel': contract.DEFAULT_MODEL, 'maxUrlLength': contract.MAX_URL_LENGTH, 'defaultTopK': contract.DEFAULT_TOP_K, " +
                "'namePattern': contract.SAGEMAKER_NAME_PATTERN.pattern, 'metrics': contract.METRIC_DEFINITIONS}))",
        );
        expect(fromPython).to.deep.equal({
            labels: LABELS,
            models: [...MODEL_NAMES].sort(),
            modelNames: MODEL_NAMES,
            defaultModel: DEFAULT_HYPERPARAMETERS.modelName,
            maxUrlLength: REQUEST_LIMITS.maxUrlLength,
            defaultTopK: REQUEST_LIMITS.defaultTopK,
            namePattern: SAGEMAKER_NAME_PATTERN.source,
            metrics: TRAINING_METRICS.metricDefinitions,
        });
        expect(REQUEST_LIMITS.maxTopK).to.equal(LABELS.length);
        expect(TUNING_DEFAULTS.learningRate).to.deep.equal({ min: 0.001, max: 0.1, scaling: "Auto" });
    });

    it("ships in sourcedir.tar.gz next to the classifier package, where classifier/contract.py looks for it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "contract-archive-"));
        try {
            const archive = buildSourceArchive(scriptsDir, path.join(dir, "sourcedir.tar.gz"));
            expect(archive.entries).to.include.members(["contract.json", "classifier/contract.py", "train.py", "inference.py"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
