/**
 * The mocha specs that need the project's Python environment (.venv: torch, TorchServe, the SageMaker toolkits).
 * `npm test` runs every other spec while .venv is still being created; tools/test/test/partition.test.ts keeps
 * this list complete.
 */
export const PYTHON_SPECS = [
    "infra/test/contract.test.ts",
    "infra/test/training-container.test.ts",
    "lambda-src/test/integration.test.ts",
    "lambda-src/test/labels-across-languages.test.ts",
    "tools/local/test/**/*.test.ts",
] as const;
