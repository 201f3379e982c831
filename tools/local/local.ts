/**
 * Local mode: the model served by the SageMaker PyTorch inference container's real model server (TorchServe through
 * the toolkit, tools/local/model-server.ts), SageMaker's front door in front of it (tools/local/runtime-front.ts),
 * and the bundled Lambda handler behind a Function URL-style front, wired together exactly as in AWS except for
 * AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as tar from "tar";
import { ensureLambdaBundle } from "../../lambda-src/build";
import { startLambdaFront, type LambdaFront, type LambdaHandler } from "./lambda-front";
import { startModelServer, type ModelServer, type ModelServerOptions } from "./model-server";
import { startPageServer, type PageInfo, type PageServer } from "./page-server";
import { startRuntimeFront } from "./runtime-front";

/** A start-up problem the user can fix (missing directory, port in use, model that does not load): exit 2. */
export class LocalModeError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LocalModeError";
    }
}

/**
 * Unpacks a model.tar.gz into a fresh temporary directory, as SageMaker unpacks it into /opt/ml/model.
 * The caller removes the directory. Entries that would land outside it (absolute paths, "..") are refused by tar.
 */
export async function unpackModelData(archive: string): Promise<string> {
    if (!fs.existsSync(archive)) throw new LocalModeError(`--model-data ${archive} does not exist`);
    if (!fs.statSync(archive).isFile()) throw new LocalModeError(`--model-data ${archive} is not a file`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-model-"));
    try {
        await tar.x({ file: archive, cwd: dir, strict: true, preservePaths: false });
    } catch (error) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new LocalModeError(`--model-data ${archive} is not a readable .tar.gz: ${(error as Error).message}`);
    }
    return dir;
}

export interface LocalOptions {
    modelDir: string;
    /** The Lambda front's address (the model server and the runtime front listen on 127.0.0.1 only). */
    host?: string;
    /** The container port: TorchServe's /ping and /invocations (0 = any free port). */
    port: number;
    /** The Runtime API front (POST /endpoints/<name>/invocations); 0 = any free port. */
    runtimePort?: number;
    lambdaPort: number;
    endpointName: string;
    /** Lets images come from loopback/private http URLs: the model fetches them and the handler accepts http. */
    allowLocalImages?: boolean;
    quiet?: boolean;
    /** "ignore" drops TorchServe's log; it is passed to stderr by default. */
    modelServerLog?: "inherit" | "ignore";
    /** TorchServe settings, as `endpoint.modelServer` sets them on the Model. */
    modelServer?: Pick<ModelServerOptions, "workers" | "batchSize" | "maxBatchDelayMs" | "handler">;
    /** Serve the try-it page on this port (0 = any free port), describing the model as given. */
    page?: { port: number; info: PageInfo };
    /** Where the handler's one log line per request goes (stdout, as in CloudWatch, by default). */
    handlerLog?: (entry: Record<string, unknown>) => void;
}

export interface LocalMode {
    modelServer: ModelServer;
    /** The Runtime API URL (what AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME points at). */
    runtimeUrl: string;
    front: LambdaFront;
    page?: PageServer;
    stop(): Promise<void>;
}

interface HandlerBundle {
    createHandler(options: { env: NodeJS.ProcessEnv; log?: (entry: Record<string, unknown>) => void }): LambdaHandler;
}

/**
 * The bundled handler (lambda-src/dist/index.js, rebuilt if stale) configured for a local endpoint. The SDK reads
 * its endpoint, region and credentials from process.env, so those are set here; the credentials are dummies on
 * purpose, so no real AWS credentials of the user's shell are ever sent to the local server.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: "AKIALOCALMODE0000000", secretAccessKey: "local-mode-dummy-secret" };

export async function bundledHandler(runtimeUrl: string, endpointName: string, allowLocalImages: boolean, log?: LocalOptions["handlerLog"]): Promise<LambdaHandler> {
    Object.assign(process.env, {
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: runtimeUrl,
        AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    delete process.env.AWS_SESSION_TOKEN;
    const bundle = (await import(pathToFileURL(path.join(ensureLambdaBundle(), "index.js")).href)) as HandlerBundle;
    return bundle.createHandler({
        env: {
            ENDPOINT_NAME: endpointName,
            ALLOW_HTTP_IMAGE_URLS: String(allowLocalImages),
            IMAGE_FETCH_ALLOW_PRIVATE: String(allowLocalImages),
            INVOKE_TIMEOUT_MS: process.env.INVOKE_TIMEOUT_MS,
        },
        ...(log ? { log } : {}),
    });
}

export async function startLocal(options: LocalOptions): Promise<LocalMode> {
    if (!fs.existsSync(options.modelDir) || !fs.statSync(options.modelDir).isDirectory()) {
        throw new LocalModeError(`--model-dir ${options.modelDir} is not a directory`);
    }
    if (!fs.existsSync(path.join(options.modelDir, "model.pth"))) {
        throw new LocalModeError(`--model-dir ${options.modelDir} has no model.pth: is it the unpacked model.tar.gz?`);
    }
    let modelServer: ModelServer;
    try {
        modelServer = await startModelServer({
            modelDir: options.modelDir,
            port: options.port,
            allowPrivateImageUrls: options.allowLocalImages,
            log: options.modelServerLog ?? "inherit",
            ...options.modelServer,
        });
    } catch (error) {
        throw new LocalModeError(`the model server did not start: ${(error as Error).message}`);
    }
    let runtime: Awaited<ReturnType<typeof startRuntimeFront>> | undefined;
    let front: LambdaFront;
    let starting = `--runtime-port ${options.runtimePort ?? 0} on 127.0.0.1`;
    try {
        runtime = await startRuntimeFront({
            containerUrl: modelServer.url,
            endpointName: options.endpointName,
            credentials: LOCAL_CREDENTIALS,
            port: options.runtimePort ?? 0,
        });
        starting = `--lambda-port ${options.lambdaPort} on ${options.host ?? "127.0.0.1"}`;
        const handler = await bundledHandler(runtime.url, options.endpointName, options.allowLocalImages ?? false, options.handlerLog);
        front = await startLambdaFront(handler, { host: options.host, port: options.lambdaPort });
    } catch (error) {
        await runtime?.close();
        await modelServer.stop();
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new LocalModeError(`${starting} is already in use`);
        throw error;
    }
    const runtimeFront = runtime;
    let page: PageServer | undefined;
    if (options.page) {
        try {
            page = await startPageServer({ frontUrl: front.url, info: options.page.info, port: options.page.port });
        } catch (error) {
            await front.close();
            await runtimeFront.close();
            await modelServer.stop();
            if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new LocalModeError(`--page-port ${options.page.port} is already in use`);
            throw error;
        }
    }
    return {
        modelServer,
        runtimeUrl: runtimeFront.url,
        front,
        page,
        async stop() {
            await page?.close();
            await front.close();
            await runtimeFront.close();
            await modelServer.stop();
        },
    };
}
