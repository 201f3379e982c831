/**
 * The API's edge: sagemaker-model-network-isolation and apigateway-route-auth-and-throttling, run by the real pack
 * process (the Analyzer protocol, as `pulumi preview --policy-pack` runs it) over small stacks with each
 * environment's policy config, then edge cases through the in-process harness.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { apigatewayRouteAuthAndThrottling as routePolicy } from "../policies/apigateway/apigateway-route-auth-and-throttling";
import { runPolicyPack, type Violation } from "../../tools/preview/analyzer";
import type { CapturedResource } from "../../tools/preview/capture";
import { buildPack, packDir } from "./build-pack";
import { Spec, U, urnOf, validateStack } from "./harness";

const policyConfig = (stack: "dev" | "prod") => JSON.parse(fs.readFileSync(path.join(packDir, "config", `${stack}.json`), "utf8")) as unknown;
const EDGE_POLICIES = ["sagemaker-model-network-isolation", "apigateway-route-auth-and-throttling"];

function captured(type: string, name: string, props: Record<string, unknown>, propertyDependencies: Record<string, string[]> = {}): CapturedResource {
    const urn = urnOf(type, name);
    const deps = Object.fromEntries(Object.entries(propertyDependencies).map(([key, names]) => [key, names.map((n) => urnOf(n.split("|")[0], n.split("|")[1]))]));
    return { urn, type, name, custom: true, inputs: props, outputs: props, dependencies: [...new Set(Object.values(deps).flat())], propertyDependencies: deps, options: {} };
}

const API = "aws:apigatewayv2/api:Api";
const ROUTE = "aws:apigatewayv2/route:Route";
const STAGE = "aws:apigatewayv2/stage:Stage";
const MODEL = "aws:sagemaker/model:Model";

/** The project's front: an HTTP API, its IAM-authorised route and its throttled $default stage; and a model. */
function edgeStack(change: { route?: object; stage?: object; api?: object; model?: object } = {}): CapturedResource[] {
    return [
        captured(API, "http-api-api", { name: "classifier", protocolType: "HTTP", id: "a1b2c3", ...change.api }),
        captured(ROUTE, "http-api-route", { apiId: "a1b2c3", routeKey: "POST /predict", target: "integrations/i1", authorizationType: "AWS_IAM", ...change.route }),
        captured(STAGE, "http-api-stage", { apiId: "a1b2c3", name: "$default", defaultRouteSettings: { throttlingRateLimit: 20, throttlingBurstLimit: 40 }, ...change.stage }),
        captured(MODEL, "classifier-model", { executionRoleArn: "arn:aws:iam::123456789012:role/sagemaker", enableNetworkIsolation: true, ...change.model }),
    ];
}

describe("the API's edge policies through the policy pack process", function () {
    this.timeout(240_000);
    const runs = new Map<string, Violation[]>();
    const cases: [string, "dev" | "prod", CapturedResource[]][] = [
        ["prod: the project's front and isolated model", "prod", edgeStack()],
        ["prod: a route anyone can call, a model with network access", "prod", edgeStack({ route: { authorizationType: "NONE" }, model: { enableNetworkIsolation: false } })],
        ["prod: a stage without throttling", "prod", edgeStack({ stage: { defaultRouteSettings: {} } })],
        ["dev: the same faults", "dev", edgeStack({ route: { authorizationType: "NONE" }, model: { enableNetworkIsolation: false } })],
    ];

    before(async () => {
        buildPack();
        for (const [what, stack, resources] of cases) {
            const { violations } = await runPolicyPack({ packDir, policyConfig: policyConfig(stack), policyConfigSource: `policy-pack/config/${stack}.json`, resources });
            runs.set(what, violations.filter((v) => EDGE_POLICIES.includes(v.policyName)));
        }
    });

    const summary = (what: string) => (runs.get(what) ?? []).map((v) => [v.policyName, v.enforcementLevel, v.resourceName]);

    it("passes the project's front (IAM, throttled) and a network-isolated model", () => {
        expect(summary("prod: the project's front and isolated model")).to.deep.equal([]);
    });

    it("rejects, as mandatory in prod, a route without authorization and a model with network access", () => {
        expect(summary("prod: a route anyone can call, a model with network access")).to.have.deep.members([
            ["sagemaker-model-network-isolation", "mandatory", "classifier-model"],
            ["apigateway-route-auth-and-throttling", "mandatory", "http-api-route"],
        ]);
        const route = (runs.get("prod: a route anyone can call, a model with network access") ?? []).find((v) => v.policyName === "apigateway-route-auth-and-throttling");
        expect(route?.message).to.include("Route 'http-api-route' has authorizationType NONE").and.include("anyone who knows its URL");
    });

    it("rejects, as mandatory in prod, a stage that does not throttle the route", () => {
        const [violation] = runs.get("prod: a stage without throttling") ?? [];
        expect(summary("prod: a stage without throttling")).to.deep.equal([["apigateway-route-auth-and-throttling", "mandatory", "http-api-stage"]]);
        expect(violation.message).to.include("does not throttle Route 'http-api-route' (no throttlingRateLimit or throttlingBurstLimit)");
    });

    it("reports the same faults in dev as advisory only", () => {
        expect(summary("dev: the same faults")).to.have.deep.members([
            ["sagemaker-model-network-isolation", "advisory", "classifier-model"],
            ["apigateway-route-auth-and-throttling", "advisory", "http-api-route"],
        ]);
    });
});

describe("apigateway-route-auth-and-throttling", () => {
    const spec = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>): Spec => ({ type, name, props, propertyDependencies });
    const prodLimits = { maxThrottlingRateLimit: 100, maxThrottlingBurstLimit: 200 };
    const stack = (route: object = {}, stage: object = {}, api: object = {}): Spec[] => [
        spec(API, "api", { protocolType: "HTTP", id: "a1", ...api }),
        spec(ROUTE, "route", { apiId: "a1", routeKey: "POST /predict", authorizationType: "JWT", authorizerId: "au1", ...route }),
        spec(STAGE, "stage", { apiId: "a1", name: "$default", defaultRouteSettings: { throttlingRateLimit: 10, throttlingBurstLimit: 20 }, ...stage }),
    ];
    const messages = async (specs: Spec[], config: object = prodLimits) => (await validateStack(routePolicy, specs, config)).violations.map((v) => v.message);

    it("passes JWT and IAM routes throttled by the stage's defaults or by their own route settings", async () => {
        expect(await messages(stack())).to.deep.equal([]);
        expect(await messages(stack({ authorizationType: "AWS_IAM", authorizerId: undefined }))).to.deep.equal([]);
        const ownSettings = { defaultRouteSettings: {}, routeSettings: [{ routeKey: "POST /predict", throttlingRateLimit: 5, throttlingBurstLimit: 5 }] };
        expect(await messages(stack({}, ownSettings))).to.deep.equal([]);
    });

    it("rejects an unset authorization type, a JWT route without an authorizer, and a type outside the allowed list", async () => {
        expect((await messages(stack({ authorizationType: undefined })))[0]).to.include("authorizationType NONE (unset)");
        expect((await messages(stack({ authorizerId: undefined })))[0]).to.include("has authorizationType JWT but no authorizerId");
        expect((await messages(stack({ authorizationType: "CUSTOM", authorizerId: "x" }), { ...prodLimits, allowedAuthorizationTypes: ["AWS_IAM", "JWT"] }))[0])
            .to.include("not one of the allowed types");
    });

    it("rejects a quick-create API, whose implicit $default route has no authorization", async () => {
        const [message] = await messages([spec(API, "quick", { protocolType: "HTTP", target: "arn:aws:lambda:us-east-1:123456789012:function:f" })]);
        expect(message).to.include("Api 'quick' is a quick-create API (target is set)");
    });

    it("rejects throttling above the configured bounds, naming the setting", async () => {
        const [message] = await messages(stack({}, { defaultRouteSettings: { throttlingRateLimit: 5000, throttlingBurstLimit: 20 } }));
        expect(message).to.include("defaultRouteSettings.throttlingRateLimit 5000 is above 100");
    });

    it("links route and stage through dependencies at preview, and reports unknowns instead of passing", async () => {
        const preview = [
            spec(API, "api", { protocolType: "HTTP", id: U }),
            spec(ROUTE, "route", { apiId: U, routeKey: "POST /predict", authorizationType: "AWS_IAM" }, { apiId: ["api"] }),
            spec(STAGE, "stage", { apiId: U, name: "$default", defaultRouteSettings: {} }, { apiId: ["api"] }),
        ];
        expect((await messages(preview))[0]).to.include("Stage 'stage' does not throttle Route 'route'");
        const unknownThrottling = preview.map((s) => (s.name === "stage" ? { ...s, props: { ...s.props, defaultRouteSettings: U } } : s));
        const outcome = await validateStack(routePolicy, unknownThrottling, prodLimits);
        expect(outcome.violations).to.deep.equal([]);
        expect(outcome.unchecked).to.include("the throttling of Stage 'stage'");
    });

    it("says it cannot decide the throttling of a route whose API's stage is not in the stack", async () => {
        const outcome = await validateStack(routePolicy, [spec(ROUTE, "route", { apiId: "elsewhere", routeKey: "POST /x", authorizationType: "AWS_IAM" })], prodLimits);
        expect(outcome.violations).to.deep.equal([]);
        expect(outcome.unchecked).to.include("whether Route 'route' is throttled: no Stage of its API is in this stack");
    });

    it("asks WebSocket APIs for authorization on $connect only", async () => {
        const websocket = [
            spec(API, "ws", { protocolType: "WEBSOCKET", id: "w1" }),
            spec(ROUTE, "connect", { apiId: "w1", routeKey: "$connect", authorizationType: "NONE" }),
            spec(ROUTE, "message", { apiId: "w1", routeKey: "sendmessage", authorizationType: "NONE" }),
            spec(STAGE, "stage", { apiId: "w1", name: "prod", defaultRouteSettings: { throttlingRateLimit: 10, throttlingBurstLimit: 10 } }),
        ];
        const found = await messages(websocket);
        expect(found).to.have.length(1);
        expect(found[0]).to.include("Route 'connect'");
    });
});
