import { expect } from "chai";
import { lambdaFunctionUrlIamAuth } from "../policies/lambda/lambda-function-url-iam-auth";
import { lambdaNoPublicInvoke } from "../policies/lambda/lambda-no-public-invoke";
import { lambdaProvisionedConcurrency } from "../policies/lambda/lambda-provisioned-concurrency";
import dev from "../config/dev.json";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, U, urnOf, validateResource, validateStack } from "./harness";

const fullAccess = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";
const pcDev = dev["lambda-provisioned-concurrency"];
const pcProd = prod["lambda-provisioned-concurrency"];

describe("lambda-provisioned-concurrency", () => {
    const policy = lambdaProvisionedConcurrency;

    it("passes the project's stacks, after update and under preview", async () => {
        for (const preview of [false, true]) {
            const devOut = await validateStack(policy, projectStack("dev", preview), pcDev);
            const prodOut = await validateStack(policy, projectStack("prod", preview), pcProd);
            expect(devOut.violations, `dev preview=${preview}`).to.deep.equal([]);
            expect(prodOut.violations, `prod preview=${preview}`).to.deep.equal([]);
            expect(prodOut.unchecked, `prod preview=${preview}`).to.equal(undefined);
        }
    });

    it("rejects a function that invokes an endpoint but has no provisioned concurrency", async () => {
        const specs = projectStack("prod").filter((s) => s.name !== "inference-warm");
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations).to.have.length(1);
        expect(out.violations[0].message).to.include("no aws.lambda.ProvisionedConcurrencyConfig").and.include("provisionedConcurrentExecutions 3");
    });

    it("detects endpoint-invoking functions by their role's permissions too", async () => {
        const specs = projectStack("prod").filter((s) => s.name !== "inference-warm");
        spec(specs, "inference").props.environment = { variables: {} };
        spec(specs, "inference").propertyDependencies = { role: ["lambda-role"] };
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations).to.have.length(1);
    });

    it("ignores functions that do not call SageMaker", async () => {
        const specs = projectStack("prod").filter((s) => !["inference-warm", "lambda-role-policy"].includes(s.name));
        spec(specs, "inference").props.environment = { variables: { MODE: "batch" } };
        spec(specs, "inference").propertyDependencies = { role: ["lambda-role"] };
        spec(specs, "inference").dependsOn = [];
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.equal(undefined);
    });

    for (const [what, count] of [["0", 0], ["1 (the dev value) in prod", 1], ["10", 10]] as const) {
        it(`rejects provisionedConcurrentExecutions ${what}`, async () => {
            const specs = projectStack("prod");
            spec(specs, "inference-warm").props.provisionedConcurrentExecutions = count;
            const out = await validateStack(policy, specs, pcProd);
            expect(out.violations).to.have.length(1);
            expect(out.violations[0].message).to.include(`provisionedConcurrentExecutions ${count}, outside the allowed 3`);
        });
    }

    it("uses the default of exactly 3 without config", async () => {
        const out = await validateStack(policy, projectStack("dev"));
        expect(out.violations[0].message).to.include("provisionedConcurrentExecutions 1, outside the allowed 3");
    });

    it("rejects $LATEST: as qualifier, through an alias, or through an unpublished function", async () => {
        const direct = projectStack("prod");
        spec(direct, "inference-warm").props.qualifier = "$LATEST";
        const viaAlias = projectStack("prod");
        spec(viaAlias, "inference-live").props.functionVersion = "$LATEST";
        const unpublished = projectStack("prod", true);
        spec(unpublished, "inference").props.publish = false;
        for (const specs of [direct, viaAlias, unpublished]) {
            const out = await validateStack(policy, specs, pcProd);
            expect(out.violations).to.have.length(1);
            expect(out.violations[0].message).to.include("published version");
        }
    });

    it("rejects reserved concurrency below provisioned concurrency", async () => {
        const specs = projectStack("prod");
        spec(specs, "inference").props.reservedConcurrentExecutions = 2;
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations[0].message).to.include("reserves 2 concurrent executions, below its 3 provisioned");
    });

    it("links by property dependencies when names are unknown", async () => {
        const specs = projectStack("prod", true);
        spec(specs, "inference-warm").props.functionName = U;
        spec(specs, "inference-warm").props.qualifier = U;
        expect((await validateStack(policy, specs, pcProd)).violations).to.deep.equal([]);
        spec(specs, "inference-warm").props.provisionedConcurrentExecutions = 0;
        expect((await validateStack(policy, specs, pcProd)).violations).to.have.length(1);
    });

    it("reports an unknown count instead of passing", async () => {
        const specs = projectStack("prod");
        spec(specs, "inference-warm").props.provisionedConcurrentExecutions = U;
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("provisionedConcurrentExecutions of ProvisionedConcurrencyConfig 'inference-warm'");
    });

    it("reports min above max in config as one clear violation naming both keys, without evaluating or throwing", async () => {
        const out = await validateStack(policy, projectStack("prod"), { minProvisionedConcurrency: 5, maxProvisionedConcurrency: 3 });
        expect(out.violations).to.have.length(1);
        expect(out.violations[0].message).to.match(/^policy config lambda-provisioned-concurrency: minProvisionedConcurrency \(5\) is greater than maxProvisionedConcurrency \(3\)/);
        expect(out.violations[0].urn).to.equal(undefined);
    });

    describe("functions whose endpoint calls the stack cannot prove or rule out", () => {
        const role = { type: "aws:iam/role:Role", name: "r", props: { name: "r" } };
        const fn = (props: Record<string, unknown>) => ({ type: "aws:lambda/function:Function", name: "f", props: { name: "f", role: "r", ...props } });
        const attach = (arn: string) => ({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: `a-${arn.split("/").pop()}`, props: { role: "r", policyArn: arn } });

        it("reports a function with a role defined outside the stack instead of passing it", async () => {
            const out = await validateStack(policy, [fn({ role: "arn:aws:iam::123456789012:role/existing-lambda-role" })], pcProd);
            expect(out.violations).to.deep.equal([]);
            expect(out.unchecked).to.include("could not determine whether Function 'f' invokes a SageMaker endpoint")
                .and.include("arn:aws:iam::123456789012:role/existing-lambda-role is not defined in this stack");
        });

        it("reports a function whose only permissions are managed policies without documents", async () => {
            const out = await validateStack(policy, [role, attach("arn:aws:iam::123456789012:policy/team-lambda-policy"), fn({})], pcProd);
            expect(out.violations).to.deep.equal([]);
            expect(out.unchecked).to.include("managed policy team-lambda-policy").and.include("has no document in this stack");
        });

        it("rules out AWS's Lambda execution policies, which grant no SageMaker action", async () => {
            const out = await validateStack(policy, [role, attach("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), fn({})], pcProd);
            expect(out).to.deep.equal({ violations: [] });
        });

        it("requires provisioned concurrency when the environment names an endpoint or the role has a SageMaker or all-actions managed policy", async () => {
            const external = "arn:aws:iam::123456789012:role/existing-lambda-role";
            const cases: [string, Spec[]][] = [
                ["ENDPOINT_NAME", [fn({ role: external, environment: { variables: { ENDPOINT_NAME: "classifier-prod" } } })]],
                ["a SAGEMAKER_ENDPOINT_NAME set from an unknown value", [fn({ role: external, environment: { variables: { SAGEMAKER_ENDPOINT_NAME: U } } })]],
                ["an endpoint ARN", [fn({ role: external, environment: { variables: { TARGET: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/classifier" } } })]],
                ["an endpoint's name in the stack", [{ type: "aws:sagemaker/endpoint:Endpoint", name: "ep", props: { name: "classifier-prod" } }, fn({ role: external, environment: { variables: { TARGET: "classifier-prod" } } })]],
                ["AmazonSageMakerFullAccess", [role, attach(fullAccess), fn({})]],
                ["AdministratorAccess in managedPolicyArns", [{ ...role, props: { name: "r", managedPolicyArns: ["arn:aws:iam::aws:policy/AdministratorAccess"] } }, fn({})]],
            ];
            for (const [what, specs] of cases) {
                const out = await validateStack(policy, specs, pcProd);
                expect(out.violations.map((v) => v.message), what).to.have.length(1);
                expect(out.violations[0].message, what).to.include("Function 'f' invokes a SageMaker endpoint but has no aws.lambda.ProvisionedConcurrencyConfig");
            }
        });
    });

    it("matches an alias to the function it belongs to when two functions have an alias of the same name", async () => {
        const invokeRole = {
            type: "aws:iam/role:Role",
            name: "r",
            props: { name: "r", inlinePolicies: [{ name: "i", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e" }] }) }] },
        };
        const stack = (secondVersion: string): Spec[] => [
            invokeRole,
            { type: "aws:lambda/function:Function", name: "f1", props: { name: "f1", role: "r", publish: true } },
            { type: "aws:lambda/function:Function", name: "f2", props: { name: "f2", role: "r", publish: true } },
            { type: "aws:lambda/alias:Alias", name: "a1", props: { name: "live", functionName: "f1", functionVersion: "1" } },
            { type: "aws:lambda/alias:Alias", name: "a2", props: { name: "live", functionName: "arn:aws:lambda:us-east-1:123456789012:function:f2", functionVersion: secondVersion } },
            { type: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", name: "p1", props: { functionName: "f1", qualifier: "live", provisionedConcurrentExecutions: 3 } },
            { type: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", name: "p2", props: { functionName: "f2", qualifier: "live", provisionedConcurrentExecutions: 3 } },
        ];
        const out = await validateStack(policy, stack("$LATEST"), pcProd);
        expect(out.violations.map((v) => v.message)).to.have.length(1);
        expect(out.violations[0].message).to.include("ProvisionedConcurrencyConfig 'p2' for Function 'f2' uses alias Alias 'a2', which points at $LATEST");
        expect(out.violations[0].urn).to.equal(urnOf("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "p2"));
        expect(await validateStack(policy, stack("2"), pcProd)).to.deep.equal({ violations: [] });
    });

    it("reports an alias name that no alias of the function has", async () => {
        const specs = projectStack("prod");
        spec(specs, "inference-live").props.functionName = "some-other-function";
        const out = await validateStack(policy, specs, pcProd);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("alias 'live' of Function 'inference'").and.include("is not defined in this stack");
    });
});

describe("lambda-provisioned-concurrency: the version the alias serves", () => {
    it("rejects provisioned concurrency on a numeric version no alias serves, and passes the served one", async () => {
        const specs = projectStack("prod");
        spec(specs, "inference-warm").props.qualifier = "2";
        spec(specs, "inference-warm").propertyDependencies = { functionName: ["inference"] };
        const out = await validateStack(lambdaProvisionedConcurrency, specs, pcProd);
        expect(out.violations.map((v) => v.message)).to.have.length(1);
        expect(out.violations[0].message, out.violations[0].message).to.include("warms version 2 of Function 'inference', but its aliases serve live -> 1");
        spec(specs, "inference-warm").props.qualifier = "1";
        expect((await validateStack(lambdaProvisionedConcurrency, specs, pcProd)).violations).to.deep.equal([]);
    });

    it("passes reserved concurrency well above provisioned", async () => {
        const specs = projectStack("prod");
        spec(specs, "inference").props.reservedConcurrentExecutions = 100;
        expect((await validateStack(lambdaProvisionedConcurrency, specs, pcProd)).violations).to.deep.equal([]);
    });
});

describe("lambda-no-public-invoke", () => {
    const permission = (props: Record<string, unknown>) => ({ type: "aws:lambda/permission:Permission", name: "invoke", props: { action: "lambda:InvokeFunction", function: "f", ...props } });

    it("passes a service principal scoped by source ARN", async () => {
        const out = await validateResource(lambdaNoPublicInvoke, permission({ principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:us-east-1:123456789012:abc/*" }));
        expect(out.violations).to.deep.equal([]);
    });

    it("passes principal '*' scoped by an (unknown) source ARN or an organization", async () => {
        expect((await validateResource(lambdaNoPublicInvoke, permission({ principal: "*", sourceArn: U }))).violations).to.deep.equal([]);
        expect((await validateResource(lambdaNoPublicInvoke, permission({ principal: "*", principalOrgId: "o-abc123" }))).violations).to.deep.equal([]);
    });

    it("rejects principal '*' scoped only by an account", async () => {
        const out = await validateResource(lambdaNoPublicInvoke, permission({ principal: "*", sourceAccount: "123456789012" }));
        expect(out.violations.map((v) => v.message)).to.have.length(1);
        expect(out.violations[0].message).to.include("sourceAccount alone admits every resource of that account");
    });

    it("rejects a service principal with neither sourceArn nor sourceAccount, and passes it with either", async () => {
        for (const principal of ["s3.amazonaws.com", "apigateway.amazonaws.com", "events.amazonaws.com"]) {
            const out = await validateResource(lambdaNoPublicInvoke, permission({ principal }));
            expect(out.violations.map((v) => v.message)).to.have.length(1);
            expect(out.violations[0].message).to.include(`lets ${principal} invoke the function on behalf of any resource in any account`);
        }
        expect((await validateResource(lambdaNoPublicInvoke, permission({ principal: "s3.amazonaws.com", sourceAccount: "123456789012" }))).violations).to.deep.equal([]);
        expect((await validateResource(lambdaNoPublicInvoke, permission({ principal: "events.amazonaws.com", sourceArn: U }))).violations).to.deep.equal([]);
    });

    it("rejects principal '*' with no source", async () => {
        const out = await validateResource(lambdaNoPublicInvoke, permission({ principal: "*" }));
        expect(out.violations[0].message).to.include("any AWS principal");
    });

    it("rejects an unauthenticated function URL permission", async () => {
        const out = await validateResource(lambdaNoPublicInvoke, permission({ action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "NONE", sourceArn: "arn:aws:iam::123456789012:role/caller" }));
        expect(out.violations.map((v) => v.message)).to.have.length(1);
        expect(out.violations[0].message).to.include("functionUrlAuthType NONE");
    });

    it("reports an unknown principal", async () => {
        const out = await validateResource(lambdaNoPublicInvoke, permission({ principal: U }));
        expect(out.unchecked).to.include("principal");
    });
});

describe("lambda-function-url-iam-auth", () => {
    const url = (authorizationType: unknown) => ({ type: "aws:lambda/functionUrl:FunctionUrl", name: "url", props: { functionName: "f", authorizationType } });

    it("passes AWS_IAM and rejects NONE", async () => {
        expect((await validateResource(lambdaFunctionUrlIamAuth, url("AWS_IAM"))).violations).to.deep.equal([]);
        const out = await validateResource(lambdaFunctionUrlIamAuth, url("NONE"));
        expect(out.violations[0].message).to.include("authorizationType NONE");
    });

    it("reports an unknown authorization type", async () => {
        expect((await validateResource(lambdaFunctionUrlIamAuth, url(U))).unchecked).to.include("authorizationType");
    });
});
