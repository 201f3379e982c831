import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { link, StackIndex, T } from "../../lib/stack";
import { get, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "apigateway-route-auth-and-throttling";

const AUTHORIZATION_TYPES = ["AWS_IAM", "JWT", "CUSTOM"];

const configSchema = {
    properties: {
        allowedAuthorizationTypes: {
            type: "array" as const,
            items: { type: "string" as const, enum: AUTHORIZATION_TYPES },
            minItems: 1,
            description: "Authorization types a route may use (never NONE).",
            default: AUTHORIZATION_TYPES,
        },
        maxThrottlingRateLimit: {
            type: "number" as const,
            exclusiveMinimum: 0,
            description: "Highest steady rate (requests per second) a stage may let a route take; API Gateway's account default is 10000.",
            default: 10000,
        },
        maxThrottlingBurstLimit: {
            type: "integer" as const,
            minimum: 1,
            description: "Highest burst a stage may let a route take; API Gateway's account default is 5000.",
            default: 5000,
        },
    },
};

interface Config {
    allowedAuthorizationTypes: string[];
    maxThrottlingRateLimit: number;
    maxThrottlingBurstLimit: number;
}

/**
 * Refuses API Gateway (v2) routes that anyone can call or that nothing throttles. Authorization implements AWS
 * Security Hub APIGateway.8, AWS Config api-gwv2-authorization-type-configured, Checkov CKV_AWS_309 and Prowler
 * apigatewayv2_api_authorizers_enabled; throttling is this project's rule: without it a route takes the account's
 * default of 10000 requests per second, every one of them billed to the function and the endpoint behind it.
 */
export const apigatewayRouteAuthAndThrottling: StackValidationPolicy & Implements = {
    name,
    description:
        "API Gateway v2 routes require authorization (AWS_IAM, JWT or CUSTOM, never NONE; no quick-create APIs, whose $default route has none) " +
        "and a stage of their API throttles them (rate and burst) within bounds. Implements Security Hub APIGateway.8, AWS Config " +
        "api-gwv2-authorization-type-configured, Checkov CKV_AWS_309, Prowler apigatewayv2_api_authorizers_enabled.",
    enforcementLevel: "mandatory",
    // The catalogs' API Gateway controls are outside this stack's reference set (policy-pack/controls/industry-controls.tsv).
    controls: [],
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();

        for (const api of index.of(T.apiV2)) {
            for (const quick of ["target", "routeKey"]) {
                const value = get(api.props, quick);
                if (value !== undefined && value !== null && value !== "") {
                    reportViolation(
                        `${label(api)} is a quick-create API (${quick} is set): API Gateway makes its $default route with no authorization and its ` +
                            "$default stage with no throttling. Remove target and routeKey and declare an aws.apigatewayv2.Route with authorizationType " +
                            "AWS_IAM or JWT and an aws.apigatewayv2.Stage with defaultRouteSettings throttling.",
                        api.urn,
                    );
                }
            }
        }

        /** The API a route or stage belongs to, as one key whether its apiId is known or only linked through dependencies. */
        const apiKey = (resource: PolicyResource): string | undefined => {
            const found = link(index, resource, "apiId", T.apiV2, (value) => [value]);
            if (found.kind === "linked") return found.targets[0].urn;
            if (found.kind === "external") return found.value;
            return undefined;
        };
        const stagesByApi = new Map<string, PolicyResource[]>();
        for (const stage of index.of(T.apiV2Stage)) {
            const key = apiKey(stage);
            if (key !== undefined) stagesByApi.set(key, [...(stagesByApi.get(key) ?? []), stage]);
        }

        for (const route of index.of(T.apiV2Route)) {
            const subject = label(route);
            const routeKey = str(route.props, "routeKey");
            const apiLink = link(index, route, "apiId", T.apiV2, (value) => [value]);
            const api = apiLink.kind === "linked" ? apiLink.targets[0] : undefined;
            // A WebSocket API authorizes its connections, on $connect; its other routes carry messages.
            const websocket = api !== undefined && str(api.props, "protocolType") === "WEBSOCKET";
            if (!websocket || routeKey === "$connect") checkAuthorization(route, subject, config, unchecked, reportViolation);

            const key = apiKey(route);
            const stages = key === undefined ? [] : (stagesByApi.get(key) ?? []);
            if (stages.length === 0) {
                unchecked.undecidable(`whether ${subject} is throttled: no Stage of its API is in this stack (declare the stage here to have it checked)`);
                continue;
            }
            for (const stage of stages) checkThrottling(subject, routeKey, stage, config, unchecked, reportViolation);
        }
        unchecked.finish();
    },
};

function checkAuthorization(route: PolicyResource, subject: string, config: Config, unchecked: Unchecked, report: (message: string, urn?: string) => void): void {
    const type = str(route.props, "authorizationType");
    if (type === UNKNOWN) return unchecked.add(`authorizationType of ${subject}`);
    if (type === undefined || !config.allowedAuthorizationTypes.includes(type)) {
        report(
            `${subject} has authorizationType ${type ?? "NONE (unset)"}, so ${type === undefined || type === "NONE" ? "anyone who knows its URL can call it" : "it is not one of the allowed types"}. ` +
                `Set authorizationType to ${config.allowedAuthorizationTypes.join(" or ")} (in this project: api.http.authorization iam or jwt).`,
            route.urn,
        );
        return;
    }
    if ((type === "JWT" || type === "CUSTOM") && get(route.props, "authorizerId") === undefined) {
        report(`${subject} has authorizationType ${type} but no authorizerId, so no authorizer checks its callers. Set authorizerId to an aws.apigatewayv2.Authorizer.`, route.urn);
    }
}

function checkThrottling(
    subject: string,
    routeKey: string | typeof UNKNOWN | undefined,
    stage: PolicyResource,
    config: Config,
    unchecked: Unchecked,
    report: (message: string, urn?: string) => void,
): void {
    const settings = get(stage.props, "routeSettings");
    if (settings === UNKNOWN) return unchecked.add(`routeSettings of ${label(stage)}`);
    const own = Array.isArray(settings) && typeof routeKey === "string" ? settings.find((s) => str(s, "routeKey") === routeKey) : undefined;
    const limits = (where: string, from: unknown) =>
        from === UNKNOWN ? { where, rate: UNKNOWN, burst: UNKNOWN } : { where, rate: num(from, "throttlingRateLimit"), burst: num(from, "throttlingBurstLimit") };
    const candidates = [...(own ? [limits(`routeSettings for ${String(routeKey)}`, own)] : []), limits("defaultRouteSettings", get(stage.props, "defaultRouteSettings"))];
    // The route's own settings win over the stage's defaults, limit by limit.
    const rate = candidates.find((c) => c.rate !== undefined);
    const burst = candidates.find((c) => c.burst !== undefined);
    if (rate?.rate === UNKNOWN || burst?.burst === UNKNOWN) return unchecked.add(`the throttling of ${label(stage)}`);
    const missing = [rate === undefined ? "throttlingRateLimit" : undefined, burst === undefined ? "throttlingBurstLimit" : undefined].filter((m) => m !== undefined);
    if (missing.length > 0) {
        report(
            `${label(stage)} does not throttle ${subject} (no ${missing.join(" or ")}), so it takes up to the account's 10000 requests per second. ` +
                `Set defaultRouteSettings.throttlingRateLimit and throttlingBurstLimit (in this project: api.http.throttlingRateLimit and throttlingBurstLimit).`,
            stage.urn,
        );
        return;
    }
    const over = [
        (rate!.rate as number) > config.maxThrottlingRateLimit ? `${rate!.where}.throttlingRateLimit ${String(rate!.rate)} is above ${config.maxThrottlingRateLimit}` : undefined,
        (burst!.burst as number) > config.maxThrottlingBurstLimit ? `${burst!.where}.throttlingBurstLimit ${String(burst!.burst)} is above ${config.maxThrottlingBurstLimit}` : undefined,
    ].filter((o) => o !== undefined);
    if (over.length > 0) {
        report(`${label(stage)} throttles ${subject} too loosely: ${over.join("; ")} (${name}.maxThrottlingRateLimit/maxThrottlingBurstLimit). Lower them.`, stage.urn);
    }
}
