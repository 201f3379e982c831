/**
 * Whether a Lambda function calls a SageMaker endpoint, from what the stack says: its environment (an
 * `*ENDPOINT_NAME` variable, an endpoint's name or ARN, a dependency on an endpoint) or what its role may do.
 * Shared by the policies that hold such functions to a standard (provisioned concurrency, alarms).
 */
import { PolicyResource } from "@pulumi/policy";
import { globMatch, isAwsManagedPolicyArn, managedPolicyName, matchesPattern } from "./iam";
import { label } from "./label";
import { functionRole, RoleGraph } from "./roles";
import { StackIndex, T } from "./stack";
import { get, UNKNOWN } from "./unknown";

/** Environment variables that by convention carry the name of the endpoint a function calls. */
const endpointVariable = /(^|_)ENDPOINT_NAME$/i;
const endpointArn = /^arn:[a-z-]+:sagemaker:[a-z0-9-]+:\d{12}:endpoint\//;
/** Managed policies that grant sagemaker:InvokeEndpoint by their name: SageMaker's own, and those granting every action. */
const invokingManagedPolicies = ["*SageMaker*", "AdministratorAccess", "PowerUserAccess"];
/** AWS managed Lambda execution policies: logs, X-Ray, VPC interfaces and event-source reads, no SageMaker action. */
const executionManagedPolicies = new Set([
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSXRayDaemonWriteAccess",
    "CloudWatchLambdaInsightsExecutionRolePolicy",
]);

export type Invokes =
    | { kind: "yes" | "no" }
    /** `pending`: values unknown during preview; `undecidable`: what the stack does not say at all. */
    | { kind: "unknown"; pending: string[]; undecidable: string[] };

/** Whether a function calls a SageMaker endpoint: by its environment or by what its role may do. */
export function invokesEndpoint(index: StackIndex, graph: RoleGraph, fn: PolicyResource, endpointNames: Set<string>): Invokes {
    const yes = { kind: "yes" } as const;
    const variables = get(fn.props, "environment.variables");
    if (variables !== null && typeof variables === "object") {
        for (const [key, value] of Object.entries(variables as Record<string, unknown>)) {
            if (endpointVariable.test(key)) return yes;
            if (typeof value === "string" && (endpointNames.has(value) || endpointArn.test(value))) return yes;
        }
    }
    const envDeps = [...(fn.propertyDependencies?.environment ?? []), ...(fn.dependencies ?? [])];
    if (envDeps.some((d) => d.type === T.endpoint)) return yes;
    const pending: string[] = [];
    const undecidable: string[] = [];
    if (variables === UNKNOWN) pending.push("its environment");
    const role = functionRole(index, fn);
    if (role.kind === "linked") {
        for (const target of role.targets) {
            const perms = graph.permissions(target);
            for (const { source, parsed } of perms.documents) {
                if (parsed.kind === "unknown") pending.push(`the policy document of ${source}`);
                if (parsed.kind !== "known") continue;
                for (const s of parsed.statements) {
                    if (s.effect !== "Allow") continue;
                    if (s.unknownKeys.includes("Action") || s.unknownKeys.includes("NotAction") || s.unknownKeys.includes("*")) {
                        pending.push(`the actions of ${s.label} in ${source}`);
                    }
                    if ((s.actions ?? []).some((a) => matchesPattern("sagemaker:InvokeEndpoint", a))) return yes;
                    if (s.notActions !== undefined && !s.notActions.some((a) => matchesPattern("sagemaker:InvokeEndpoint", a))) return yes;
                }
            }
            for (const { arn, via } of perms.opaqueManaged) {
                const policyName = managedPolicyName(arn);
                if (invokingManagedPolicies.some((pattern) => globMatch(policyName, pattern))) return yes;
                if (isAwsManagedPolicyArn(arn) && executionManagedPolicies.has(policyName)) continue;
                undecidable.push(`managed policy ${policyName} (${arn}), attached to ${label(target)} by ${via}, has no document in this stack`);
            }
            pending.push(...perms.unresolved);
        }
    } else if (role.kind === "external") {
        undecidable.push(`its execution role ${role.value} is not defined in this stack, so its permissions cannot be read`);
    } else if (role.kind === "unlinked") {
        pending.push("its execution role");
    } else {
        undecidable.push("it has no execution role");
    }
    return pending.length + undecidable.length > 0 ? { kind: "unknown", pending, undecidable } : { kind: "no" };
}

