import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { globMatch, grantedActions, hasWildcard, isAllActions, managedPolicyName, resourceScope, Statement } from "../../lib/iam";
import { functionRole, judgeRoleStatements, RoleGraph } from "../../lib/roles";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-role-least-privilege";

const configSchema = {
    properties: {
        allowedActions: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "Every action a Lambda execution role may grant, after expanding wildcards against the IAM action list. " +
                "Default: what an inference function needs (invoke the endpoint, write its logs).",
            default: ["sagemaker:InvokeEndpoint", "logs:CreateLogStream", "logs:PutLogEvents"],
        },
        allowedManagedPolicies: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Managed policy names (or '*' patterns) a Lambda execution role may have attached; their documents are not in the stack.",
            default: [] as string[],
        },
    },
};

interface Config {
    allowedActions: string[];
    allowedManagedPolicies: string[];
}

const logGroupArn = /^arn:[a-z-]+:logs:[a-z0-9-]+:\d{12}:log-group:(.+?)(?::\*|:log-stream:\*|:log-stream:[^*?]+)?$/;

export const lambdaRoleLeastPrivilege: StackValidationPolicy = {
    name,
    description:
        "The effective permissions of every Lambda execution role (all attached managed, customer and inline policies together) stay within what the function needs: " +
        "by default sagemaker:InvokeEndpoint on specific endpoint ARNs plus writing its own logs. Wildcards are expanded against the real IAM action list.",
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: async (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const allowed = new Set(config.allowedActions.map((a) => a.toLowerCase()));
        const index = new StackIndex(args.resources);
        const functions = index.of(T.lambdaFunction);
        if (functions.length === 0) return;
        const graph = new RoleGraph(index);
        const unchecked = new Unchecked();

        // Group functions by role so a shared role is judged once against all its functions' log groups.
        const byRole = new Map<PolicyResource, PolicyResource[]>();
        for (const fn of functions) {
            const role = functionRole(index, fn);
            if (role.kind === "linked") {
                for (const r of role.targets) byRole.set(r, [...(byRole.get(r) ?? []), fn]);
            } else if (role.kind === "external") {
                unchecked.add(`${label(fn)} uses role ${role.value}, which is not defined in this stack`);
            } else {
                unchecked.add(`the execution role of ${label(fn)}`);
            }
        }

        for (const [role, fns] of byRole) {
            const perms = graph.permissions(role);
            const fnNames = fns.map((f) => `'${f.name}'`).join(", ");
            const subject = `${label(role)} (execution role of Lambda ${fnNames})`;
            const logGroups = new Set<string>();
            let logGroupsKnown = true;
            for (const fn of fns) {
                const group = str(fn.props, "loggingConfig.logGroup");
                const fnName = str(fn.props, "name");
                if (typeof group === "string" && group !== "") logGroups.add(group);
                else if (group === UNKNOWN || fnName === UNKNOWN || fnName === undefined) logGroupsKnown = false;
                else logGroups.add(`/aws/lambda/${fnName}`);
                // A log group the function depends on is one it was deliberately given.
                for (const dep of fn.dependencies ?? []) {
                    const depName = dep.type === T.logGroup ? str(dep.props, "name") : undefined;
                    if (typeof depName === "string") logGroups.add(depName);
                }
            }
            for (const item of perms.unresolved) unchecked.add(`${item} (attached to ${label(role)})`);
            for (const { arn, via } of perms.opaqueManaged) {
                const policyName = managedPolicyName(arn);
                if (config.allowedManagedPolicies.some((p) => globMatch(policyName, p))) continue;
                reportViolation(
                    `${subject} has managed policy ${policyName} (${arn}) attached by ${via}; its permissions are not limited to ` +
                        `[${config.allowedActions.join(", ")}] on specific resources. Detach it and grant exactly those actions with an inline aws.iam.RolePolicy.`,
                    role.urn,
                );
            }
            await judgeRoleStatements(role, perms, subject, unchecked, reportViolation, (statement) =>
                judge(statement, allowed, config, logGroupsKnown ? logGroups : undefined),
            );
        }
        for (const item of graph.unattached) unchecked.add(item);
        unchecked.finish();
    },
};

async function judge(statement: Statement, allowed: Set<string>, config: Config, logGroups: Set<string> | undefined): Promise<string[]> {
    if (statement.effect !== "Allow") return [];
    const problems: string[] = [];
    if (statement.notActions !== undefined) problems.push("Allow with NotAction grants every action not listed. Use Action with the needed actions.");
    if (statement.notResources !== undefined) problems.push("Allow with NotResource grants every resource not listed. Use Resource with specific ARNs.");
    const granted = new Set<string>();
    for (const pattern of statement.actions ?? []) {
        if (isAllActions(pattern)) {
            problems.push(`Action '${pattern}' grants every AWS action. Grant only [${config.allowedActions.join(", ")}].`);
            continue;
        }
        const actions = await grantedActions(pattern);
        const extra = actions.filter((a) => !allowed.has(a.toLowerCase()));
        if (extra.length > 0) {
            const shown = extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... ${extra.length - 5} more` : "");
            problems.push(
                `Action '${pattern}' grants ${shown}, beyond what the function needs. Grant only [${config.allowedActions.join(", ")}] ` +
                    `(or extend ${name}.allowedActions if the function really calls them).`,
            );
        }
        for (const a of actions) granted.add(a);
    }
    if (granted.size === 0) return problems;
    const scopes = await Promise.all([...granted].map(resourceScope));
    const allWildcardOnly = scopes.every((s) => s === "wildcard-only");
    for (const resource of statement.resources ?? []) {
        const r = resource.trim();
        const log = logGroupArn.exec(r);
        if (log) {
            const group = log[1];
            if (hasWildcard(group)) {
                problems.push(`Resource '${r}' matches any log group named like '${group}'. Name the function's own log group.`);
            } else if (logGroups && !logGroups.has(group)) {
                problems.push(`Resource '${r}' is log group '${group}', not the function's own (${[...logGroups].join(", ")}). Grant logs on its own log group only.`);
            }
            continue;
        }
        if (hasWildcard(r) && !(r === "*" && allWildcardOnly)) {
            problems.push(
                `Resource '${r}' is a wildcard. Name the specific ARNs (e.g. arn:aws:sagemaker:<region>:<account>:endpoint/<endpoint-name>).`,
            );
        }
    }
    return problems;
}
