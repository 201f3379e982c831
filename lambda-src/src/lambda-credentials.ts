/**
 * Credentials from the variables the Lambda runtime sets for the execution role. In Lambda these are always
 * present, so the SDK's default chain (profiles, SSO, STS web identity, IMDS...) would only add bundle size and
 * cold-start time. The bundle aliases @aws-sdk/credential-provider-node to this module, and the client is also
 * given it explicitly so that running from source behaves exactly like the bundle.
 */
export interface EnvironmentCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
}

export function fromLambdaEnvironment(): () => Promise<EnvironmentCredentials> {
    return async () => {
        const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
        const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
        if (!accessKeyId || !secretAccessKey) {
            throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: no credentials for the function's execution role");
        }
        const sessionToken = process.env.AWS_SESSION_TOKEN;
        const expiration = process.env.AWS_CREDENTIAL_EXPIRATION;
        return {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken ? { sessionToken } : {}),
            ...(expiration ? { expiration: new Date(expiration) } : {}),
        };
    };
}

/** The name the SDK's runtime config imports from @aws-sdk/credential-provider-node. */
export const defaultProvider = fromLambdaEnvironment;
