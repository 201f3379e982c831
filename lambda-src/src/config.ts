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

    const timeoutRaw = env.INVOKE_TIMEOUT_MS?.trim() ?? "";
    let invokeTimeoutMs = DEFAULT_INVOKE_TIMEOUT_MS;
    if (timeoutRaw !== "") {
        invokeTimeoutMs = Number(timeoutRaw);
        if (!Number.isInteger(invokeTimeoutMs) || invokeTimeoutMs < MIN_INVOKE_TIMEOUT_MS || invokeTimeoutMs > MAX_INVOKE_TIMEOUT_MS) {
            throw new ConfigError(
                "INVOKE_TIMEOUT_MS",
                `INVOKE_TIMEOUT_MS must be an integer number of milliseconds from ${MIN_INVOKE_TIMEOUT_MS} to ${MAX_INVOKE_TIMEOUT_MS}, got "${env.INVOKE_TIMEOUT_MS}"`,
            );
        }
    }

    return { endpointName, allowHttpImageUrls, allowLocalImageHosts, invokeTimeoutMs };
}

/** "true" or "false" (any case), unset or empty meaning false. */
function readBoolean(env: NodeJS.ProcessEnv, variable: string): boolean {
    const raw = env[variable]?.trim().toLowerCase() ?? "";
    if (raw !== "" && raw !== "true" && raw !== "false") {
        throw new ConfigError(variable, `${variable} must be "true" or "false", got "${env[variable]}"`);
    }
    return raw === "true";
}
