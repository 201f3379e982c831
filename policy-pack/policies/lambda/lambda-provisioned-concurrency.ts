import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { misorderedBounds, NOT_GREATER_THAN } from "../../lib/config";
import { invokesEndpoint } from "../../lib/invokes-endpoint";
import { RoleGraph } from "../../lib/roles";
import { label } from "../../lib/label";
import { link, StackIndex, T } from "../../lib/stack";
import { bool, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "lambda-provisioned-concurrency";

const configSchema = {
    properties: {
        minProvisionedConcurrency: {
            type: "integer" as const,
            minimum: 1,
            description: "Least provisioned concurrency for a function that invokes a SageMaker endpoint.",
            default: 3,
            [NOT_GREATER_THAN]: "maxProvisionedConcurrency",
        },
        maxProvisionedConcurrency: {
            type: "integer" as const,
            minimum: 1,
            description: "Most provisioned concurrency for such a function (cost bound).",
            default: 3,
        },
    },
};

interface Config {
    minProvisionedConcurrency: number;
    maxProvisionedConcurrency: number;
}

/** A function name, or the name inside a function ARN ("arn:aws:lambda:r:a:function:name[:qualifier]"). */
function functionKeys(value: string): string[] {
    const match = /^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)/.exec(value);
    return match ? [value, match[1]] : [value];
}

export const lambdaProvisionedConcurrency: StackValidationPolicy & Implements = {
    name,
    description:
        "Every Lambda function that invokes a SageMaker endpoint has a ProvisionedConcurrencyConfig on a published version or alias (never $LATEST) " +
        "with provisionedConcurrentExecutions within the configured bounds, and reserved concurrency, when set, not below it.",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema: configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const misordered = misorderedBounds(name, configSchema, config);
        if (misordered.length > 0) return misordered.forEach((problem) => reportViolation(problem));
        const index = new StackIndex(args.resources);
        const functions = index.of(T.lambdaFunction);
        if (functions.length === 0) return;
        const graph = new RoleGraph(index);
        const unchecked = new Unchecked();
        const endpointNames = new Set(
            index.of(T.endpoint).map((e) => str(e.props, "name")).filter((n): n is string => typeof n === "string"),
        );

        const configsByFunction = new Map<PolicyResource, PolicyResource[]>();
        const unlinkedConfigs: PolicyResource[] = [];
        for (const pcc of index.of(T.provisionedConcurrency)) {
            const target = link(index, pcc, "functionName", T.lambdaFunction, functionKeys);
            if (target.kind === "linked") for (const fn of target.targets) configsByFunction.set(fn, [...(configsByFunction.get(fn) ?? []), pcc]);
            else if (target.kind !== "external") unlinkedConfigs.push(pcc);
        }
        const aliases = aliasesByFunction(index);
        const want =
            config.minProvisionedConcurrency === config.maxProvisionedConcurrency
                ? `${config.minProvisionedConcurrency}`
                : `between ${config.minProvisionedConcurrency} and ${config.maxProvisionedConcurrency}`;

        for (const fn of functions) {
            const invokes = invokesEndpoint(index, graph, fn, endpointNames);
            if (invokes.kind === "no") continue;
            if (invokes.kind === "unknown") {
                if (invokes.undecidable.length > 0) {
                    unchecked.undecidable(
                        `could not determine whether ${label(fn)} invokes a SageMaker endpoint: ${[...invokes.undecidable, ...invokes.pending].join("; ")}. ` +
                            "If it does, it needs a ProvisionedConcurrencyConfig; name the endpoint in its environment (ENDPOINT_NAME) or define its role " +
                            "and policies in this stack so this policy can tell",
                    );
                } else {
                    unchecked.add(`whether ${label(fn)} invokes a SageMaker endpoint (${invokes.pending.join("; ")})`);
                }
                continue;
            }
            const configs = configsByFunction.get(fn) ?? [];
            if (configs.length === 0) {
                const unlinked = unlinkedConfigs.length > 0 ? ` (${unlinkedConfigs.map(label).join(", ")} could not be linked to any function)` : "";
                reportViolation(
                    `${label(fn)} invokes a SageMaker endpoint but has no aws.lambda.ProvisionedConcurrencyConfig${unlinked}, so every scale-out pays a cold start. ` +
                        `Publish the function (publish: true), add an aws.lambda.Alias on its version and a ProvisionedConcurrencyConfig on that alias ` +
                        `with provisionedConcurrentExecutions ${want}.`,
                    fn.urn,
                );
                continue;
            }
            let total = 0;
            let totalKnown = true;
            for (const pcc of configs) {
                checkQualifier(aliases, fn, pcc, reportViolation, unchecked);
                const count = num(pcc.props, "provisionedConcurrentExecutions");
                if (count === UNKNOWN) {
                    unchecked.add(`provisionedConcurrentExecutions of ${label(pcc)}`);
                    totalKnown = false;
                } else if (count === undefined || count < config.minProvisionedConcurrency || count > config.maxProvisionedConcurrency) {
                    reportViolation(
                        `${label(pcc)} gives ${label(fn)} provisionedConcurrentExecutions ${count ?? "(unset)"}, outside the allowed ${want} ` +
                            `(${name}.minProvisionedConcurrency/maxProvisionedConcurrency). Set provisionedConcurrentExecutions to ${want}.`,
                        pcc.urn,
                    );
                    total += count ?? 0;
                } else {
                    total += count;
                }
            }
            const reserved = num(fn.props, "reservedConcurrentExecutions");
            if (reserved === UNKNOWN) unchecked.add(`reservedConcurrentExecutions of ${label(fn)}`);
            else if (typeof reserved === "number" && reserved >= 0 && totalKnown && reserved < total) {
                reportViolation(
                    `${label(fn)} reserves ${reserved} concurrent executions, below its ${total} provisioned; AWS rejects this and the function would throttle. ` +
                        `Raise reservedConcurrentExecutions to at least ${total} or remove it.`,
                    fn.urn,
                );
            }
        }
        unchecked.finish();
    },
};

interface AliasIndex {
    byFunction: Map<PolicyResource, PolicyResource[]>;
    /** Aliases whose function is unknown during preview and not linked by a dependency. */
    unlinked: PolicyResource[];
}

/**
 * Each function's aliases, by the alias's functionName (a name or ARN) or the function it was computed
 * from. Alias names are unique per function only, so an alias is always looked up through its function.
 */
function aliasesByFunction(index: StackIndex): AliasIndex {
    const aliases: AliasIndex = { byFunction: new Map(), unlinked: [] };
    for (const alias of index.of(T.lambdaAlias)) {
        const target = link(index, alias, "functionName", T.lambdaFunction, functionKeys);
        if (target.kind === "linked") for (const fn of target.targets) aliases.byFunction.set(fn, [...(aliases.byFunction.get(fn) ?? []), alias]);
        else if (target.kind === "unlinked") aliases.unlinked.push(alias);
    }
    return aliases;
}

function checkQualifier(
    aliasIndex: AliasIndex,
    fn: PolicyResource,
    pcc: PolicyResource,
    reportViolation: (message: string, urn?: string) => void,
    unchecked: Unchecked,
): void {
    const qualifier = str(pcc.props, "qualifier");
    const latest = (why: string) =>
        reportViolation(
            `${label(pcc)} for ${label(fn)} ${why}; provisioned concurrency needs a published version. ` +
                "Set publish: true on the function, point an aws.lambda.Alias at its version and use the alias name as qualifier.",
            pcc.urn,
        );
    if (qualifier === "$LATEST") return latest("uses qualifier $LATEST");
    if (qualifier === undefined) return latest("has no qualifier");
    if (typeof qualifier === "string" && /^\d+$/.test(qualifier)) return checkServedVersion(aliasIndex, fn, pcc, qualifier, reportViolation);
    let aliases: PolicyResource[];
    if (typeof qualifier === "string") {
        const named = (alias: PolicyResource) => str(alias.props, "name") === qualifier;
        aliases = (aliasIndex.byFunction.get(fn) ?? []).filter(named);
        if (aliases.length === 0) {
            const unlinked = aliasIndex.unlinked.filter(named);
            if (unlinked.length > 0) unchecked.add(`the function of ${unlinked.map(label).join(", ")} (alias '${qualifier}' used by ${label(pcc)})`);
            else unchecked.undecidable(`alias '${qualifier}' of ${label(fn)}, used by ${label(pcc)}, is not defined in this stack, so the version it points at cannot be checked`);
            return;
        }
    } else {
        const deps = pcc.propertyDependencies?.qualifier ?? [];
        aliases = deps.filter((d) => d.type === T.lambdaAlias);
        if (aliases.length === 0) {
            // A qualifier computed from the function itself is its published version.
            if (deps.some((d) => d.type === T.lambdaFunction)) return checkPublished(fn, latest, unchecked);
            unchecked.add(`qualifier of ${label(pcc)}`);
            return;
        }
    }
    for (const alias of aliases) {
        const version = str(alias.props, "functionVersion");
        if (version === "$LATEST") return latest(`uses alias ${label(alias)}, which points at $LATEST`);
        if (version === UNKNOWN) {
            const fromFunction = (alias.propertyDependencies?.functionVersion ?? []).some((d) => d.type === T.lambdaFunction);
            if (fromFunction) checkPublished(fn, latest, unchecked);
            else unchecked.add(`functionVersion of ${label(alias)}`);
        }
    }
}

/**
 * Provisioned concurrency on a numeric version warms that version only: when the function's callers go
 * through aliases and none serves it, the warm instances take no traffic and every call is cold.
 */
function checkServedVersion(aliasIndex: AliasIndex, fn: PolicyResource, pcc: PolicyResource, version: string, reportViolation: (message: string, urn?: string) => void): void {
    const aliases = aliasIndex.byFunction.get(fn) ?? [];
    if (aliases.length === 0) return;
    const served = aliases.map((alias) => ({ alias, version: str(alias.props, "functionVersion") }));
    if (served.some((s) => typeof s.version !== "string" || s.version === version)) return;
    reportViolation(
        `${label(pcc)} warms version ${version} of ${label(fn)}, but its aliases serve ${served.map((s) => `${String(str(s.alias.props, "name") ?? s.alias.name)} -> ${String(s.version)}`).join(", ")}: ` +
            "the provisioned instances take no traffic. Put the provisioned concurrency on the alias (qualifier: the alias name) so it follows the served version.",
        pcc.urn,
    );
}

function checkPublished(fn: PolicyResource, latest: (why: string) => void, unchecked: Unchecked): void {
    const publish = bool(fn.props, "publish");
    if (publish === UNKNOWN) unchecked.add(`publish of ${label(fn)}`);
    else if (publish !== true) latest(`targets the version of ${label(fn)}, which is not published (publish is not true), i.e. $LATEST`);
}
