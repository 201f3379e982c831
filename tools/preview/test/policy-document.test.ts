import { expect } from "chai";
import { crc32 } from "node:zlib";
import { getPolicyDocument } from "../policy-document";
import { invoke } from "../provider";
import { fixture, runCli } from "./helpers";

describe("preview: aws.iam.getPolicyDocument answered as the AWS provider answers it", () => {
    it("writes statements in the provider's shape: one value as a string, sets reverse-sorted, &{ as ${, conditions in order", () => {
        const result = getPolicyDocument({
            policyId: "example",
            statements: [
                {
                    sid: "ReadOwnPrefix",
                    actions: ["s3:GetObject", "s3:PutObject", "s3:GetObject"],
                    resources: ["arn:aws:s3:::bucket/&{aws:username}/*"],
                    principals: [
                        { type: "AWS", identifiers: ["arn:aws:iam::123456789012:root", "arn:aws:iam::210987654321:root"] },
                        { type: "Service", identifiers: ["lambda.amazonaws.com"] },
                    ],
                    conditions: [
                        { test: "StringEquals", variable: "aws:RequestedRegion", values: ["us-east-1", "eu-west-1"] },
                        { test: "Bool", variable: "aws:SecureTransport", values: ["true"] },
                    ],
                },
                { effect: "Deny", notActions: ["iam:*"], notResources: ["arn:aws:iam::123456789012:role/admin"], principals: [{ type: "*", identifiers: ["*"] }] },
            ],
        });
        const expected = {
            Version: "2012-10-17",
            Id: "example",
            Statement: [
                {
                    Sid: "ReadOwnPrefix",
                    Effect: "Allow",
                    Action: ["s3:PutObject", "s3:GetObject"],
                    Resource: "arn:aws:s3:::bucket/${aws:username}/*",
                    Principal: { AWS: ["arn:aws:iam::210987654321:root", "arn:aws:iam::123456789012:root"], Service: "lambda.amazonaws.com" },
                    Condition: { Bool: { "aws:SecureTransport": "true" }, StringEquals: { "aws:RequestedRegion": ["us-east-1", "eu-west-1"] } },
                },
                { Sid: "", Effect: "Deny", NotAction: "iam:*", NotResource: "arn:aws:iam::123456789012:role/admin", Principal: "*" },
            ],
        };
        expect(result.minifiedJson).to.equal(JSON.stringify(expected));
        expect(result.json).to.equal(JSON.stringify(expected, null, 2));
        expect(result.id).to.equal(String(crc32(result.json as string)));
        expect(result.version).to.equal("2012-10-17");
    });

    it("merges source documents first and override documents last, replacing statements by Sid", () => {
        const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
        const result = getPolicyDocument({
            sourcePolicyDocuments: [doc({ Sid: "", Effect: "Allow", Action: "ec2:*", Resource: "*" }, { Sid: "SidToOverride", Effect: "Allow", Action: "s3:*", Resource: "*" })],
            statements: [{ sid: "SidToOverride", actions: ["s3:*"], resources: ["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"] }],
            overridePolicyDocuments: [doc({ Sid: "Extra", Effect: "Deny", Action: "logs:*", Resource: "*" })],
        });
        expect(JSON.parse(result.minifiedJson as string)).to.deep.equal({
            Version: "2012-10-17",
            Statement: [
                { Sid: "", Effect: "Allow", Action: "ec2:*", Resource: "*" },
                { Sid: "SidToOverride", Effect: "Allow", Action: "s3:*", Resource: ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"] },
                { Sid: "Extra", Effect: "Deny", Action: "logs:*", Resource: "*" },
            ],
        });
    });

    it("rejects what the provider rejects, naming the argument", () => {
        expect(() => getPolicyDocument({ statements: [{ effect: "allow", actions: ["s3:GetObject"] }] })).to.throw('statements[0].effect must be Allow or Deny, got "allow"');
        expect(() => getPolicyDocument({ statements: [{ sid: "A" }, { sid: "A" }] })).to.throw("duplicate Sid (A)");
        expect(() => getPolicyDocument({ version: "2020-01-01" })).to.throw("version must be one of 2008-10-17, 2012-10-17");
    });

    it("is what the preview answers for the invoke; an invoke it cannot answer is an error naming the data source", () => {
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "arn:aws:s3:::secret-bucket" };
        const answered = invoke("aws:iam/getPolicyDocument:getPolicyDocument", { statements: [{ actions: ["s3:GetObject"], resources: [secret] }] }, "us-east-1");
        expect(JSON.parse(answered.json as string).Statement[0].Resource).to.equal("arn:aws:s3:::secret-bucket");
        expect(() => invoke("aws:ec2/getInstanceType:getInstanceType", { instanceType: "m5.xlarge" }, "us-east-1")).to.throw(
            "the offline preview has no answer for this data source",
        );
    });
});

describe("preview CLI: programs that use data sources", function () {
    this.timeout(120_000);

    it("checks documents built with getPolicyDocument: sagemaker:* on '*' is rejected, exit 1", async () => {
        const { code, stdout, stderr } = await runCli(["--stack", "dev", "--program", fixture("policy-document-program.ts"), "--json"]);
        expect(code, stderr).to.equal(1);
        const report = JSON.parse(stdout) as { resources: { name: string; inputs: Record<string, unknown> }[]; violations: { policyName: string; resourceName: string; message: string }[] };
        const wildcard = report.violations.filter((v) => v.policyName === "iam-no-wildcard-permissions");
        expect(wildcard.map((v) => v.resourceName).sort()).to.deep.equal(["doc-inline", "doc-managed"]);
        expect(wildcard[0].message).to.include("Action 'sagemaker:*' allows all");
        const role = report.resources.find((r) => r.name === "doc-lambda-role");
        expect(JSON.parse(role?.inputs.assumeRolePolicy as string).Statement[0].Principal).to.deep.equal({ Service: "lambda.amazonaws.com" });
    });

    it("fails a program that reads a data source the preview cannot answer, naming it, exit 2", async () => {
        const { code, stdout, stderr } = await runCli(["--stack", "dev", "--program", fixture("unknown-invoke-program.ts")]);
        expect(code).to.equal(2);
        expect(stdout).to.equal("");
        expect(stderr).to.include(`program ${fixture("unknown-invoke-program.ts")} failed: invoke of aws:ec2/getInstanceType:getInstanceType failed`);
        expect(stderr).not.to.match(/\n\s+at /);
    });
});
