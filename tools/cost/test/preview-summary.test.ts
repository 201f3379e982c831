import { expect } from "chai";
import * as path from "node:path";
import { Writable } from "node:stream";
import { main as preview } from "../../preview/cli";
import { costSummary } from "../stack-cost";

class Sink extends Writable {
    text = "";
    _write(chunk: Buffer, _encoding: string, done: () => void): void {
        this.text += chunk.toString();
        done();
    }
}

describe("npm run preview's cost summary", function () {
    this.timeout(180_000);

    it("closes the text report with the stack's totals, priced offline from the snapshot, above the summary line", async () => {
        const out = new Sink();
        const err = new Sink();
        const code = await preview(["--stack", "dev"], { out: out as unknown as NodeJS.WriteStream & { fd: 1 }, err: err as unknown as NodeJS.WriteStream & { fd: 2 }, cwd: path.resolve(__dirname, "../../..") });
        expect(code, err.text).to.equal(0);
        const lines = out.text.trimEnd().split("\n");
        expect(lines.at(-1)).to.match(/^Resources: \d+ to create\. Policy violations: 0 mandatory/);
        expect(lines.at(-4)).to.equal("Cost (us-east-1, on-demand USD, prices of 2026-12-01; `npm run cost` for the breakdown):");
        expect(lines.at(-3)).to.match(/^ {4}idle \$0\.\d+\/h \(\$0\.\d{3}\/day, \$\d+\.\d+\/month\), at max scale \$0\.4\d\d\/h; one-off up to \$0$/);
    });

    it("says why when it cannot estimate", () => {
        expect(costSummary([], {}, {})).to.deep.equal(["Cost: not estimated (the stack sets no aws:region (and AWS_REGION is unset): set it with `pulumi config set aws:region <region>`)"]);
    });
});
