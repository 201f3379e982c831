import { expect } from "chai";
import { lambdaRoleLeastPrivilege } from "../policies/iam/lambda-role-least-privilege";
import { iamNoOverbroadManagedPolicies } from "../policies/iam/iam-no-overbroad-managed-policies";
import { iamNoWildcardPermissions } from "../policies/iam/iam-no-wildcard-permissions";
import { conditionsNarrowingNothing, lambdaPolicy, projectStack, shapes, spec } from "./fixtures";
import { Spec, U, validateResource, validateStack } from "./harness";

const fullAccess = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess";

function doc(...statements: object[]): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

describe("iam-no-overbroad-managed-policies", () => {
    const policy = iamNoOverbroadManagedPolicies;

    it("passes a narrowly scoped AWS managed policy", async () => {
        const out = await validateResource(policy, {
            type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            name: "ssm",
            props: { role: "ec2-role", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
        });
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.equal(undefined);
    });

    const routes: [string, Spec][] = [
        ["RolePolicyAttachment", { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "a", props: { role: "lambda-role", policyArn: fullAccess } }],
        ["PolicyAttachment", { type: "aws:iam/policyAttachment:PolicyAttachment", name: "a", props: { roles: ["lambda-role"], policyArn: fullAccess } }],
        ["Role.managedPolicyArns", { type: "aws:iam/role:Role", name: "a", props: { name: "lambda-role", managedPolicyArns: [fullAccess] } }],
        ["RolePolicyAttachmentsExclusive", { type: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", name: "a", props: { roleName: "lambda-role", policyArns: [fullAccess] } }],
        ["UserPolicyAttachment", { type: "aws:iam/userPolicyAttachment:UserPolicyAttachment", name: "a", props: { user: "ci", policyArn: fullAccess } }],
        ["GroupPolicyAttachment", { type: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", name: "a", props: { group: "ops", policyArn: fullAccess } }],
        ["UserPolicyAttachmentsExclusive", { type: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive", name: "a", props: { userName: "ci", policyArns: [fullAccess] } }],
        ["GroupPolicyAttachmentsExclusive", { type: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive", name: "a", props: { groupName: "ops", policyArns: [fullAccess] } }],
    ];
    for (const [route, resource] of routes) {
        it(`rejects AmazonSageMakerFullAccess attached by ${route}`, async () => {
            const out = await validateResource(policy, resource);
            expect(out.violations).to.have.length(1);
            expect(out.violations[0].message).to.include("AmazonSageMakerFullAccess").and.include("inline aws.iam.RolePolicy");
        });
    }

    for (const name of ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess", "job-function/DatabaseAdministrator"]) {
        const denied = name !== "job-function/DatabaseAdministrator";
        it(`${denied ? "rejects" : "passes"} ${name} with the default deny list`, async () => {
            const out = await validateResource(policy, {
                type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                name: "a",
                props: { role: "r", policyArn: `arn:aws:iam::aws:policy/${name}` },
            });
            expect(out.violations).to.have.length(denied ? 1 : 0);
        });
    }

    it("honours the allow list and a custom deny list", async () => {
        const resource: Spec = { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "a", props: { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" } };
        expect((await validateResource(policy, resource, { allowedPolicies: ["AmazonS3FullAccess"] })).violations).to.deep.equal([]);
        const ssm: Spec = { ...resource, props: { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" } };
        expect((await validateResource(policy, ssm, { deniedPolicies: ["AmazonSSM*"] })).violations).to.have.length(1);
    });

    it("reports an ARN unknown during preview as unchecked, not as a pass", async () => {
        const out = await validateResource(policy, { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "a", props: { role: "r", policyArn: U } });
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("policy ARN");
    });

    it("has a config of the wrong type refused, naming the key, before the policy runs (as the engine validates it)", async () => {
        const resource: Spec = { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "a", props: { role: "r", policyArn: fullAccess } };
        let error: Error | undefined;
        await validateResource(policy, resource, { deniedPolicies: "AmazonSageMakerFullAccess" }).catch((e: Error) => (error = e));
        expect(error?.message).to.equal('test config: policy "iam-no-overbroad-managed-policies": config property "deniedPolicies" must be array');
    });
});

describe("iam-no-overbroad-managed-policies: AWS managed policies judged by their published documents", () => {
    const policy = iamNoOverbroadManagedPolicies;
    const attach = (name: string): Spec => ({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "a", props: { role: "r", policyArn: `arn:aws:iam::aws:policy/job-function/${name}` } });

    it("rejects job-function policies with broad SageMaker or IAM rights that no name pattern catches", async () => {
        for (const name of ["DataScientist", "SystemAdministrator"]) {
            const out = await validateResource(policy, attach(name));
            expect(out.violations, name).to.have.length(1);
            expect(out.violations[0].message).to.include(`attaches the AWS managed policy ${name}`).and.include("on every resource");
        }
        const via = await validateResource(policy, { type: "aws:iam/role:Role", name: "r", props: { managedPolicyArns: ["arn:aws:iam::aws:policy/job-function/DataScientist"] } });
        expect(via.violations).to.have.length(1);
    });

    it("passes read-only and narrow AWS managed policies, and an allowed exception", async () => {
        for (const name of ["AmazonSageMakerReadOnly", "AmazonSSMManagedInstanceCore", "IAMReadOnlyAccess", "CloudWatchAgentServerPolicy"]) {
            expect((await validateResource(policy, attach(name))).violations, name).to.deep.equal([]);
        }
        expect((await validateResource(policy, attach("DataScientist"), { allowedPolicies: ["DataScientist"] })).violations).to.deep.equal([]);
    });

    it("reports an AWS managed policy it does not know instead of passing it", async () => {
        const out = await validateResource(policy, attach("NoSuchManagedPolicy"));
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("NoSuchManagedPolicy").and.include("is not a published AWS managed policy this pack knows");
    });
});

describe("iam-no-wildcard-permissions", () => {
    const policy = iamNoWildcardPermissions;
    const rolePolicy = (policyDoc: unknown): Spec => ({ type: "aws:iam/rolePolicy:RolePolicy", name: "p", props: { role: "r", policy: policyDoc } });

    describe("resources meaning everything, and conditions that narrow nothing", () => {
        const allow = (Action: unknown, Resource: unknown, extra: object = {}) => rolePolicy(doc({ Effect: "Allow", Action, Resource, ...extra }));
        const found = async (spec: Spec) => (await validateResource(policy, spec)).violations.map((v) => v.message);

        it("rejects ARN-form wildcards: all buckets and objects, every SageMaker resource", async () => {
            expect((await found(allow("s3:GetObject", "arn:aws:s3:::*")))[0]).to.include("Resource 'arn:aws:s3:::*' (every resource of the service, spelt as an ARN) for s3:GetObject");
            expect(await found(allow("s3:GetObject", "arn:aws:s3:::*/*"))).to.have.length(1);
            expect(await found(allow("sagemaker:InvokeEndpoint", "arn:aws:sagemaker:*:*:*"))).to.have.length(1);
            expect(await found(allow("sagemaker:InvokeEndpoint", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/classifier"))).to.deep.equal([]);
            expect(await found(allow("s3:GetObject", "arn:aws:s3:::my-bucket/*"))).to.deep.equal([]);
        });

        it("rejects an optionally scoped action on '*' whose condition narrows nothing, and passes one narrowed by a resource condition", async () => {
            // As the IAM simulator decides: the statement still allows a request on a resource nobody named.
            const routes: [string, object][] = [...conditionsNarrowingNothing.map(([, c]): [string, object] => ["s3:GetObject", c]), ["s3:ListBucket", { StringLike: { "s3:prefix": "*" } }]];
            for (const [action, condition] of routes) {
                const messages = await found(allow(action, "*", { Condition: condition }));
                expect(messages, JSON.stringify(condition)).to.have.length(1);
                expect(messages[0]).to.include("Its Condition does not narrow which resources are reached");
            }
            expect(await found(allow(["s3:GetObject"], "*", { Condition: { StringEquals: { "aws:ResourceTag/project": "classifier" } } }))).to.deep.equal([]);
            // A condition on a key GetObject never carries (s3:prefix is ListBucket's) lets the statement allow nothing at all.
            expect(await found(allow(["s3:GetObject"], "*", { Condition: { StringLike: { "s3:prefix": "*" } } }))).to.deep.equal([]);
        });

        it("passes a condition-scoped ecr:GetAuthorizationToken on '*' (AWS scopes it to no resource)", async () => {
            expect(await found(allow("ecr:GetAuthorizationToken", "*", { Condition: { Bool: { "aws:SecureTransport": "true" } } }))).to.deep.equal([]);
        });
    });

    it("passes the project's own role policies, including '*' only for unscopable actions", async () => {
        for (const stack of ["dev", "prod"] as const) {
            for (const resource of projectStack(stack).filter((s) => s.type === "aws:iam/rolePolicy:RolePolicy")) {
                const out = await validateResource(policy, resource);
                expect(out.violations, resource.name).to.deep.equal([]);
            }
        }
    });

    const bad: [string, object, string][] = [
        ["Action '*'", { Effect: "Allow", Action: "*", Resource: "*" }, "allows every action"],
        ["sagemaker:* on *", { Effect: "Allow", Action: "sagemaker:*", Resource: "*" }, "allows all"],
        ["a wildcard expanding past the limit", { Effect: "Allow", Action: "s3:Get*", Resource: "arn:aws:s3:::b/*" }, "expands to"],
        ["a wildcard matching no action", { Effect: "Allow", Action: "sagemaker:Invokx*", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e" }, "matches no real IAM action"],
        ["Allow with NotAction", { Effect: "Allow", NotAction: "iam:*", Resource: "*" }, "NotAction"],
        ["Allow with NotResource", { Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" }, "NotResource"],
        ["Resource '*' on a scopable action", { Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "*" }, "Resource '*'"],
    ];
    for (const [what, statement, expected] of bad) {
        it(`rejects ${what}, as a JSON string and as an object`, async () => {
            for (const form of [doc(statement), { Version: "2012-10-17", Statement: [statement] }]) {
                const out = await validateResource(policy, rolePolicy(form));
                expect(out.violations.map((v) => v.message).join("\n")).to.include(expected);
            }
        });
    }

    it("passes a small wildcard within the limit and a Deny with NotAction", async () => {
        const out = await validateResource(
            policy,
            rolePolicy(doc({ Effect: "Allow", Action: "sagemaker:Invoke*", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e" }, { Effect: "Deny", NotAction: "s3:GetObject", Resource: "*" })),
        );
        expect(out.violations).to.deep.equal([]);
    });

    it("judges maxWildcardExpansion from config", async () => {
        const resource = rolePolicy(doc({ Effect: "Allow", Action: "sagemaker:Invoke*", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e" }));
        const out = await validateResource(policy, resource, { maxWildcardExpansion: 1 });
        expect(out.violations[0].message).to.include("expands to 3 actions").and.include("InvokeEndpointAsync");
    });

    it("checks aws.iam.Policy and a role's inlinePolicies", async () => {
        const managed = await validateResource(policy, { type: "aws:iam/policy:Policy", name: "p", props: { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) } });
        expect(managed.violations).to.have.length(1);
        const inline = await validateResource(policy, {
            type: "aws:iam/role:Role",
            name: "r",
            props: { name: "r", inlinePolicies: [{ name: "ok", policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) }, { name: "bad", policy: doc({ Effect: "Allow", Action: "sagemaker:*", Resource: "*" }) }] },
        });
        expect(inline.violations).to.have.length(1);
        expect(inline.violations[0].message).to.include("inlinePolicies[1] (bad)");
    });

    it("rejects a document that is not valid JSON", async () => {
        const out = await validateResource(policy, rolePolicy("{ not json"));
        expect(out.violations[0].message).to.include("not valid JSON");
    });

    it("reports a Policy, RolePolicy, UserPolicy or GroupPolicy without a document as unchecked, never as a pass", async () => {
        const types = ["aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"];
        for (const type of types) {
            for (const policyDoc of [undefined, ""]) {
                const out = await validateResource(policy, { type, name: "p", props: policyDoc === undefined ? { role: "r" } : { role: "r", policy: policyDoc } });
                const shortType = type.split(":").pop();
                expect(out.violations, `${shortType} ${JSON.stringify(policyDoc)}`).to.deep.equal([]);
                expect(out.unchecked, `${shortType} ${JSON.stringify(policyDoc)}`).to.include(`policy of ${shortType} 'p' is missing or empty`);
                expect(out.unchecked).not.to.include("unknown until the resources are created");
            }
        }
        const roleWithoutInline = await validateResource(policy, { type: "aws:iam/role:Role", name: "r", props: { name: "r", inlinePolicies: [{}] } });
        expect(roleWithoutInline).to.deep.equal({ violations: [] });
    });

    it("checks the known parts of a partly unknown document and reports the rest", async () => {
        const out = await validateResource(policy, rolePolicy({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["sagemaker:*"], Resource: [U] }] }));
        expect(out.violations).to.have.length(1);
        expect(out.unchecked).to.include("Resource of statement 1");
        const unknown = await validateResource(policy, rolePolicy(U));
        expect(unknown.violations).to.deep.equal([]);
        expect(unknown.unchecked).to.include("policy of RolePolicy 'p'");
    });
});

describe("lambda-role-least-privilege", () => {
    const policy = lambdaRoleLeastPrivilege;
    const { endpointName, functionName } = shapes.dev;

    function withLambdaPolicy(policyDoc: string): Spec[] {
        const specs = projectStack("dev");
        spec(specs, "lambda-role-policy").props.policy = policyDoc;
        return specs;
    }

    it("passes the project's dev and prod stacks", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const out = await validateStack(policy, projectStack(stack));
            expect(out.violations, stack).to.deep.equal([]);
            expect(out.unchecked, stack).to.equal(undefined);
        }
    });

    it("reports the unknown inline policy under preview instead of passing", async () => {
        const out = await validateStack(policy, projectStack("dev", true));
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("lambda-role-policy");
    });

    it("rejects AmazonSageMakerFullAccess on the Lambda role, however attached", async () => {
        const attachment = projectStack("dev");
        attachment.push({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "full", props: { role: "lambda-role-dev-33cc44d", policyArn: fullAccess } });
        const managedList = projectStack("dev");
        spec(managedList, "lambda-role").props.managedPolicyArns = [fullAccess];
        const exclusive = projectStack("dev", true);
        exclusive.push({
            type: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            name: "exclusive",
            props: { roleName: U, policyArns: [fullAccess] },
            propertyDependencies: { roleName: ["lambda-role"] },
        });
        for (const specs of [attachment, managedList, exclusive]) {
            const out = await validateStack(policy, specs);
            expect(out.violations.map((v) => v.message).join("\n")).to.include("AmazonSageMakerFullAccess");
        }
    });

    it("expands wildcards against the IAM action list", async () => {
        const endpointArn = `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${endpointName}`;
        const invokeStar = await validateStack(policy, withLambdaPolicy(doc({ Effect: "Allow", Action: "sagemaker:Invoke*", Resource: endpointArn })));
        expect(invokeStar.violations[0].message).to.include("InvokeEndpointAsync").and.include("InvokeEndpointWithResponseStream");
        const all = await validateStack(policy, withLambdaPolicy(doc({ Effect: "Allow", Action: "sagemaker:*", Resource: "*" })));
        expect(all.violations.map((v) => v.message).join("\n")).to.include("beyond what the function needs").and.include("the IAM simulator allows sagemaker:InvokeEndpoint on");
        // A pattern matching exactly the permitted action is fine.
        const exact = await validateStack(policy, withLambdaPolicy(doc({ Effect: "Allow", Action: "sagemaker:InvokeEndpoin?", Resource: endpointArn })));
        expect(exact.violations).to.deep.equal([]);
    });

    it("requires the stack's endpoints and the function's own log group, as the simulator decides", async () => {
        const text = async (...statements: object[]) => (await validateStack(policy, withLambdaPolicy(doc(...statements)))).violations.map((v) => v.message).join("\n");
        const anyEndpoint = await text({ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/*" });
        expect(anyEndpoint).to.include("the IAM simulator allows sagemaker:InvokeEndpoint on arn:aws:sagemaker:us-east-1:123456789012:endpoint/probe-").and.include("allowedResources");
        const otherEndpoint = await text({ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/someone-elses" });
        expect(otherEndpoint).to.include("endpoint/someone-elses, which is not the stack's own");
        const anyRegion = await text({ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: `arn:aws:sagemaker:*:123456789012:endpoint/${endpointName}` });
        expect(anyRegion).to.include(`arn:aws:sagemaker:eu-north-1:123456789012:endpoint/${endpointName}`);
        const otherLogs = await text({ Effect: "Allow", Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/other:*" });
        expect(otherLogs).to.include("log-group:/aws/lambda/other:log-stream:").and.include(`/aws/lambda/${functionName}`);
        // The SageMaker logs of the same stack are not the function's.
        const sagemakerLogs = await text({ Effect: "Allow", Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*" });
        expect(sagemakerLogs).to.include("not the stack's own");
        // A condition on the caller's network narrows nothing.
        const vpc = await text({ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "*", Condition: { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } } });
        expect(vpc).to.include("allows sagemaker:InvokeEndpoint").and.include("aws:SourceVpc");
        const ok = await validateStack(policy, withLambdaPolicy(lambdaPolicy(endpointName, functionName)));
        expect(ok.violations).to.deep.equal([]);
        // Another stack's endpoint named in the config.
        const configured = withLambdaPolicy(doc({ Effect: "Allow", Action: "sagemaker:InvokeEndpoint", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/shared" }));
        expect((await validateStack(policy, configured, { allowedResources: ["arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/shared"] })).violations).to.deep.equal([]);
    });

    it("judges an AWS managed policy on the Lambda role by its published document", async () => {
        const specs = projectStack("dev");
        specs.push({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "basic", props: { role: "lambda-role-dev-33cc44d", policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" } });
        const out = (await validateStack(policy, specs)).violations.map((v) => v.message).join("\n");
        expect(out).to.include("AWS managed policy AWSLambdaBasicExecutionRole").and.include("logs:CreateLogGroup").and.include("allows logs:PutLogEvents on");
        expect((await validateStack(policy, specs, { allowedManagedPolicies: ["AWSLambdaBasicExecutionRole"] })).violations).to.deep.equal([]);
    });

    it("includes customer managed policies linked by dependency when their ARN is unknown", async () => {
        const specs = projectStack("dev", true);
        spec(specs, "lambda-role-policy").props.policy = lambdaPolicy(endpointName, functionName);
        specs.push(
            { type: "aws:iam/policy:Policy", name: "extra", props: { name: "extra-1", arn: U, policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) } },
            { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "extra-attach", props: { role: "lambda-role-dev-33cc44d", policyArn: U }, propertyDependencies: { policyArn: ["extra"] } },
        );
        const out = await validateStack(policy, specs);
        expect(out.violations.length).to.be.greaterThan(0);
        expect(out.violations[0].message).to.include("s3:GetObject").and.include("Policy 'extra' via RolePolicyAttachment 'extra-attach'");
    });

    describe("features the stack enables widen exactly the allow list they need", () => {
        const withTracing = (mode: string | undefined, ...statements: object[]) => {
            const specs = withLambdaPolicy(doc(...(JSON.parse(lambdaPolicy(endpointName, functionName)) as { Statement: object[] }).Statement, ...statements));
            if (mode !== undefined) spec(specs, "inference").props.tracingConfig = { mode };
            return specs;
        };
        const xray = { Sid: "Traces", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" };
        const messages = async (specs: Spec[], config: object = {}) => (await validateStack(policy, specs, config)).violations.map((v) => v.message);

        it("X-Ray trace writes for a function with active tracing, and for no other", async () => {
            expect(await messages(withTracing("Active", xray))).to.deep.equal([]);
            for (const mode of [undefined, "PassThrough"]) {
                const found = await messages(withTracing(mode, xray));
                expect(found, String(mode)).to.have.length(2);
                for (const [message, action] of found.map((m, i) => [m, xray.Action[i]])) {
                    expect(message).to.include(`grants ${action}, beyond what the function needs`)
                        .and.include('only for a function with tracingConfig: { mode: "Active" } (lambda-role-least-privilege.tracingActions)')
                        .and.not.include("allowedActions");
                }
            }
            // Tracing widens the list by the X-Ray writes, nothing more.
            const [more] = await messages(withTracing("Active", { ...xray, Action: ["xray:PutTraceSegments", "xray:GetTraceSummaries"] }));
            expect(more).to.include("grants xray:GetTraceSummaries, beyond what the function needs").and.include("lambda-role-least-privilege.allowedActions");
            // What the config lists is what tracing allows.
            expect(await messages(withTracing("Active", xray), { tracingActions: ["xray:PutTraceSegments"] })).to.have.length(1);
        });

        it("cloudwatch:PutMetricData when a cloudwatch:namespace condition pins it, as the simulator decides", async () => {
            const metrics = (Condition?: object) => ({ Sid: "Metrics", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*", ...(Condition ? { Condition } : {}) });
            for (const condition of [{ StringEquals: { "cloudwatch:namespace": "Classifier" } }, { StringLike: { "cloudwatch:namespace": ["Classifier/*", "Api"] } }]) {
                expect(await messages(withTracing(undefined, metrics(condition))), JSON.stringify(condition)).to.deep.equal([]);
            }
            for (const condition of [undefined, { StringLike: { "cloudwatch:namespace": "*" } }, { StringEqualsIfExists: { "cloudwatch:namespace": "Classifier" } }, { Bool: { "aws:SecureTransport": "true" } }]) {
                const found = await messages(withTracing(undefined, metrics(condition)));
                expect(found, JSON.stringify(condition)).to.have.length(1);
                expect(found[0]).to.include("grants cloudwatch:PutMetricData, beyond what the function needs")
                    .and.include("only with a Condition limiting cloudwatch:namespace to the function's namespaces (lambda-role-least-privilege.namespaceScopedActions)");
            }
            // A pinned namespace widens the list by PutMetricData alone.
            const [other] = await messages(withTracing(undefined, { ...metrics({ StringEquals: { "cloudwatch:namespace": "Classifier" } }), Action: ["cloudwatch:PutMetricData", "cloudwatch:PutMetricAlarm"] }));
            expect(other).to.include("grants cloudwatch:PutMetricAlarm, beyond").and.include("(or extend lambda-role-least-privilege.allowedActions");
        });

        it("names the config key that accepts an opaque managed policy", async () => {
            const specs = projectStack("dev");
            specs.push({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "custom", props: { role: "lambda-role-dev-33cc44d", policyArn: "arn:aws:iam::123456789012:policy/elsewhere" } });
            const [message] = await messages(specs);
            expect(message).to.include("lambda-role-least-privilege.allowedManagedPolicies");
        });
    });

    it("rejects Allow with NotAction on a Lambda role", async () => {
        const out = await validateStack(policy, withLambdaPolicy(doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })));
        expect(out.violations[0].message).to.include("NotAction");
    });
});
