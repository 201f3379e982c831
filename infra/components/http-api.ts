/**
 * The HTTPS front of the inference API: an API Gateway HTTP API with one route, `POST /predict`, proxied to the
 * Lambda's `live` alias.
 *
 * An HTTP API rather than a Lambda Function URL: a Function URL offers IAM auth or none, and no throttling of its
 * own (only the function's concurrency), while an HTTP API route takes a JWT authorizer (Cognito or any OIDC
 * issuer) as well as IAM, and the stage throttles it (rate and burst), so a noisy caller gets 429s from API
 * Gateway instead of spending Lambda and SageMaker capacity.
 *
 * Every request is authorised (IAM by default, JWT on request), throttled, and written to an access log with a
 * retention (and the configured KMS key); CORS is off unless origins are configured. API Gateway may invoke the
 * alias for this one route only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiConfig } from "../config";
import { AwsContext } from "../aws-context";
import { logGroupKey } from "./log-group-key";

export interface HttpApiArgs {
    /** The API's name, and the base of its log group's. */
    name: string;
    http: ApiConfig["http"];
    functionName: pulumi.Input<string>;
    aliasName: pulumi.Input<string>;
    /** The alias's qualified ARN: API Gateway invokes exactly this version. */
    aliasArn: pulumi.Input<string>;
    /** The function's timeout: the integration waits as long (at most 30 s, API Gateway's limit; the config checks it). */
    functionTimeoutSeconds: number;
    logRetentionDays: number;
    /** Where the access log group's own key is created when `api.http.accessLogKmsKeyArn` names none. */
    context: AwsContext;
    tags: Record<string, string>;
}

export const ROUTE_METHOD = "POST";
export const ROUTE_PATH = "/predict";

/**
 * One JSON line per request: who called (IAM principal or token subject), the route, the status, and why an
 * authorizer or the integration failed. No query string or body: image URLs may carry signatures.
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    requestTime: "$context.requestTime",
    sourceIp: "$context.identity.sourceIp",
    routeKey: "$context.routeKey",
    status: "$context.status",
    responseLength: "$context.responseLength",
    iamPrincipal: "$context.identity.userArn",
    tokenSubject: "$context.authorizer.claims.sub",
    authorizerError: "$context.authorizer.error",
    integrationStatus: "$context.integrationStatus",
    integrationLatencyMs: "$context.integrationLatency",
    integrationError: "$context.integrationErrorMessage",
    lambdaRequestId: "$context.integration.requestId",
});

export class HttpApi extends pulumi.ComponentResource {
    /** The route's URL: POST an image request here. */
    readonly url: pulumi.Output<string>;
    /** What to grant `execute-api:Invoke` on for IAM callers: this route, any stage. */
    readonly routeArn: pulumi.Output<string>;
    readonly apiId: pulumi.Output<string>;

    constructor(name: string, args: HttpApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:api:HttpApi", name, {}, opts);
        const child = { parent: this };
        const { http } = args;

        const api = new aws.apigatewayv2.Api(`${name}-api`, {
            name: args.name,
            description: "Dog-breed classifier: POST /predict {\"url\": ...} -> top breeds",
            protocolType: "HTTP",
            // Preflight answers only for the configured origins; without any, browsers on other sites get no CORS headers.
            corsConfiguration: http.corsAllowedOrigins.length > 0
                ? {
                    allowOrigins: http.corsAllowedOrigins,
                    allowMethods: [ROUTE_METHOD],
                    allowHeaders: ["authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"],
                    maxAge: 600,
                }
                : undefined,
            tags: args.tags,
        }, child);

        const logGroupName = `/aws/apigateway/${args.name}`;
        // Access logs name their callers: encrypted with a key of the account's, the configured one or one of their own.
        const kmsKeyId = http.accessLogKmsKeyArn ?? logGroupKey(`${name}-access-logs-key`, logGroupName, args.context, args.tags, child).arn;
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-access-logs`, {
            name: logGroupName,
            retentionInDays: args.logRetentionDays,
            kmsKeyId,
            tags: args.tags,
        }, child);

        const integration = new aws.apigatewayv2.Integration(`${name}-integration`, {
            apiId: api.id,
            integrationType: "AWS_PROXY",
            integrationMethod: "POST",
            integrationUri: args.aliasArn,
            payloadFormatVersion: "2.0",
            timeoutMilliseconds: args.functionTimeoutSeconds * 1000,
        }, child);

        const authorizer = http.authorization === "jwt"
            ? new aws.apigatewayv2.Authorizer(`${name}-jwt`, {
                apiId: api.id,
                name: `${args.name}-jwt`,
                authorizerType: "JWT",
                identitySources: ["$request.header.Authorization"],
                jwtConfiguration: { issuer: http.jwt.issuer, audiences: http.jwt.audiences },
            }, child)
            : undefined;

        const route = new aws.apigatewayv2.Route(`${name}-route`, {
            apiId: api.id,
            routeKey: `${ROUTE_METHOD} ${ROUTE_PATH}`,
            target: pulumi.interpolate`integrations/${integration.id}`,
            authorizationType: authorizer ? "JWT" : "AWS_IAM",
            authorizerId: authorizer?.id,
        }, child);

        const stage = new aws.apigatewayv2.Stage(`${name}-stage`, {
            apiId: api.id,
            name: "$default",
            autoDeploy: true,
            defaultRouteSettings: { throttlingRateLimit: http.throttlingRateLimit, throttlingBurstLimit: http.throttlingBurstLimit },
            accessLogSettings: { destinationArn: logGroup.arn, format: ACCESS_LOG_FORMAT },
            tags: args.tags,
        }, { parent: this, dependsOn: [route] });

        const routeArn = pulumi.interpolate`${api.executionArn}/*/${ROUTE_METHOD}${ROUTE_PATH}`;
        new aws.lambda.Permission(`${name}-invoke`, {
            action: "lambda:InvokeFunction",
            function: args.functionName,
            qualifier: args.aliasName,
            principal: "apigateway.amazonaws.com",
            sourceArn: routeArn,
        }, child);

        this.apiId = api.id;
        this.routeArn = routeArn;
        // Known once the stage serves the route.
        this.url = pulumi.all([api.apiEndpoint, stage.id]).apply(([endpoint]) => `${endpoint}${ROUTE_PATH}`);
        this.registerOutputs({ url: this.url, routeArn: this.routeArn });
    }
}
