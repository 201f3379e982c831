/**
 * The SageMaker Runtime client, built once per container. Endpoint settings are left to the SDK's standard
 * configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME), so nothing here pins a URL.
 */
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { fromLambdaEnvironment } from "./lambda-credentials";

/**
 * One retry: throttling and transient 5xx often clear within the standard backoff (~100 ms), and a second
 * failure is better reported to the caller as a 503 than hidden behind more waiting. ModelError (424) is a
 * client fault and never retried.
 */
export const MAX_ATTEMPTS = 2;
// Reaching the regional runtime endpoint takes milliseconds; a connect that hangs should fail fast and retry.
const CONNECTION_TIMEOUT_MS = 3_000;

/**
 * Middleware that costs on every call without doing anything for this function: the user-agent builder
 * (AWS-side SDK usage metrics only, ~20 us a call) and the logger middleware (our client has no logger).
 * Recursion detection stays: it forwards the X-Ray trace header when tracing is on.
 */
const REMOVED_MIDDLEWARE = ["getUserAgentMiddleware", "loggerMiddleware"];

/**
 * @param invokeTimeoutMs also bounds each attempt, a backstop to the handler's deadline signal: no socket stays
 * busy longer than the deadline, whatever happens to the signal.
 */
export function createSageMakerRuntimeClient(invokeTimeoutMs: number): SageMakerRuntimeClient {
    const agentOptions = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 50 };
    const client = new SageMakerRuntimeClient({
        credentials: fromLambdaEnvironment(),
        maxAttempts: MAX_ATTEMPTS,
        retryMode: "standard",
        requestHandler: {
            connectionTimeout: CONNECTION_TIMEOUT_MS,
            requestTimeout: invokeTimeoutMs,
            throwOnRequestTimeout: true,
            httpAgent: agentOptions,
            httpsAgent: agentOptions,
        },
    });
    for (const name of REMOVED_MIDDLEWARE) {
        if (!client.middlewareStack.remove(name)) throw new Error(`the SDK no longer has the ${name} this client removes`);
    }
    return client;
}
