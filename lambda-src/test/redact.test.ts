/**
 * Log redaction on the table of cases the endpoint's redaction is tested with
 * (training-scripts/tests/redaction_cases.json), and through the handler: no log field of a request whose URL
 * carries a signature, and whose model error quotes it, holds the signature.
 */
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHandler, type LogEntry } from "../src/index";
import { scrubSecrets } from "../src/redact";

interface Case {
    name: string;
    text: string;
    secrets: string[];
    keeps?: string[];
}

const table = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "training-scripts", "tests", "redaction_cases.json"), "utf8")) as { cases: Case[] };
const sagemaker = mockClient(SageMakerRuntimeClient);

describe("log redaction: the table shared with the endpoint", () => {
    for (const testCase of table.cases) {
        it(testCase.name, () => {
            const scrubbed = scrubSecrets(testCase.text);
            for (const secret of testCase.secrets) expect(scrubbed).to.not.include(secret);
            for (const kept of testCase.keeps ?? []) expect(scrubbed).to.include(kept);
        });
    }
});

describe("log redaction: every field of the handler's log line", () => {
    beforeEach(() => sagemaker.reset());
    after(() => sagemaker.restore());

    it("keeps a presigned URL's signature, credential and token out of every field, however the model quotes the URL", async () => {
        const presigned = table.cases.find((testCase) => testCase.name === "presigned S3 URL")!;
        const quoted = table.cases.map((testCase) => testCase.text).join(" | ");
        sagemaker.on(InvokeEndpointCommand).rejects(
            new ModelError({
                message: `Received client error (400) from primary with message "fetching ${quoted} failed"`,
                $metadata: { httpStatusCode: 424 },
                OriginalStatusCode: 400,
                OriginalMessage: JSON.stringify({ code: 400, message: `refusing to fetch ${presigned.text}` }),
            }),
        );
        const logs: LogEntry[] = [];
        const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: (entry) => logs.push(entry), lookup: async () => ["93.184.216.34"] });

        const response = await handler({ url: presigned.text });

        expect(response.statusCode).to.equal(400);
        const line = JSON.stringify(logs);
        expect(logs[0]).to.include({ imageUrl: "https://bucket.s3.us-east-1.amazonaws.com/dogs/beagle.jpg" });
        for (const secret of table.cases.flatMap((testCase) => testCase.secrets)) expect(line).to.not.include(secret);
    });
});
