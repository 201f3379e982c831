/**
 * The SageMaker Runtime client, built once per container. Endpoint settings are left to the SDK's standard
 * configuration (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME), so nothing here pins a URL.
 */
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { fromLambdaEnvironment } from "./lambda-credentials";

/**
 * One retry: throttling and transient 5xx often clear within the standard backoff (~100 ms), and a second
 * failure is better reported to the caller as a 503 than hidden behind more waiting. ModelError (424) is a
 * client fault and never retried. The overall deadline is enforced per call with an abort signal.
 */
export const MAX_ATTEMPTS = 2;
// Reaching the regional runtime endpoint takes milliseconds; a connect that hangs should fail fast and retry.
const CONNECTION_TIMEOUT_MS = 3_000;

export function createSageMakerRuntimeClient(): SageMakerRuntimeClient {
    const agentOptions = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 50 };
    const client = new SageMakerRuntimeClient({
        credentials: fromLambdaEnvironment(),
        maxAttempts: MAX_ATTEMPTS,
        retryMode: "standard",
        requestHandler: {
            connectionTimeout: CONNECTION_TIMEOUT_MS,
            httpAgent: agentOptions,
            httpsAgent: agentOptions,
        },
    });
    return client;
}
