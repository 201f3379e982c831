/**
 * Allow statements of a resource policy (bucket, key) that grant the public or another account: the
 * check the S3 and KMS policies share. `trustedAccounts` are accounts the stack's owner vouches for.
 */
import { ParsedDocument } from "./iam";
import { callerConditionKeys, principalAccount, principalsOf } from "./principals";

export interface OpenGrant {
    statement: string;
    /** "*" or the foreign account. */
    to: string;
}

/** `trustedAccounts` "any": only grants to everyone count (a key policy names its own account, which the pack cannot know). */
export function openGrants(parsed: Extract<ParsedDocument, { kind: "known" }>, trustedAccounts: string[] | "any"): OpenGrant[] {
    const grants: OpenGrant[] = [];
    for (const statement of parsed.statements) {
        if (statement.effect !== "Allow") continue;
        if (callerConditionKeys(statement).length > 0) continue;
        if (statement.notPrincipal !== undefined) grants.push({ statement: statement.label, to: "every principal not in NotPrincipal" });
        for (const principal of principalsOf(statement.principal)) {
            if (principal.kind === "*") grants.push({ statement: statement.label, to: "'*' (anyone)" });
            else if (principal.kind === "AWS") {
                const account = principalAccount(principal.value);
                if (account !== undefined && trustedAccounts !== "any" && !trustedAccounts.includes(account)) grants.push({ statement: statement.label, to: `account ${account} (${principal.value})` });
            } else if (principal.kind === "CanonicalUser") {
                grants.push({ statement: statement.label, to: `canonical user ${principal.value}` });
            }
        }
    }
    return grants;
}

export const trustedAccountsSchema = {
    type: "array" as const,
    items: { type: "string" as const },
    description:
        "AWS account IDs (yours: the stack's own account) a resource policy may grant to by account principal without a caller condition. " +
        "Grants to '*' always need a condition on aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID or similar.",
    default: [] as string[],
};
