import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { expandAction, managedPolicyName, Statement } from "../../lib/iam";
import { endpointPatterns, extendOwn, homeOf, logGroupPatterns, ownResourceSet } from "../../lib/own-resources";
import { effectiveDocuments, expandAll, functionRole, judgeActions, judgeRoleStatements, RoleGraph } from "../../lib/roles";
import { conditionPinsKey, reportReach, SimulationCache } from "../../lib/simulate";
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
        tracingActions: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "Actions the role of a function with active X-Ray tracing (tracingConfig.mode \"Active\") may grant besides allowedActions, on Resource \"*\" " +
                "(they take no ARN); the role of a function without it may not.",
            default: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        },
        namespaceScopedActions: {
            type: "array" as const,
            items: { type: "string" as const },
            description:
                "Actions the role may grant besides allowedActions in a statement whose Condition limits cloudwatch:namespace to the namespaces it names " +
                "(the IAM simulator refuses the action with the namespace missing or one nobody named).",
            default: ["cloudwatch:PutMetricData"],
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
    tracingActions: string[];
    namespaceScopedActions: string[];
    allowedManagedPolicies: string[];
    allowedResources: string[];
}

const NAMESPACE_KEY = "cloudwatch:namespace";

/** Whether any of the functions traces with X-Ray (UNKNOWN when a mode is unknown during preview and none is known active). */
function tracingActive(fns: PolicyResource[]): boolean | typeof UNKNOWN {
    const modes = fns.map((fn) => str(fn.props, "tracingConfig.mode"));
    if (modes.includes("Active")) return true;
    return modes.includes(UNKNOWN) ? UNKNOWN : false;
}

export const lambdaRoleLeastPrivilege: StackValidationPolicy & Implements = {
    name,
    description:
        "The effective permissions of every Lambda execution role (all attached managed, customer and inline policies together) stay within what the function needs: " +
        "by default sagemaker:InvokeEndpoint on specific endpoint ARNs plus writing its own logs; X-Ray trace writes when the function traces actively, and " +
        "cloudwatch:PutMetricData when a cloudwatch:namespace condition pins it. Wildcards are expanded against the real IAM action list.",
    enforcementLevel: "mandatory",
    controls: [
        "SecurityHub KMS.1/KMS.2",
        "Checkov CKV_AWS_286 / 287 / 288 / 289 / 290",
        "cdk-nag AwsSolutions-IAM5",
    ],
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
        const tracing = await expandAll(config.tracingActions);
        const namespaceScoped = await expandAll(config.namespaceScopedActions);
        /** What to do about actions beyond the role's allow list: each kind of action names the config key (or feature) that allows it. */
        const remedy = (extra: string[]): string => {
            const lower = extra.map((a) => a.toLowerCase());
            const parts: string[] = [];
            const traceOnly = extra.filter((_, i) => tracing.includes(lower[i]));
            const scopedOnly = extra.filter((_, i) => namespaceScoped.includes(lower[i]) && !tracing.includes(lower[i]));
            if (traceOnly.length > 0) parts.push(`${traceOnly.join(", ")} only for a function with tracingConfig: { mode: "Active" } (${name}.tracingActions).`);
            if (scopedOnly.length > 0) parts.push(`${scopedOnly.join(", ")} only with a Condition limiting ${NAMESPACE_KEY} to the function's namespaces (${name}.namespaceScopedActions).`);
            if (parts.length === 0 || traceOnly.length + scopedOnly.length < extra.length) {
                parts.unshift(`Grant only [${config.allowedActions.join(", ")}] (or extend ${name}.allowedActions if the function really calls them).`);
            }
            return parts.join(" ");
        };
        /** The allow list of one statement: namespace-scoped actions count when the statement's condition pins the namespace. */
        const statementAllowed = async (statement: Statement, roleAllowed: string[]): Promise<string[]> => {
            const named = new Set<string>();
            for (const pattern of statement.actions ?? []) for (const action of await expandAction(pattern)) if (namespaceScoped.includes(action.toLowerCase())) named.add(action);
            for (const action of named) if (!(await conditionPinsKey(statement, action, NAMESPACE_KEY))) return roleAllowed;
            return named.size > 0 ? [...roleAllowed, ...[...named].map((a) => a.toLowerCase())] : roleAllowed;
        };
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
                        `cannot be checked against [${config.allowedActions.join(", ")}] on specific resources. Detach it and grant exactly those actions with an inline aws.iam.RolePolicy ` +
                        `(or list it in ${name}.allowedManagedPolicies if it is accepted as it is).`,
                    role.urn,
                ),
            );
            const traced = tracingActive(fns);
            if (traced === UNKNOWN) unchecked.add(`tracingConfig.mode of ${fns.map(label).join(", ")} (whether ${label(role)} may write X-Ray traces)`);
            const roleAllowed = traced === true ? [...allowed, ...tracing] : allowed;
            const granted = new Set<string>();
            await judgeRoleStatements(role, { ...perms, documents }, subject, unchecked, reportViolation, async (statement) =>
                judgeActions(statement, await statementAllowed(statement, roleAllowed), granted, "the function", remedy),
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
