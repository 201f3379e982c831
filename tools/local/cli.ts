/**
 * `npm run local -- --model-dir <dir>` or `--model-data <model.tar.gz>`: a local endpoint that behaves like the
 * SageMaker one, with the real (bundled) Lambda handler in front of it and a page to try it. With no model, a demo
 * model is trained first (seconds). Ctrl-C stops everything.
 *
 * Exit status: 0 after Ctrl-C/SIGTERM, 1 when the model server dies on its own, 2 when it cannot start.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { parseArgs } from "node:util";
import { SAGEMAKER_NAME_PATTERN } from "../../infra/contract";
import { DEMO_DESCRIPTION, demoRoot, trainDemoModel } from "./demo-model";
import { LocalModeError, startLocal, unpackModelData, type LocalMode } from "./local";

const USAGE = `usage: npm run local -- [--model-dir <dir> | --model-data <model.tar.gz>] [options]

  --model-dir <dir>          a model directory (model.pth, model_config.json, class_names.json, code/)
  --model-data <file>        a model.tar.gz, unpacked to a temporary directory removed on exit
                             (neither: a demo model is trained in seconds on generated images, and local images are allowed)
  --port <n>                 model server (TorchServe) port on 127.0.0.1 (default 8080, as in the container; 0 = any free port)
  --runtime-port <n>         SageMaker Runtime API front on 127.0.0.1 (default 8081; 0 = any free port)
  --workers <n>              TorchServe workers (endpoint.modelServer.workers; default: one per two vCPUs, as deployed)
  --model-server-batch-size <n>  requests batched into one forward pass (endpoint.modelServer.batchSize; default 1)
  --lambda-port <n>          Lambda front port (default 9000; 0 = any free port)
  --page-port <n>            the try-it page (default 9001; 0 = any free port)
  --endpoint-name <name>     the endpoint name the handler invokes (default local-endpoint)
  --allow-local-images       accept http image URLs on loopback/private hosts (never set on a real endpoint)
  --image-url <url>          the image URL in the printed curl line
  --quiet                    no per-request log lines and no model server log
  --help`;

// A photo the TensorFlow tutorials use, on a host that serves plain GETs without a browser user agent.
const SAMPLE_IMAGE_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/YellowLabradorLooking_new.jpg";

class UsageError extends Error {}

interface CliOptions {
    modelDir?: string;
    modelData?: string;
    port: number;
    runtimePort: number;
    lambdaPort: number;
    pagePort: number;
    endpointName: string;
    modelServer: { workers?: number; batchSize?: number };
    allowLocalImages: boolean;
    imageUrl: string;
    quiet: boolean;
}

function port(value: string | undefined, flag: string, fallback: number): number {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535, got "${value}"`);
    return n;
}

export function parseCli(argv: string[]): CliOptions | "help" {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                "model-dir": { type: "string" },
                "model-data": { type: "string" },
                port: { type: "string" },
                "runtime-port": { type: "string" },
                workers: { type: "string" },
                "model-server-batch-size": { type: "string" },
                "lambda-port": { type: "string" },
                "page-port": { type: "string" },
                "endpoint-name": { type: "string" },
                "allow-local-images": { type: "boolean" },
                "image-url": { type: "string" },
                quiet: { type: "boolean" },
                help: { type: "boolean" },
            },
            strict: true,
            allowPositionals: false,
        });
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    const { values } = parsed;
    if (values.help) return "help";
    if (values["model-dir"] !== undefined && values["model-data"] !== undefined) {
        throw new UsageError("pass at most one of --model-dir <dir> or --model-data <model.tar.gz>");
    }
    const endpointName = values["endpoint-name"] ?? "local-endpoint";
    if (!SAGEMAKER_NAME_PATTERN.test(endpointName)) {
        throw new UsageError(`--endpoint-name "${endpointName}" is not a valid SageMaker endpoint name`);
    }
    const options: CliOptions = {
        modelDir: values["model-dir"],
        modelData: values["model-data"],
        port: port(values.port, "--port", 8080),
        runtimePort: port(values["runtime-port"], "--runtime-port", 8081),
        modelServer: {
            // As an endpoint instance with this machine's vCPUs would run by default.
            workers: count(values.workers, "--workers", 64) ?? Math.max(1, Math.floor(os.cpus().length / 2)),
            batchSize: count(values["model-server-batch-size"], "--model-server-batch-size", 64),
        },
        lambdaPort: port(values["lambda-port"], "--lambda-port", 9000),
        pagePort: port(values["page-port"], "--page-port", 9001),
        endpointName,
        // The demo model's page hosts dropped files on this machine, so its images are local ones.
        allowLocalImages: (values["allow-local-images"] ?? false) || (values["model-dir"] === undefined && values["model-data"] === undefined),
        imageUrl: values["image-url"] ?? SAMPLE_IMAGE_URL,
        quiet: values.quiet ?? false,
    };
    const ports: [string, number][] = [["--port", options.port], ["--runtime-port", options.runtimePort], ["--lambda-port", options.lambdaPort], ["--page-port", options.pagePort]];
    for (const [index, [flag, value]] of ports.entries()) {
        const clash = ports.slice(index + 1).find(([, other]) => value !== 0 && other === value);
        if (clash) throw new UsageError(`${flag} and ${clash[0]} are both ${value}`);
    }
    return options;
}

function count(value: string | undefined, flag: string, max: number): number | undefined {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got "${value}"`);
    return Number(value);
}

function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

function banner(local: LocalMode, options: CliOptions, model: string): string {
    const { modelServer, front } = local;
    const body = JSON.stringify({ url: options.imageUrl, topK: 3 });
    return [
        `model:          ${model}`,
        `model server:   ${modelServer.url}  (TorchServe via the SageMaker PyTorch toolkit: GET /ping, POST /invocations)`,
        `runtime API:    ${local.runtimeUrl}  (POST /endpoints/${options.endpointName}/invocations, SigV4, as SageMaker's front door)`,
        `lambda front:   ${front.url}  (the bundled handler behind a Function URL-style front)`,
        `page:           ${local.page!.url}/  (paste an image URL or drop a file)`,
        "",
        "try it:",
        `  curl -s -X POST ${front.url}/ -H 'Content-Type: application/json' -d ${shellQuote(body)}`,
        `  curl -s -X POST ${modelServer.url}/invocations -H 'Content-Type: image/jpeg' --data-binary @dog.jpg`,
        "",
        "Ctrl-C stops all servers.",
    ].join("\n");
}

async function main(argv: string[]): Promise<number> {
    let options: CliOptions | "help";
    try {
        options = parseCli(argv);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(`local: ${error.message}\n\n${USAGE}`);
        return 2;
    }
    if (options === "help") {
        console.log(USAGE);
        return 0;
    }

    let tempDir: string | undefined;
    const cleanup = () => {
        if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
        tempDir = undefined;
    };
    // Whatever ends the process, the unpacked archive goes with it.
    process.on("exit", cleanup);

    let local: LocalMode;
    let modelDir: string;
    let info = { demo: false, description: "", labels: [] as string[] };
    let modelLabel: string;
    try {
        if (options.modelData !== undefined) {
            tempDir = await unpackModelData(options.modelData);
            modelDir = tempDir;
            modelLabel = options.modelData;
        } else if (options.modelDir !== undefined) {
            modelDir = options.modelDir;
            modelLabel = modelDir;
        } else {
            console.log(`no --model-dir or --model-data: training a DEMO model (${DEMO_DESCRIPTION})...`);
            tempDir = demoRoot();
            const demo = await trainDemoModel(tempDir);
            modelDir = demo.modelDir;
            info = { demo: true, description: DEMO_DESCRIPTION, labels: demo.labels };
            modelLabel = `DEMO model (${DEMO_DESCRIPTION}) in ${modelDir}`;
        }
        local = await startLocal({ ...options, modelDir, modelServerLog: options.quiet ? "ignore" : "inherit", page: { port: options.pagePort, info } });
    } catch (error) {
        if (!(error instanceof LocalModeError)) throw error;
        console.error(`local: ${error.message}`);
        cleanup();
        return 2;
    }
    console.log(banner(local, options, modelLabel));

    return new Promise<number>((resolve) => {
        let stopping = false;
        const stop = (code: number) => {
            if (stopping) return;
            stopping = true;
            console.log("\nstopping...");
            void local.stop().then(() => {
                cleanup();
                resolve(code);
            });
        };
        process.once("SIGINT", () => stop(0));
        process.once("SIGTERM", () => stop(0));
        void local.modelServer.exited.then((code) => {
            if (stopping) return;
            // Ctrl-C in a terminal reaches the model server too; its clean exit is not a failure.
            if (code === 0) return stop(0);
            console.error(`local: the model server exited unexpectedly (${code})`);
            stop(1);
        });
    });
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(error instanceof Error ? error.stack : String(error));
            process.exit(1);
        },
    );
}
