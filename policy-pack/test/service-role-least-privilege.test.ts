import { expect } from "chai";
import { iamServiceRoleLeastPrivilege } from "../policies/iam/iam-service-role-least-privilege";
import { projectStack, spec } from "./fixtures";
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

    it("rejects S3 access to a bucket the stack neither creates nor reads from", async () => {
        const other = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::other-bucket/*" }));
        expect(other).to.include("bucket 'other-bucket', which this stack neither creates nor reads data from").and.include("allowedBuckets");
        const anyBucket = await messages(withGrant("ec2-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::*/*" }));
        expect(anyBucket).to.include("matches any bucket");
        const everything = await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }));
        expect(everything).to.include("on every bucket");
        // Its own bucket, a bucket a job reads its data from (s3:// URI), and a configured one pass.
        expect(await messages(withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/data/*` }))).to.equal("");
        const dataset = withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::course-datasets/dogImages/*" });
        expect(await messages(dataset)).to.include("course-datasets");
        spec(dataset, "tuning").props.inputUri = "s3://course-datasets/dogImages";
        expect(await messages(dataset)).to.equal("");
        const configured = withGrant("sagemaker-role", { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::other-bucket/*" });
        expect(await messages(configured, { allowedBuckets: ["other-bucket"] })).to.equal("");
    });

    it("rejects ec2:RunInstances on the EC2 role and accepts its SSM core managed policy only", async () => {
        const run = await messages(withGrant("ec2-role", { Effect: "Allow", Action: "ec2:RunInstances", Resource: "*" }));
        expect(run).to.include("EC2 instance role").and.include("ec2:RunInstances").and.include("ec2AllowedActions");
        const managed = projectStack("prod");
        managed.push({
            type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            name: "ec2-s3-read",
            props: { role: "ec2-role-prod-55ee66f", policyArn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" },
            propertyDependencies: { role: ["ec2-role"] },
        });
        expect(await messages(managed)).to.include("AmazonS3ReadOnlyAccess").and.include("ec2AllowedManagedPolicies");
        // The same SSM core policy on the SageMaker role is not in its allowed set.
        const ssmOnSageMaker = projectStack("prod");
        ssmOnSageMaker.push({
            type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            name: "sm-ssm",
            props: { role: "sagemaker-role-prod-11aa22b", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
            propertyDependencies: { role: ["sagemaker-role"] },
        });
        expect(await messages(ssmOnSageMaker)).to.include("AmazonSSMManagedInstanceCore").and.include("sagemakerAllowedManagedPolicies");
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
