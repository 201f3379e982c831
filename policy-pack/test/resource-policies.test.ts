/** Trust policies, resource policies (S3, KMS) and the notebook instance: each passing and failing, and the routes around each check. */
import { expect } from "chai";
import { iamRoleTrustNoPublicOrForeignPrincipals } from "../policies/iam/iam-role-trust-no-public-or-foreign-principals";
import { kmsKeyPolicyNoPublicAccess } from "../policies/kms/kms-key-policy-no-public-access";
import { s3NoPublicOrCrossAccountGrants } from "../policies/s3/s3-no-public-or-cross-account-grants";
import { sagemakerNotebookNoInternetRootOrAwsKey } from "../policies/sagemaker/sagemaker-notebook-no-internet-root-or-aws-key";
import { projectStack } from "./fixtures";
import { Spec, U, validateResource } from "./harness";

const ACCOUNT = "123456789012";
const OTHER = "210987654321";
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

async function messages(policy: Parameters<typeof validateResource>[0], spec: Spec, config: object = {}): Promise<string[]> {
    return (await validateResource(policy, spec, config)).violations.map((v) => v.message);
}

describe("iam-role-trust-no-public-or-foreign-principals", () => {
    const policy = iamRoleTrustNoPublicOrForeignPrincipals;
    const role = (...statements: object[]): Spec => ({ type: "aws:iam/role:Role", name: "r", props: { assumeRolePolicy: doc(...statements) } });
    const assume = (Principal: unknown, extra: object = {}) => ({ Effect: "Allow", Action: "sts:AssumeRole", Principal, ...extra });

    it("passes the project's roles (one service each, source account condition), after update and under preview", async () => {
        for (const preview of [false, true]) {
            for (const stack of ["dev", "prod"] as const) {
                for (const spec of projectStack(stack, preview).filter((s) => s.type === "aws:iam/role:Role")) {
                    expect(await messages(policy, spec), `${stack} ${spec.name}`).to.deep.equal([]);
                }
            }
        }
    });

    it("rejects a role assumable by '*' or by AWS '*', however spelt, unless a caller condition narrows it", async () => {
        for (const principal of ["*", { AWS: "*" }, { AWS: ["*"] }]) {
            const found = await messages(policy, role(assume(principal)));
            expect(found, JSON.stringify(principal)).to.have.length(1);
            expect(found[0]).to.include("lets any principal ('*') of any AWS account assume the role");
        }
        // A condition that narrows nothing about the caller does not help.
        expect(await messages(policy, role(assume("*", { Condition: { Bool: { "aws:SecureTransport": "true" } } })))).to.have.length(1);
        expect(await messages(policy, role(assume("*", { Condition: { StringLike: { "aws:PrincipalOrgID": "*" } } })))).to.have.length(1);
        expect(await messages(policy, role(assume("*", { Condition: { StringEqualsIfExists: { "aws:PrincipalOrgID": "o-1" } } })))).to.have.length(1);
        expect(await messages(policy, role(assume("*", { Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } } })))).to.deep.equal([]);
    });

    it("rejects another account's principals without a condition, and passes them with sts:ExternalId or as a trusted account", async () => {
        for (const principal of [{ AWS: OTHER }, { AWS: `arn:aws:iam::${OTHER}:root` }, { AWS: [`arn:aws:iam::${OTHER}:role/ci`] }]) {
            const found = await messages(policy, role(assume(principal)));
            expect(found, JSON.stringify(principal)).to.have.length(1);
            expect(found[0]).to.include(`(account ${OTHER}) assume the role with no condition naming the caller`);
        }
        expect(await messages(policy, role(assume({ AWS: OTHER }, { Condition: { StringEquals: { "sts:ExternalId": "x-123" } } })))).to.deep.equal([]);
        expect(await messages(policy, role(assume({ AWS: `arn:aws:iam::${ACCOUNT}:root` })), { trustedAccounts: [ACCOUNT] })).to.deep.equal([]);
    });

    it("rejects NotPrincipal and a role trusting more services than configured", async () => {
        expect((await messages(policy, role({ Effect: "Allow", Action: "sts:AssumeRole", NotPrincipal: { AWS: OTHER } })))[0]).to.include("every principal except those in NotPrincipal");
        const two = role(assume({ Service: ["sagemaker.amazonaws.com", "lambda.amazonaws.com"] }));
        expect((await messages(policy, two))[0]).to.include("trusts 2 services (sagemaker.amazonaws.com, lambda.amazonaws.com)");
        // Split over two statements is the same trust.
        expect(await messages(policy, role(assume({ Service: "ec2.amazonaws.com" }), assume({ Service: "ssm.amazonaws.com" })))).to.have.length(1);
        expect(await messages(policy, two, { maxServicePrincipals: 2 })).to.deep.equal([]);
    });

    it("ignores Deny statements and reports an unknown trust policy instead of passing", async () => {
        expect(await messages(policy, role({ Effect: "Deny", Action: "sts:AssumeRole", Principal: "*" }))).to.deep.equal([]);
        const out = await validateResource(policy, { type: "aws:iam/role:Role", name: "r", props: { assumeRolePolicy: U } });
        expect(out.unchecked).to.include("assumeRolePolicy of Role 'r'");
    });
});

describe("s3-no-public-or-cross-account-grants", () => {
    const policy = s3NoPublicOrCrossAccountGrants;
    const bucketPolicy = (...statements: object[]): Spec => ({ type: "aws:s3/bucketPolicy:BucketPolicy", name: "bp", props: { bucket: "b", policy: doc(...statements) } });
    const read = (Principal: unknown, extra: object = {}) => ({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Principal, ...extra });

    it("passes the project's TLS-only Deny policy and a grant to a service scoped by source ARN", async () => {
        for (const stack of ["dev", "prod"] as const) {
            for (const spec of projectStack(stack).filter((s) => s.type.startsWith("aws:s3/"))) expect(await messages(policy, spec), spec.name).to.deep.equal([]);
        }
        const logging = read({ Service: "logging.s3.amazonaws.com" }, { Condition: { ArnLike: { "aws:SourceArn": "arn:aws:s3:::src" } } });
        expect(await messages(policy, bucketPolicy(logging))).to.deep.equal([]);
        expect(await messages(policy, bucketPolicy({ Effect: "Deny", Action: "s3:*", Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }))).to.deep.equal([]);
    });

    it("rejects a bucket policy granting the public or another account, and passes a trusted account", async () => {
        expect((await messages(policy, bucketPolicy(read("*"))))[0]).to.include("grants '*' (anyone) access to the bucket");
        expect((await messages(policy, bucketPolicy(read({ AWS: "*" }, { Condition: { Bool: { "aws:SecureTransport": "true" } } }))))).to.have.length(1);
        expect((await messages(policy, bucketPolicy(read({ AWS: `arn:aws:iam::${OTHER}:root` }))))[0]).to.include(`account ${OTHER}`);
        expect(await messages(policy, bucketPolicy(read({ AWS: `arn:aws:iam::${OTHER}:root` })), { trustedAccounts: [OTHER] })).to.deep.equal([]);
        expect(await messages(policy, bucketPolicy(read({ CanonicalUser: "79a59df900b949e55d96a1e698fbaced" })))).to.have.length(1);
    });

    it("rejects public ACLs by every route: a canned ACL on the bucket or a BucketAclV2, and explicit grants to AllUsers/AuthenticatedUsers", async () => {
        expect((await messages(policy, { type: "aws:s3/bucketV2:BucketV2", name: "b", props: { acl: "public-read" } }))[0]).to.include("canned ACL public-read");
        expect(await messages(policy, { type: "aws:s3/bucketAclV2:BucketAclV2", name: "acl", props: { bucket: "b", acl: "authenticated-read" } })).to.have.length(1);
        const grant = (uri: string) => ({ type: "aws:s3/bucketAclV2:BucketAclV2", name: "acl", props: { bucket: "b", accessControlPolicy: { owner: { id: "o" }, grants: [{ permission: "READ", grantee: { type: "Group", uri } }] } } });
        expect((await messages(policy, grant("http://acs.amazonaws.com/groups/global/AllUsers")))[0]).to.include("grants AllUsers");
        expect(await messages(policy, grant("http://acs.amazonaws.com/groups/global/AuthenticatedUsers"))).to.have.length(1);
        expect(await messages(policy, grant("http://acs.amazonaws.com/groups/s3/LogDelivery"))).to.deep.equal([]);
        expect(await messages(policy, { type: "aws:s3/bucketAclV2:BucketAclV2", name: "acl", props: { bucket: "b", acl: "private" } })).to.deep.equal([]);
    });
});

describe("kms-key-policy-no-public-access", () => {
    const policy = kmsKeyPolicyNoPublicAccess;
    const key = (...statements: object[]): Spec => ({ type: "aws:kms/key:Key", name: "k", props: { policy: doc(...statements) } });
    const root = { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" };

    it("passes the default key policy (no policy) and the account-root statement", async () => {
        expect(await messages(policy, { type: "aws:kms/key:Key", name: "k", props: {} })).to.deep.equal([]);
        expect(await messages(policy, key(root))).to.deep.equal([]);
        const viaService = { Effect: "Allow", Principal: "*", Action: ["kms:Decrypt"], Resource: "*", Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT } } };
        expect(await messages(policy, key(root, viaService))).to.deep.equal([]);
    });

    it("rejects kms:* (or any use) for everyone, on a Key or a separate KeyPolicy", async () => {
        const everyone = { Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" };
        expect((await messages(policy, key(root, everyone)))[0]).to.include("lets '*' (anyone) kms:* on the key");
        const keyPolicy: Spec = { type: "aws:kms/keyPolicy:KeyPolicy", name: "kp", props: { keyId: "k", policy: doc({ ...everyone, Principal: "*", Action: "kms:Decrypt" }) } };
        expect(await messages(policy, keyPolicy)).to.have.length(1);
    });
});

describe("sagemaker-notebook-no-internet-root-or-aws-key", () => {
    const policy = sagemakerNotebookNoInternetRootOrAwsKey;
    const notebook = (props: object): Spec => ({ type: "aws:sagemaker/notebookInstance:NotebookInstance", name: "nb", props: { instanceType: "ml.t3.medium", roleArn: "r", ...props } });
    const locked = { directInternetAccess: "Disabled", rootAccess: "Disabled", kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/abc", subnetId: "subnet-1" };

    it("passes a notebook with internet and root access disabled and a KMS key", async () => {
        expect(await messages(policy, notebook(locked))).to.deep.equal([]);
    });

    it("rejects the course's default notebook: internet and root access by default, no key", async () => {
        const found = await messages(policy, notebook({}));
        expect(found).to.have.length(3);
        expect(found[0]).to.include("directInternetAccess unset, which SageMaker treats as Enabled");
        expect(found[1]).to.include("rootAccess unset, which SageMaker treats as Enabled");
        expect(found[2]).to.include("has no kmsKeyId");
        expect(await messages(policy, notebook({ ...locked, directInternetAccess: "Enabled" }))).to.have.length(1);
        expect(await messages(policy, notebook({ ...locked, rootAccess: "Enabled" }))).to.have.length(1);
    });

    it("reports unknown settings instead of passing", async () => {
        expect((await validateResource(policy, notebook({ ...locked, directInternetAccess: U }))).unchecked).to.include("directInternetAccess");
    });
});
