/**
 * The README's commands that need no cloud, run as the README writes them: found in its code blocks and
 * inline code, so a changed or removed command fails here rather than in a user's terminal.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readmeCommand, REPO_ROOT } from "../check";

const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

/** Runs a command in the repository with no AWS credentials in reach, so nothing can call AWS. */
function run(command: string) {
    const noCredentials = path.join(os.tmpdir(), "no-aws-credentials-here");
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
    return spawnSync("bash", ["-c", command], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 180_000,
        env: { ...env, AWS_SHARED_CREDENTIALS_FILE: noCredentials, AWS_CONFIG_FILE: noCredentials, AWS_EC2_METADATA_DISABLED: "true" },
    });
}

describe("the README's commands that need no cloud", function () {
    this.timeout(240_000);

    it("the quick start's preview runs the dev stack under the policy pack with no mandatory violation", () => {
        const quickStart = readmeCommand("npm ci && npm run preview");
        // npm ci would reinstall the node_modules this test runs from; CI runs the quick start whole.
        const preview = quickStart.replace(/^npm ci && /, "");
        expect(preview).to.match(/^npm run preview -- --stack dev$/);
        const result = run(preview);
        expect(result.status, result.stderr + result.stdout).to.equal(0);
        expect(result.stdout).to.match(/Resources: \d+ to create\. Policy violations: 0 mandatory, \d+ advisory\./);
    });

    it("npm run cost prices the dev stack from the snapshot, with the totals docs/cost.md shows", () => {
        const command = readmeCommand("npm run cost");
        expect(command).to.match(/--stack dev\b/);
        const result = run(command);
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.include("Cost of stack dev");
        expect(result.stdout + result.stderr).to.include("prices from the snapshot");
        const total = result.stdout.split("\n").find((l) => l.startsWith("| **total**"));
        expect(total, result.stdout).to.be.a("string");
        const costPage = fs.readFileSync(path.join(REPO_ROOT, "docs", "cost.md"), "utf8");
        const devSection = costPage.slice(costPage.indexOf("**dev**"), costPage.indexOf("**prod**"));
        expect(devSection, "docs/cost.md's dev table").to.include(total as string);
    });

    it("npm run status -- --help prints its usage and exits 0, without AWS", () => {
        const result = run(readmeCommand("npm run status -- --help"));
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.match(/usage: npm run status -- --stack <name>/);
        for (const option of ["--stack", "--watch", "--outputs", "--json"]) expect(result.stdout).to.include(option);
    });

    it("every option the README passes to npm run status or npm run cost is one its --help lists", () => {
        for (const tool of ["status", "cost"]) {
            const help = run(`npm run -s ${tool} -- --help`);
            expect(help.status, help.stderr).to.equal(0);
            const used = [...readme.matchAll(new RegExp(`npm run ${tool} -- ([^\\n\`#]*)`, "g"))].flatMap((m) => m[1].match(/--[a-z-]+/g) ?? []);
            expect(used.length, `README passes no option to npm run ${tool}`).to.be.greaterThan(0);
            for (const option of used) expect(help.stdout, `npm run ${tool} ${option}`).to.include(option);
        }
    });
});
