import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { managedPolicyName } from "../../lib/iam";
import { endpointPatterns, extendOwn, homeOf, logGroupPatterns, ownResourceSet } from "../../lib/own-resources";
import { effectiveDocuments, expandAll, functionRole, judgeActions, judgeRoleStatements, RoleGraph } from "../../lib/roles";
import { reportReach, SimulationCache } from "../../lib/simulate";
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
            description: "Managed policy names (or '*' patterns) a Lambda execution role may have attached, accepted as they are; other AWS managed policies are judged by their published document.",
            default: [] as string[],
        },
        allowedResources: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "ARN patterns the function may reach besides the stack's endpoints and its own log group (e.g. another stack's endpoint); ${Partition}, ${Region}, ${Account} stand for the stack's.",
            default: [] as string[],
        },
    },
};

interface Config {
    allowedActions: string[];
    allowedManagedPolicies: string[];
    allowedResources: string[];
}

export const lambdaRoleLeastPrivilege: StackValidationPolicy = {
    name,
    description:
        "The effective permissions of every Lambda execution role (all attached managed, customer and inline policies together) stay within what the function needs: " +
        "by default sagemaker:InvokeEndpoint on specific endpoint ARNs plus writing its own logs. Wildcards are expanded against the real IAM action list.",
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: async (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const index = new StackIndex(args.resources);
        const functions = index.of(T.lambdaFunction);
        if (functions.length === 0) return;
        const graph = new RoleGraph(index);
        const simulations: SimulationCache = new Map();
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

        const allowed = await expandAll(config.allowedActions);
        const home = homeOf(index);
        const endpoints = endpointPatterns(index);
        const stackEndpoints = ownResourceSet(home, endpoints.patterns, new Set(endpoints.complete ? [] : ["sagemaker"]));
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
            const documents = effectiveDocuments(perms, config.allowedManagedPolicies, (arn, via) =>
                reportViolation(
                    `${subject} has managed policy ${managedPolicyName(arn)} (${arn}) attached by ${via}, whose document is not in this stack, so its permissions ` +
                        `cannot be checked against [${config.allowedActions.join(", ")}] on specific resources. Detach it and grant exactly those actions with an inline aws.iam.RolePolicy.`,
                    role.urn,
                ),
            );
            const granted = new Set<string>();
            await judgeRoleStatements(role, { ...perms, documents }, subject, unchecked, reportViolation, (statement) =>
                judgeActions(statement, allowed, granted, "the function", `Grant only [${config.allowedActions.join(", ")}] (or extend ${name}.allowedActions if the function really calls them).`),
            );
            // Its own: the stack's endpoints and the function's log groups, nothing else of the stack.
            const own = extendOwn(stackEndpoints, home, [...config.allowedResources, ...[...logGroups].flatMap(logGroupPatterns)], new Set(logGroupsKnown ? [] : ["logs"]));
            await reportReach(simulations, role, subject, documents, granted, own, unchecked, reportViolation, () =>
                `the stack's endpoints (arn:aws:sagemaker:<region>:<account>:endpoint/<endpoint-name>) and the function's own log group (${[...logGroups].join(", ") || "unknown"}), ` +
                    `or list the resource in ${name}.allowedResources if the function must reach it.`,
            );
        }
        for (const item of graph.unattached) unchecked.add(item);
        unchecked.finish();
    },
};
