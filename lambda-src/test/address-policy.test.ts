/**
 * The address policy as the Lambda applies it, on the same table the endpoint's fetcher is tested with
 * (training-scripts/tests/address_cases.json): textual addresses as DNS answers carry them, and URL host
 * spellings as the WHATWG URL parser reads them; then the same table through the Lambda's image fetcher, which
 * must refuse what the policy refuses before it connects, and hand the socket exactly what it allows.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { addressRefusal } from "../src/address-policy";
import { resolveChecked } from "../src/image-fetch";
import { checkImageUrl, RequestError } from "../src/request";

interface Case {
    address?: string;
    host?: string;
    verdict: "allow" | "refuse";
    local?: "allow" | "refuse";
    because?: string;
}

const table = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "training-scripts", "tests", "address_cases.json"), "utf8")) as {
    addresses: Case[];
    hosts: Case[];
};

function expectVerdict(testCase: Case, address: string, local: boolean): void {
    const verdict = local ? (testCase.local ?? testCase.verdict) : testCase.verdict;
    const refusal = addressRefusal(address, local);
    if (verdict === "allow") {
        expect(refusal, address).to.equal(undefined);
    } else {
        expect(refusal, address).to.be.a("string");
        expect(refusal).to.include(testCase.because);
    }
}

describe("address policy: the table shared with the endpoint's fetcher", () => {
    for (const testCase of table.addresses) {
        it(`${testCase.address} -> ${testCase.verdict}${testCase.local ? ` (${testCase.local} with the local switch)` : ""}`, () => {
            expectVerdict(testCase, testCase.address!, false);
            expectVerdict(testCase, testCase.address!, true);
        });
    }
    for (const testCase of table.hosts) {
        it(`https://${testCase.host}/ -> ${testCase.verdict}`, () => {
            expectVerdict(testCase, new URL(`https://${testCase.host}/dog.jpg`).hostname, false);
        });
    }
});

describe("address policy: the shared table through the image fetcher", () => {
    for (const testCase of table.addresses) {
        for (const local of [false, true]) {
            const verdict = local ? (testCase.local ?? testCase.verdict) : testCase.verdict;
            it(`a name resolving to ${testCase.address}${local ? " (local switch)" : ""} -> ${verdict}`, async () => {
                const resolving = resolveChecked(new URL("https://images.example/dog.jpg"), { lookup: async () => [testCase.address!], allowLocal: local });
                if (verdict === "allow") {
                    expect((await resolving).addresses.map((a) => a.address)).to.deep.equal([testCase.address!.split("%")[0]]);
                    return;
                }
                const error = await resolving.then(() => undefined, (e: unknown) => e);
                expect(error).to.be.instanceOf(RequestError);
                expect(error).to.include({ statusCode: 400, code: "InvalidUrl" });
                expect((error as RequestError).message).to.include("images.example: it resolves to").and.include(testCase.because);
            });
        }
    }
    for (const testCase of table.hosts) {
        it(`a URL to https://${testCase.host}/ -> ${testCase.verdict} before any connection`, () => {
            const check = () => checkImageUrl(`https://${testCase.host}/dog.jpg`, { allowHttp: false, allowLocal: false });
            if (testCase.verdict === "allow") expect(check().hostname).to.be.a("string");
            else expect(check).to.throw(RequestError, testCase.because);
        });
    }
});
