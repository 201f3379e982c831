import { expect } from "chai";
import { iamNoPrivilegeEscalation } from "../policies/iam/iam-no-privilege-escalation";
import { projectStack } from "./fixtures";
import { Spec, validateStack } from "./harness";

const policy = iamNoPrivilegeEscalation;
const ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-role-prod-11aa22b";
const withPolicy = (...Statement: object[]): Spec[] => [
    ...projectStack("prod"),
    { type: "aws:iam/rolePolicy:RolePolicy", name: "extra", props: { role: "r", policy: JSON.stringify({ Version: "2012-10-17", Statement }) } },
];
const messages = async (specs: Spec[]) => (await validateStack(policy, specs)).violations.map((v) => v.message);

describe("iam-no-privilege-escalation", () => {
    it("passes the project's stacks, after update and under preview", async () => {
        for (const preview of [false, true]) {
            for (const stack of ["dev", "prod"] as const) expect((await validateStack(policy, projectStack(stack, preview))).violations, `${stack} ${preview}`).to.deep.equal([]);
        }
    });

    it("rejects escalation actions granted without any wildcard, and through wildcards and NotAction", async () => {
        for (const Action of ["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy", "iam:Put*"]) {
            const found = await messages(withPolicy({ Effect: "Allow", Action, Resource: ROLE_ARN }));
            expect(found, Action).to.have.length(1);
            expect(found[0]).to.include("with them a principal can give itself or others any permission");
        }
        expect(await messages(withPolicy({ Effect: "Allow", NotAction: "s3:*", Resource: ROLE_ARN }))).to.have.length.greaterThan(0);
        expect(await messages(withPolicy({ Effect: "Deny", Action: "iam:*", Resource: "*" }))).to.deep.equal([]);
    });

    it("rejects iam:PassRole and sts:AssumeRole beyond the stack's own roles, and passes them on its own role", async () => {
        expect((await messages(withPolicy({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" })))[0]).to.include("grants iam:PassRole on *, beyond the roles this stack defines");
        expect(await messages(withPolicy({ Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::123456789012:role/Admin" }))).to.have.length(1);
        expect(await messages(withPolicy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::*:role/*" }))).to.have.length(1);
        expect(await messages(withPolicy({ Effect: "Allow", Action: "iam:PassRole", Resource: ROLE_ARN, Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } } }))).to.deep.equal([]);
    });
});
