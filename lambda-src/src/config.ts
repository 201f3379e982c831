/**
 * The function's configuration, read once per container from the environment the Pulumi program sets.
 * A bad value is reported as a ConfigError naming the variable, so the handler can answer 500 and log it
 * instead of crashing the module at import (a crash at import only shows up as a generic Runtime.ImportError).
 */
import { SAGEMAKER_NAME_PATTERN } from "../../infra/contract";

export interface HandlerConfig {
    endpointName: string;
    allowHttpImageUrls: boolean;
    /** IMAGE_FETCH_ALLOW_PRIVATE, for local mode only (the Pulumi program never sets it): loopback and private hosts too. */
    allowLocalImageHosts: boolean;
    invokeTimeoutMs: number;
    /** One deadline for fetching the image, redirects included. */
    imageFetchTimeoutMs: number;
    /** The largest image fetched: the endpoint's invocation payload limit (6 MB real-time, 4 MB serverless). */
    maxImageBytes: number;
}

export class ConfigError extends Error {
    constructor(
        readonly variable: string,
        message: string,
    ) {
        super(message);
        this.name = "ConfigError";
    }
}

export const DEFAULT_INVOKE_TIMEOUT_MS = 10_000;
// SageMaker's own limit on a real-time invocation is 60 s; a longer wait can only end in a Lambda timeout.
const MAX_INVOKE_TIMEOUT_MS = 60_000;
const MIN_INVOKE_TIMEOUT_MS = 100;
export const DEFAULT_IMAGE_FETCH_TIMEOUT_MS = 5_000;
const MAX_IMAGE_FETCH_TIMEOUT_MS = 30_000;
/**
 * SageMaker's invocation payload limits: 6 MB for a real-time endpoint, 4 MB for a serverless one. The image is
 * the whole payload, so the serverless limit is the default: it fits either kind.
 */
export const SAGEMAKER_PAYLOAD_LIMIT_BYTES = { instances: 6_000_000, serverless: 4_000_000 } as const;
const DEFAULT_MAX_IMAGE_BYTES = SAGEMAKER_PAYLOAD_LIMIT_BYTES.serverless;

export function loadConfig(env: NodeJS.ProcessEnv): HandlerConfig {
    const endpointName = env.ENDPOINT_NAME?.trim();
    if (!endpointName) {
        throw new ConfigError("ENDPOINT_NAME", "ENDPOINT_NAME is not set: the function does not know which SageMaker endpoint to invoke");
    }
    if (!SAGEMAKER_NAME_PATTERN.test(endpointName)) {
        throw new ConfigError("ENDPOINT_NAME", `ENDPOINT_NAME "${endpointName}" is not a valid SageMaker endpoint name`);
    }

    const allowHttpImageUrls = readBoolean(env, "ALLOW_HTTP_IMAGE_URLS");
    const allowLocalImageHosts = readBoolean(env, "IMAGE_FETCH_ALLOW_PRIVATE");

    const invokeTimeoutMs = readInteger(env, "INVOKE_TIMEOUT_MS", DEFAULT_INVOKE_TIMEOUT_MS, MIN_INVOKE_TIMEOUT_MS, MAX_INVOKE_TIMEOUT_MS, "milliseconds");
    const imageFetchTimeoutMs = readInteger(env, "IMAGE_FETCH_TIMEOUT_MS", DEFAULT_IMAGE_FETCH_TIMEOUT_MS, MIN_INVOKE_TIMEOUT_MS, MAX_IMAGE_FETCH_TIMEOUT_MS, "milliseconds");
    const maxImageBytes = readInteger(env, "MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES, 1, SAGEMAKER_PAYLOAD_LIMIT_BYTES.instances, "bytes");

    return { endpointName, allowHttpImageUrls, allowLocalImageHosts, invokeTimeoutMs, imageFetchTimeoutMs, maxImageBytes };
}

/** An integer from `min` to `max`, unset or empty meaning `fallback`. */
function readInteger(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number, unit: string): number {
    const raw = env[variable]?.trim() ?? "";
    if (raw === "") return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
        throw new ConfigError(variable, `${variable} must be an integer number of ${unit} from ${min} to ${max}, got "${env[variable]}"`);
    }
    return value;
}

/** "true" or "false" (any case), unset or empty meaning false. */
function readBoolean(env: NodeJS.ProcessEnv, variable: string): boolean {
    const raw = env[variable]?.trim().toLowerCase() ?? "";
    if (raw !== "" && raw !== "true" && raw !== "false") {
        throw new ConfigError(variable, `${variable} must be "true" or "false", got "${env[variable]}"`);
    }
    return raw === "true";
}
