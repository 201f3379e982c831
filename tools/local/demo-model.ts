/**
 * The demo model of `npm run local` with no model given: tiny-cnn trained in seconds by the real train.py (as
 * SageMaker script mode runs it) on generated colour squares, three classes. It exercises the whole request path
 * on a fresh clone; it knows nothing of dogs, and the page and the log say so.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT, PYTHON } from "../python-env/python";

const run = promisify(execFile);

export const DEMO_DESCRIPTION = "a tiny CNN trained in seconds on generated red, green and blue squares, not on dogs";

export interface DemoModel {
    modelDir: string;
    /** One held-out PNG per class: red.png, green.png, blue.png. */
    samplesDir: string;
    labels: string[];
}

/** Trains the demo model under `root` (created if missing). */
export async function trainDemoModel(root: string): Promise<DemoModel> {
    fs.mkdirSync(root, { recursive: true });
    const dataDir = path.join(root, "data");
    const samplesDir = path.join(root, "samples");
    const modelDir = path.join(root, "model");
    await run(PYTHON, [path.join(__dirname, "demo_images.py"), dataDir, samplesDir], { timeout: 120_000 });
    await run(
        PYTHON,
        ["train.py", "--epochs", "3", "--lr", "0.01", "--batch-size", "8", "--model-name", "tiny-cnn", "--pretrained", "false", "--image-size", "32", "--num-workers", "0"],
        {
            cwd: path.join(PROJECT_ROOT, "training-scripts"),
            env: { ...process.env, SM_CHANNEL_TRAINING: dataDir, SM_MODEL_DIR: modelDir, SM_OUTPUT_DATA_DIR: path.join(root, "output"), PYTHONDONTWRITEBYTECODE: "1" },
            timeout: 300_000,
        },
    );
    return { modelDir, samplesDir, labels: ["red", "green", "blue"] };
}

export function demoRoot(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "local-demo-"));
}
