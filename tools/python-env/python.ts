/**
 * The project's Python: .venv, which tools/python-env/ensure.sh creates from python/requirements.lock (the
 * SageMaker PyTorch containers' torch, TorchServe and toolkits). LOCAL_PYTHON overrides it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const PYTHON = process.env.LOCAL_PYTHON ?? path.join(PROJECT_ROOT, ".venv", "bin", "python");
const ENSURE = path.join(__dirname, "ensure.sh");

/** Creates or refreshes .venv when it is missing or its lock changed (a no-op when current); its progress goes to stderr. */
export function ensurePythonEnv(): void {
    if (process.env.LOCAL_PYTHON !== undefined) {
        if (!fs.existsSync(PYTHON)) throw new Error(`LOCAL_PYTHON=${PYTHON} does not exist`);
        return;
    }
    execFileSync("bash", [ENSURE], { stdio: ["ignore", "inherit", "inherit"] });
}
