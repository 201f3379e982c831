import { expect } from "chai";
import { iamServiceRoleLeastPrivilege } from "../policies/iam/iam-service-role-least-privilege";
import { conditionsNarrowingNothing, projectStack, spec } from "./fixtures";
import { getPolicyDocument } from "../../tools/preview/policy-document";
import { Spec, U, validateStack } from "./harness";

const policy = iamServiceRoleLeastPrivilege;
const bucket = "sagemaker-classifier-prod-bucket-9f8e7d6";

function doc(...statements: object[]): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The prod stack with one more RolePolicy on the named role. */
function withGrant(roleSpec: "sagemaker-role" | "ec2-role" | "lambda-role", ...statements: object[]): Spec[] {
    const specs = projectStack("prod");
    const role = spec(specs, roleSpec);
    specs.push({
        type: "aws:iam/rolePolicy:RolePolicy",
        name: "extra",
        props: { role: role.props.name, policy: doc(...statements) },
        propertyDependencies: { role: [roleSpec] },
    });
    return specs;
}

/** The prod stack with one more managed policy attached to the named role. */
function withAttachment(roleSpec: "sagemaker-role" | "ec2-role", name: string, policyArn: string): Spec[] {
    const specs = projectStack("prod");
    specs.push({
        type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        name,
        props: { role: spec(specs, roleSpec).props.name, policyArn },
        propertyDependencies: { role: [roleSpec] },
    });
    return specs;
}

function sagemakerDefaults(): string[] {
    return (policy.configSchema?.properties?.sagemakerAllowedActions as { default: string[] }).default;
}

async function messages(specs: Spec[], config: object = {}): Promise<string> {
    const out = await validateStack(policy, specs, config);
    return out.violations.map((v) => v.message).join("\n");
}

describe("iam-service-role-least-privilege", () => {
    it("passes the project's dev and prod stacks, in full and under preview", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const out = await validateStack(policy, projectStack(stack));
            expect(out.violations, stack).to.deep.equal([]);
            expect(out.unchecked, stack).to.equal(undefined);
            const preview = await validateStack(policy, projectStack(stack, true));
            expect(preview.violations, `${stack} preview`).to.deep.equal([]);
        }
    });

    it("rejects iam:PassRole and sagemaker:CreateEndpoint on the SageMaker role", async () => {
        const passRole = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/sagemaker-role-prod-11aa22b" }));
        expect(passRole).to.include("SageMaker execution role").and.include("iam:PassRole").and.include("sagemakerAllowedActions");
        const create = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "sagemaker:CreateEndpoint", Resource: "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x" }));
        expect(create).to.include("sagemaker:CreateEndpoint").and.include("beyond what a SageMaker execution role needs");
    });

    it("expands wildcards before comparing", async () => {
        const logsStar = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "logs:DeleteLog*", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*" }));
        expect(logsStar).to.include("logs:DeleteLogGroup");
        // A pattern matching only allowed actions passes.
        const ecrPull = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "ecr:BatchGetImag?", Resource: "arn:aws:ecr:us-east-1:763104351884:repository/pytorch-training" }));
        expect(ecrPull).to.equal("");
        const all = await messages(withGrant("ec2-role", { Effect: "Allow", Action: "*", Resource: "*" }));
        expect(all).to.include("grants every AWS action");
    });

    it("rejects S3 access to a bucket the stack neither creates nor reads from, as the simulator decides", async () => {
        const other = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::other-bucket/*" }));
        expect(other).to.include("the IAM simulator allows s3:GetObject on arn:aws:s3:::other-bucket/").and.include("RolePolicy 'extra', statement 1").and.include("allowedBuckets");
        const anyBucket = await messages(withGrant("ec2-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::*/*" }));
        expect(anyBucket).to.include("EC2 instance role").and.include("allows s3:GetObject on arn:aws:s3:::probe-");
        const everything = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }));
        expect(everything).to.include("allows s3:ListBucket on");
        // Its own bucket, a bucket a job reads its data from (s3:// URI), and a configured one pass.
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/data/*` }))).to.equal("");
        const dataset = withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::course-datasets/dogImages/*" });
        expect(await messages(dataset)).to.include("course-datasets");
        spec(dataset, "tuning").props.inputUri = "s3://course-datasets/dogImages";
        expect(await messages(dataset)).to.equal("");
        const configured = withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::other-bucket/*" });
        expect(await messages(configured, { allowedBuckets: ["other-bucket"] })).to.equal("");
    });

    it("rejects log groups, image repositories, KMS keys and SageMaker resources other than the stack's own", async () => {
        const cases: [string, object, string][] = [
            ["another log group", { Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/other:*" }, "log-group:/other:log-stream:"],
            ["another account's SageMaker logs", { Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:*:log-group:/aws/sagemaker/*" }, "arn:aws:logs:us-east-1:210987654321:"],
            [
                "another account's SageMaker logs, the caller pinned to its own account (which it always is)",
                { Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:*:log-group:/aws/sagemaker/*", Condition: { StringEquals: { "aws:PrincipalAccount": "123456789012" } } },
                "arn:aws:logs:us-east-1:210987654321:",
            ],
            ["another region's SageMaker logs", { Action: "logs:CreateLogGroup", Resource: "arn:aws:logs:*:123456789012:log-group:/aws/sagemaker/*" }, "arn:aws:logs:eu-north-1:123456789012:"],
            ["another repository", { Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:us-east-1:123456789012:repository/other" }, "repository/other"],
            ["the framework images of every region", { Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:*:763104351884:repository/pytorch-training" }, "eu-north-1:763104351884:repository/pytorch-training"],
            ["every key of the account", { Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:123456789012:key/*" }, "kms:GenerateDataKey on arn:aws:kms:us-east-1:123456789012:key/"],
            ["every key", { Action: "kms:Decrypt", Resource: "*" }, "kms:Decrypt on arn:aws:kms:"],
        ];
        for (const [what, statement, shown] of cases) {
            expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", ...statement })), what).to.include(shown).and.include("not the stack's own");
        }
        // The stack's own: its log group, the image its model runs, the key its endpoint encrypts with, its endpoint.
        const own = withGrant(
            "sagemaker-role",
            { Effect: "Allow", Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/inference-prod-a1b2c3d:*" },
            { Effect: "Allow", Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:us-east-1:123456789012:repository/classifier" },
            { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-22bb-33cc-44dd-555555eeeeee" },
        );
        spec(own, "model").props.primaryContainer = { image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/classifier:1.0" };
        spec(own, "endpoint-config").props.kmsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-22bb-33cc-44dd-555555eeeeee";
        expect(await messages(own)).to.equal("");
        // A key or repository named in the pack config.
        const configured = withGrant("sagemaker-role", { Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:123456789012:key/shared" });
        expect(await messages(configured)).to.include("key/shared");
        // The list replaces the default one, so a config extending it repeats the defaults.
        const defaults = (policy.configSchema?.properties?.sagemakerAllowedResources as { default: string[] }).default;
        expect(await messages(configured, { sagemakerAllowedResources: [...defaults, "arn:${Partition}:kms:${Region}:${Account}:key/shared"] })).to.equal("");
    });

    it("does not let a condition that narrows nothing excuse Resource '*', and accepts one that does", async () => {
        const routes: [string, object][] = [...conditionsNarrowingNothing, ["the caller's own account", { StringEquals: { "aws:PrincipalAccount": "123456789012" } }]];
        for (const [what, Condition] of routes) {
            const out = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition }));
            expect(out, what).to.include("the IAM simulator allows s3:GetObject").and.include("not the stack's own");
        }
        // Narrowing to the stack's own account still reaches every bucket in it.
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:ResourceAccount": "123456789012" } } }))).to.include(
            "allows s3:GetObject",
        );
        // ForAnyValue on an empty set is false: that condition lets nothing through, so nothing is reported.
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["project"] } } }))).to.equal("");
        // A condition on the resource itself (its tag) narrows it; the project's own namespace-scoped metrics pass.
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "s3:ExistingObjectTag/project": "classifier" } } }))).to.equal("");
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" }))).to.include("cloudwatch:PutMetricData");
    });

    it("judges grants on SageMaker resources against the stack's own endpoints, models and jobs", async () => {
        const config = { sagemakerAllowedActions: [...sagemakerDefaults(), "sagemaker:DescribeTrainingJob"] };
        const anyJob = withGrant("sagemaker-role", { Effect: "Allow", Action: "sagemaker:DescribeTrainingJob", Resource: "arn:aws:sagemaker:us-east-1:123456789012:training-job/*" });
        expect(await messages(anyJob, config)).to.include("sagemaker:DescribeTrainingJob on arn:aws:sagemaker:us-east-1:123456789012:training-job/probe-");
        // The trials of the stack's tuning job are named after it.
        const ownTrials = withGrant("sagemaker-role", { Effect: "Allow", Action: "sagemaker:DescribeTrainingJob", Resource: "arn:aws:sagemaker:us-east-1:123456789012:training-job/tuning-prod-0a1b2c3-*" });
        expect(await messages(ownTrials, config)).to.equal("");
    });

    it("passes documents built with aws.iam.getPolicyDocument (the provider's shape) and fails a broad one", async () => {
        const good = getPolicyDocument({
            statements: [
                { sid: "ReadData", actions: ["s3:GetObject"], resources: [`arn:aws:s3:::${bucket}/data/*`] },
                { actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
                { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*"] },
            ],
        }).json as string;
        const specs = projectStack("prod");
        spec(specs, "sagemaker-role-policy").props.policy = good;
        expect(await messages(specs)).to.equal("");
        spec(specs, "sagemaker-role-policy").props.policy = getPolicyDocument({ statements: [{ actions: ["s3:GetObject", "s3:ListBucket"], resources: ["*"], conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["true"] }] }] }).json;
        expect(await messages(specs)).to.include("allows s3:GetObject").and.include("allows s3:ListBucket");
    });

    it("reports every role sharing an over-broad document (one simulation, each role named), and knows someone else's account without knowing its own", async () => {
        const specs = withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*" });
        const twin = structuredClone(spec(specs, "sagemaker-role"));
        specs.push(
            { ...twin, name: "twin-role", props: { ...twin.props, name: "twin-role-1", arn: "arn:aws:iam::123456789012:role/twin-role-1" } },
            ...["sagemaker-role-policy", "extra"].map((n) => {
                const copy = structuredClone(spec(specs, n));
                return { ...copy, name: `twin-${n}`, props: { ...copy.props, role: "twin-role-1" }, propertyDependencies: { role: ["twin-role"] } };
            }),
        );
        const out = await validateStack(policy, specs);
        const reached = out.violations.filter((v) => v.message.includes("allows s3:GetObject"));
        expect(reached.map((v) => v.message.split(":")[0]).sort()).to.deep.equal(["Role 'sagemaker-role' (SageMaker execution role)", "Role 'twin-role' (SageMaker execution role)"]);
        // Under preview the role ARNs are unknown, so the stack's account is too: a wildcard account still reaches a foreign one.
        const preview = projectStack("prod", true);
        preview.push({
            type: "aws:iam/rolePolicy:RolePolicy",
            name: "extra",
            props: { role: "sagemaker-role-prod-11aa22b", policy: doc({ Effect: "Allow", Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:*:log-group:/aws/sagemaker/*" }) },
            propertyDependencies: { role: ["sagemaker-role"] },
        });
        expect(await messages(preview)).to.include("arn:aws:logs:us-east-1:210987654321:log-group:/aws/sagemaker/");
    });

    it("reports a document the simulator cannot read instead of passing it", async () => {
        const bad = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: "vpc-1" } }));
        expect(bad).to.include("the IAM simulator rejects RolePolicy 'extra'").and.include("statement 1.Condition.StringEquals");
    });

    it("accepts a condition-scoped ecr:GetAuthorizationToken on '*' (the action takes no resource)", async () => {
        const token = withGrant("sagemaker-role", { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*", Condition: { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } } });
        expect(await messages(token)).to.equal("");
    });

    it("sees the routes around it: NotResource, NotAction, a second attachment, an old policy language version", async () => {
        const notResource = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", NotResource: `arn:aws:s3:::${bucket}/secret/*` }));
        expect(notResource).to.include("allows s3:GetObject on");
        const notAction = await messages(withGrant("ec2-role", { Effect: "Allow", NotAction: "iam:*", Resource: "*" }));
        expect(notAction).to.include("NotAction").and.include("allows s3:GetObject on");
        // A customer managed policy attached twice: once harmlessly to another role, once to the SageMaker role by a PolicyAttachment.
        const second = projectStack("prod");
        second.push(
            { type: "aws:iam/policy:Policy", name: "shared", props: { name: "shared-1", arn: "arn:aws:iam::123456789012:policy/shared-1", policy: doc({ Effect: "Allow", Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:*:*:repository/*" }) } },
            { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "shared-lambda", props: { role: "lambda-role-prod-33cc44d", policyArn: "arn:aws:iam::123456789012:policy/shared-1" } },
            { type: "aws:iam/policyAttachment:PolicyAttachment", name: "shared-second", props: { roles: ["sagemaker-role-prod-11aa22b"], policyArn: "arn:aws:iam::123456789012:policy/shared-1" } },
        );
        expect(await messages(second)).to.include("Policy 'shared' via PolicyAttachment 'shared-second'").and.include("allows ecr:BatchGetImage");
        // The 2008 policy language (no policy variables) and a document without Version are judged the same.
        for (const Version of ["2008-10-17", undefined]) {
            const old = projectStack("prod");
            old.push({
                type: "aws:iam/rolePolicy:RolePolicy",
                name: "old",
                props: { role: "sagemaker-role-prod-11aa22b", policy: JSON.stringify({ Version, Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::other-bucket/*" }] }) },
                propertyDependencies: { role: ["sagemaker-role"] },
            });
            expect(await messages(old), String(Version)).to.include("allows s3:PutObject on arn:aws:s3:::other-bucket/");
        }
        // A Deny in another document is evaluated too: it takes the foreign buckets away again.
        const denied = withGrant(
            "sagemaker-role",
            { Effect: "Allow", Action: "s3:GetObject", Resource: "*" },
            { Effect: "Deny", Action: "s3:*", NotResource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] },
        );
        expect(await messages(denied)).to.equal("");
    });

    it("rejects ec2:RunInstances on the EC2 role and accepts its SSM core managed policy only", async () => {
        const run = await messages(withGrant("ec2-role", { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" }));
        expect(run).to.include("EC2 instance role").and.include("ec2:RunInstances").and.include("ec2AllowedActions");
        // Another AWS managed policy is judged by its published document.
        const s3Read = await messages(withAttachment("ec2-role", "ec2-s3-read", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
        expect(s3Read).to.include("AWS managed policy AmazonS3ReadOnlyAccess attached by RolePolicyAttachment 'ec2-s3-read'").and.include("ec2AllowedActions");
        expect(s3Read).to.include("the IAM simulator allows s3:GetObject on");
        // The same SSM core policy on the SageMaker role is judged by its content: ssm:GetParameter on every parameter, and more.
        const ssmOnSageMaker = await messages(withAttachment("sagemaker-role", "sm-ssm", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"));
        expect(ssmOnSageMaker).to.include("AmazonSSMManagedInstanceCore").and.include("sagemakerAllowedActions");
        // A managed policy whose document nobody can see.
        const unknown = await messages(withAttachment("sagemaker-role", "sm-other", "arn:aws:iam::999999999999:policy/elsewhere"));
        expect(unknown).to.include("is not in this stack").and.include("sagemakerAllowedManagedPolicies");
    });

    it("judges customer managed policies attached to the role", async () => {
        const specs = projectStack("prod");
        specs.push(
            { type: "aws:iam/policy:Policy", name: "extra", props: { name: "extra-1", arn: U, policy: doc({ Effect: "Allow", Action: "sagemaker:CreateTrainingJob", Resource: "*" }) } },
            { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "extra-attach", props: { role: "sagemaker-role-prod-11aa22b", policyArn: U }, propertyDependencies: { policyArn: ["extra"] } },
        );
        expect(await messages(specs)).to.include("sagemaker:CreateTrainingJob").and.include("Policy 'extra' via RolePolicyAttachment 'extra-attach'");
    });

    it("does not judge a Lambda role", async () => {
        const out = await validateStack(policy, withGrant("lambda-role", { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" }));
        expect(out.violations).to.deep.equal([]);
    });

    it("reports an unknown trust policy or document as cannot decide, not a pass", async () => {
        const trust = projectStack("prod");
        spec(trust, "sagemaker-role").props.assumeRolePolicy = U;
        const unknownTrust = await validateStack(policy, trust);
        expect(unknownTrust.violations).to.deep.equal([]);
        expect(unknownTrust.unchecked).to.include("assumeRolePolicy of Role 'sagemaker-role'");
        const document = projectStack("prod");
        spec(document, "ec2-role-policy").props.policy = U;
        const unknownDocument = await validateStack(policy, document);
        expect(unknownDocument.unchecked).to.include("ec2-role-policy");
    });
});
