/**
 * The HTTPS front's options, from the real program under mocks (dev's config with api.http turned on): a JWT
 * authorizer for any OIDC issuer, CORS for configured origins only, the access logs' KMS key; and the config
 * checks that keep a JWT front from being half-configured.
 */
import { expect } from "chai";
import * as path from "node:path";
import { ConfigError, parseConfig } from "../config";
import { CapturedResource, captureProgram, readStackConfig } from "../../tools/preview/capture";

const repoRoot = path.resolve(__dirname, "..", "..");
const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const existing = { training: { mode: "existing", modelDataUrl: "s3://models/model.tar.gz" } };

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        parseConfig(raw, "dev");
        return [];
    } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
    }
}

describe("the HTTPS front (api.http)", function () {
    this.timeout(180_000);
    let resources: CapturedResource[];
    const one = (type: string) => {
        const found = resources.filter((r) => r.type === type);
        expect(found, type).to.have.length(1);
        return found[0];
    };

    before(async () => {
        const config = await readStackConfig(path.join(repoRoot, "Pulumi.dev.yaml"));
        const api = JSON.parse(config["sagemaker-classifier:api"]) as Record<string, unknown>;
        config["sagemaker-classifier:api"] = JSON.stringify({
            ...api,
            http: {
                enabled: true,
                authorization: "jwt",
                jwt: { issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123", audiences: ["app-client-1"] },
                corsAllowedOrigins: ["https://app.example.com"],
                accessLogKmsKeyArn: KEY,
            },
        });
        ({ resources } = await captureProgram({ program: path.join(repoRoot, "infra", "index.ts"), stack: "dev", config }));
    });

    it("authorises the route with a JWT authorizer for the configured issuer and audiences", () => {
        const authorizer = one("aws:apigatewayv2/authorizer:Authorizer");
        expect(authorizer.inputs).to.deep.include({
            authorizerType: "JWT",
            identitySources: ["$request.header.Authorization"],
            jwtConfiguration: { issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123", audiences: ["app-client-1"] },
        });
        const route = one("aws:apigatewayv2/route:Route");
        expect(route.inputs).to.include({ authorizationType: "JWT", authorizerId: authorizer.outputs.id });
    });

    it("answers CORS for the configured origins only, POST only", () => {
        expect(one("aws:apigatewayv2/api:Api").inputs.corsConfiguration).to.deep.include({ allowOrigins: ["https://app.example.com"], allowMethods: ["POST"] });
    });

    it("encrypts the access logs with the configured key and keeps dev's default throttling", () => {
        const logs = resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name === "http-api-access-logs");
        expect(logs?.inputs).to.include({ kmsKeyId: KEY, retentionInDays: 7 });
        expect(one("aws:apigatewayv2/stage:Stage").inputs.defaultRouteSettings).to.deep.include({ throttlingRateLimit: 10, throttlingBurstLimit: 20 });
    });

    const invalid: [string, Record<string, unknown>, RegExp][] = [
        ["jwt without an issuer", { http: { enabled: true, authorization: "jwt", jwt: { audiences: ["a"] } } }, /api\.http\.jwt\.issuer and api\.http\.jwt\.audiences are required when api\.http\.authorization is jwt/],
        ["an issuer over plain http", { http: { authorization: "jwt", jwt: { issuer: "http://idp.example.com", audiences: ["a"] } } }, /api\.http\.jwt\.issuer must be an https:\/\/ issuer URL/],
        ["an empty audience list", { http: { authorization: "jwt", jwt: { issuer: "https://idp.example.com", audiences: [] } } }, /api\.http\.jwt\.audiences must be a list of 1 to 50/],
        ["jwt settings on an iam front", { http: { jwt: { issuer: "https://idp.example.com" } } }, /api\.http\.jwt is only used when api\.http\.authorization is jwt, but it is iam/],
        ["a wildcard CORS origin", { http: { corsAllowedOrigins: ["*"] } }, /api\.http\.corsAllowedOrigins must be a list of 0 to 20 browser origins such as https:\/\/app\.example\.com \(no path, no \*\), got \["\*"\]/],
        ["a rate of zero", { http: { throttlingRateLimit: 0 } }, /api\.http\.throttlingRateLimit must be a number from 1 to 10000, got 0/],
        ["a function that outlasts API Gateway", { timeoutSeconds: 60, http: { enabled: true } }, /api\.timeoutSeconds \(60\) must be at most 30 when api\.http\.enabled is true/],
    ];
    for (const [what, api, message] of invalid) {
        it(`rejects ${what}, naming the key`, () => {
            expect(problemsOf({ ...existing, api }).join("\n")).to.match(message);
        });
    }
});
