/**
 * The address policy as the Lambda applies it, on the same table the endpoint's fetcher is tested with
 * (training-scripts/tests/address_cases.json): textual addresses as DNS answers carry them, and URL host
 * spellings as the WHATWG URL parser reads them.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { addressRefusal } from "../src/address-policy";

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
