import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { misorderedBounds, NOT_GREATER_THAN } from "../../lib/config";
import { label } from "../../lib/label";
import { link, StackIndex, T } from "../../lib/stack";
import { bool, get, list, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-endpoint-autoscaling";

const configSchema = {
    properties: {
        minCapacityFloor: { type: "integer" as const, minimum: 1, description: "Least minCapacity of a variant's scalable target.", default: 1, [NOT_GREATER_THAN]: "maxCapacityCeiling" },
        maxCapacityCeiling: { type: "integer" as const, minimum: 1, description: "Most maxCapacity of a variant's scalable target (cost bound).", default: 4 },
        minTargetValue: { type: "number" as const, description: "Least target SageMakerVariantInvocationsPerInstance.", default: 10, [NOT_GREATER_THAN]: "maxTargetValue" },
        maxTargetValue: { type: "number" as const, description: "Most target SageMakerVariantInvocationsPerInstance.", default: 10 },
        minCooldownSeconds: { type: "integer" as const, minimum: 0, description: "Least scale-in/scale-out cooldown.", default: 30, [NOT_GREATER_THAN]: "maxCooldownSeconds" },
        maxCooldownSeconds: { type: "integer" as const, minimum: 0, description: "Most scale-in/scale-out cooldown.", default: 30 },
        maxServerlessMemorySizeMb: { type: "integer" as const, minimum: 0, description: "Most memorySizeInMb of a serverless variant, which needs no auto-scaling target (0: serverless variants not allowed).", default: 6144 },
        maxServerlessConcurrency: { type: "integer" as const, minimum: 0, description: "Most maxConcurrency of a serverless variant (cost bound; 0: serverless variants not allowed).", default: 20 },
    },
};

interface Config {
    minCapacityFloor: number;
    maxCapacityCeiling: number;
    minTargetValue: number;
    maxTargetValue: number;
    minCooldownSeconds: number;
    maxCooldownSeconds: number;
    maxServerlessMemorySizeMb: number;
    maxServerlessConcurrency: number;
}

const dimension = "sagemaker:variant:DesiredInstanceCount";
const metric = "SageMakerVariantInvocationsPerInstance";
// Application Auto Scaling's cooldown when a target tracking policy leaves it unset.
const defaultCooldownSeconds = 300;

function parseResourceId(id: string): { endpoint: string; variant: string } | undefined {
    const match = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(id);
    return match ? { endpoint: match[1], variant: match[2] } : undefined;
}

type Report = (message: string, urn?: string) => void;

export const sagemakerEndpointAutoscaling: StackValidationPolicy & Implements = {
    name,
    description:
        "Every aws.sagemaker.Endpoint has, for each production variant, an Application Auto Scaling target (sagemaker:variant:DesiredInstanceCount, " +
        "endpoint/<name>/variant/<variant>) with min >= 1 and max within bounds and above min, and a TargetTrackingScaling policy on " +
        "SageMakerVariantInvocationsPerInstance with target value and cooldowns within bounds; a serverless variant instead needs memory and " +
        "max concurrency within bounds.",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const misordered = misorderedBounds(name, configSchema, config);
        if (misordered.length > 0) return misordered.forEach((problem) => reportViolation(problem));
        const index = new StackIndex(args.resources);
        const endpoints = index.of(T.endpoint);
        if (endpoints.length === 0) return;
        const unchecked = new Unchecked();

        // Index targets by endpoint name (and variant) when known, by the endpoint they depend on otherwise.
        const targetsByName = new Map<string, { target: PolicyResource; variant: string }[]>();
        const targetsByEndpoint = new Map<PolicyResource, PolicyResource[]>();
        for (const target of index.of(T.scalableTarget)) {
            const namespace = str(target.props, "serviceNamespace");
            const dim = str(target.props, "scalableDimension");
            if ((typeof namespace === "string" && namespace !== "sagemaker") || (typeof dim === "string" && dim !== dimension)) continue;
            const id = str(target.props, "resourceId");
            const parsed = typeof id === "string" ? parseResourceId(id) : undefined;
            if (parsed) {
                targetsByName.set(parsed.endpoint, [...(targetsByName.get(parsed.endpoint) ?? []), { target, variant: parsed.variant }]);
                continue;
            }
            if (id !== UNKNOWN) continue;
            const deps = [...(target.propertyDependencies?.resourceId ?? []), ...(target.dependencies ?? [])].filter((d) => d.type === T.endpoint);
            for (const endpoint of new Set(deps)) targetsByEndpoint.set(endpoint, [...(targetsByEndpoint.get(endpoint) ?? []), target]);
        }
        const policiesFor = attachedToTargets(index, T.scalingPolicy);
        const scheduledFor = attachedToTargets(index, T.scheduledAction);

        for (const endpoint of endpoints) {
            const endpointName = str(endpoint.props, "name");
            const variants = endpointVariants(index, endpoint, unchecked, (configuration, variant) => {
                if (get(variant, "serverlessConfig") !== undefined) checkServerless(configuration, variant, config, reportViolation, unchecked);
                else checkInitialCount(configuration, variant, config, reportViolation, unchecked);
            });
            const byName = typeof endpointName === "string" ? (targetsByName.get(endpointName) ?? []) : [];
            const byDependency = targetsByEndpoint.get(endpoint) ?? [];
            const shownName = typeof endpointName === "string" ? endpointName : "<name unknown until created>";
            const fix = (variant: string) =>
                `Add an aws.appautoscaling.Target (serviceNamespace "sagemaker", scalableDimension "${dimension}", ` +
                `resourceId "endpoint/${shownName}/variant/${variant}", minCapacity >= ${config.minCapacityFloor}, maxCapacity <= ${config.maxCapacityCeiling}) ` +
                `and an aws.appautoscaling.Policy of type TargetTrackingScaling on ${metric} for it.`;
            for (const variant of variants ?? [undefined]) {
                const matched = [
                    ...byName.filter((t) => variant === undefined || t.variant === variant).map((t) => t.target),
                    // A target whose resourceId is unknown but depends on this endpoint: its variant cannot be told apart.
                    ...byDependency,
                ];
                if (matched.length === 0) {
                    const which = variant === undefined ? "its production variants" : `production variant '${variant}'`;
                    reportViolation(`${label(endpoint)} (${shownName}): no auto-scaling target for ${which}, so it cannot scale with load. ${fix(variant ?? "<variant>")}`, endpoint.urn);
                    continue;
                }
                if (byName.length === 0 && byDependency.length > 0) {
                    unchecked.add(`resourceId of ${byDependency.map(label).join(", ")} (linked to ${label(endpoint)} by dependency only)`);
                }
                for (const target of matched) {
                    checkTarget(target, policiesFor(target), config, reportViolation, unchecked);
                    for (const action of scheduledFor(target)) checkScheduledAction(target, action, config, reportViolation, unchecked);
                }
            }
        }
        unchecked.finish();
    },
};

/**
 * Variant names of the endpoint's configuration that use instances; undefined when they cannot be known.
 * Serverless variants scale by concurrency, not instances, so they need no target. Each known variant also
 * goes to `each`, for the checks on the variant itself.
 */
function endpointVariants(index: StackIndex, endpoint: PolicyResource, unchecked: Unchecked, each: (configuration: PolicyResource, variant: unknown) => void): string[] | undefined {
    const configLink = link(index, endpoint, "endpointConfigName", T.endpointConfiguration);
    if (configLink.kind !== "linked") {
        unchecked.add(`the production variants of ${label(endpoint)} (its endpoint configuration is not resolvable in this stack)`);
        return undefined;
    }
    const names: string[] = [];
    for (const configuration of configLink.targets) {
        const variants = list(configuration.props, "productionVariants");
        if (!Array.isArray(variants)) {
            unchecked.add(`productionVariants of ${label(configuration)}`);
            return undefined;
        }
        for (const variant of variants) {
            if (variant !== UNKNOWN) each(configuration, variant);
            if (variant !== UNKNOWN && get(variant, "serverlessConfig") !== undefined) continue;
            const variantName = variant === UNKNOWN ? UNKNOWN : str(variant, "variantName");
            if (typeof variantName !== "string") {
                unchecked.add(`a variantName of ${label(configuration)}`);
                return undefined;
            }
            names.push(variantName);
        }
    }
    return names;
}

/**
 * Resources of `type` (scaling policies, scheduled actions) attached to each scalable target: by the
 * target's resourceId when known, by dependency on the target otherwise.
 */
function attachedToTargets(index: StackIndex, type: string): (target: PolicyResource) => PolicyResource[] {
    const byResourceId = new Map<string, PolicyResource[]>();
    const byTarget = new Map<PolicyResource, PolicyResource[]>();
    for (const resource of index.of(type)) {
        const id = str(resource.props, "resourceId");
        if (typeof id === "string") byResourceId.set(id, [...(byResourceId.get(id) ?? []), resource]);
        else {
            const deps = [...(resource.propertyDependencies?.resourceId ?? []), ...(resource.dependencies ?? [])].filter((d) => d.type === T.scalableTarget);
            for (const target of new Set(deps)) byTarget.set(target, [...(byTarget.get(target) ?? []), resource]);
        }
    }
    return (target) => {
        const id = str(target.props, "resourceId");
        const byId = typeof id === "string" ? (byResourceId.get(id) ?? []) : [];
        return [...new Set([...byId, ...(byTarget.get(target) ?? [])])];
    };
}

/** An endpoint starts with initialInstanceCount instances whatever its scalable target allows: it must respect the ceiling too. */
function checkInitialCount(configuration: PolicyResource, variant: unknown, config: Config, report: Report, unchecked: Unchecked): void {
    const variantName = str(variant, "variantName");
    const count = num(variant, "initialInstanceCount");
    if (count === UNKNOWN) unchecked.add(`initialInstanceCount of ${label(configuration)}`);
    else if (typeof count === "number" && count > config.maxCapacityCeiling) {
        report(
            `${label(configuration)} variant '${typeof variantName === "string" ? variantName : "?"}' starts with initialInstanceCount ${count}, above the allowed ` +
                `${config.maxCapacityCeiling} (${name}.maxCapacityCeiling), and keeps them until scaling acts. Set initialInstanceCount to at most ${config.maxCapacityCeiling}.`,
            configuration.urn,
        );
    }
}

/** A scheduled action sets the target's min/max for a while: it may not leave the configured bounds either. */
function checkScheduledAction(target: PolicyResource, action: PolicyResource, config: Config, report: Report, unchecked: Unchecked): void {
    const min = num(action.props, "scalableTargetAction.minCapacity");
    const max = num(action.props, "scalableTargetAction.maxCapacity");
    if (min === UNKNOWN || max === UNKNOWN) unchecked.add(`scalableTargetAction of ${label(action)}`);
    if (typeof min === "number" && min < config.minCapacityFloor) {
        report(`${label(action)} sets minCapacity ${min} on ${label(target)}, below the floor ${config.minCapacityFloor} (${name}.minCapacityFloor). Keep scheduled minCapacity >= ${config.minCapacityFloor}.`, action.urn);
    }
    for (const [key, value] of [["minCapacity", min], ["maxCapacity", max]] as const) {
        if (typeof value === "number" && value > config.maxCapacityCeiling) {
            report(`${label(action)} sets ${key} ${value} on ${label(target)}, above the ceiling ${config.maxCapacityCeiling} (${name}.maxCapacityCeiling). Keep scheduled capacity <= ${config.maxCapacityCeiling}.`, action.urn);
        }
    }
}

/** A serverless variant stands in for auto-scaling only within the environment's memory and concurrency bounds. */
function checkServerless(configuration: PolicyResource, variant: unknown, config: Config, report: Report, unchecked: Unchecked): void {
    const variantName = str(variant, "variantName");
    const which = `${label(configuration)} serverless variant '${typeof variantName === "string" ? variantName : "?"}'`;
    for (const [key, bound, boundKey] of [
        ["memorySizeInMb", config.maxServerlessMemorySizeMb, "maxServerlessMemorySizeMb"],
        ["maxConcurrency", config.maxServerlessConcurrency, "maxServerlessConcurrency"],
    ] as const) {
        const value = num(variant, `serverlessConfig.${key}`);
        if (value === UNKNOWN) unchecked.add(`serverlessConfig.${key} of ${which}`);
        else if (value === undefined || value > bound) {
            const fix = bound === 0 ? "This environment allows no serverless variants: use instances with auto-scaling." : `Lower ${key} to at most ${bound}.`;
            report(`${which} has ${key} ${value ?? "(unset)"}, above the allowed ${bound} (${name}.${boundKey}). ${fix}`, configuration.urn);
        }
    }
}

function checkTarget(target: PolicyResource, policies: PolicyResource[], config: Config, report: Report, unchecked: Unchecked): void {
    const min = num(target.props, "minCapacity");
    const max = num(target.props, "maxCapacity");
    if (min === UNKNOWN) unchecked.add(`minCapacity of ${label(target)}`);
    else if (min === undefined || min < config.minCapacityFloor) {
        report(`${label(target)} has minCapacity ${min ?? "(unset)"}; at least ${config.minCapacityFloor} instance must stay in service. Set minCapacity >= ${config.minCapacityFloor}.`, target.urn);
    }
    if (max === UNKNOWN) unchecked.add(`maxCapacity of ${label(target)}`);
    else if (max === undefined || max > config.maxCapacityCeiling) {
        report(`${label(target)} has maxCapacity ${max ?? "(unset)"}, above the allowed ${config.maxCapacityCeiling} (${name}.maxCapacityCeiling). Lower maxCapacity.`, target.urn);
    } else if (typeof min === "number" && max <= min) {
        report(`${label(target)} has maxCapacity ${max} not above minCapacity ${min}, so it can never scale out. Raise maxCapacity above minCapacity.`, target.urn);
    }

    for (const key of ["dynamicScalingInSuspended", "dynamicScalingOutSuspended", "scheduledScalingSuspended"]) {
        const suspended = bool(target.props, `suspendedState.${key}`);
        if (suspended === UNKNOWN) unchecked.add(`suspendedState.${key} of ${label(target)}`);
        else if (suspended === true) {
            report(`${label(target)} has suspendedState.${key} true, so its scaling exists but does not act. Remove suspendedState or set ${key} to false.`, target.urn);
        }
    }

    const tracking = policies.filter((p) => str(p.props, "policyType") === "TargetTrackingScaling" || str(p.props, "policyType") === UNKNOWN);
    const onMetric = tracking.filter((p) => {
        const type = str(p.props, "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType");
        if (type === UNKNOWN) unchecked.add(`predefinedMetricType of ${label(p)}`);
        return type === metric || type === UNKNOWN;
    });
    if (onMetric.length === 0) {
        const found = policies.length === 0 ? "has no scaling policy" : `has only ${policies.map(label).join(", ")}, none tracking ${metric}`;
        report(
            `${label(target)} ${found}. Add an aws.appautoscaling.Policy with policyType "TargetTrackingScaling", predefinedMetricType "${metric}", ` +
                `targetValue ${range(config.minTargetValue, config.maxTargetValue)} and cooldowns ${range(config.minCooldownSeconds, config.maxCooldownSeconds)} s.`,
            target.urn,
        );
        return;
    }
    for (const policy of onMetric) {
        const base = "targetTrackingScalingPolicyConfiguration";
        const value = num(policy.props, `${base}.targetValue`);
        if (value === UNKNOWN) unchecked.add(`targetValue of ${label(policy)}`);
        else if (value === undefined || value < config.minTargetValue || value > config.maxTargetValue) {
            report(
                `${label(policy)} tracks ${metric} at targetValue ${value ?? "(unset)"}, outside ${range(config.minTargetValue, config.maxTargetValue)} ` +
                    `(${name}.minTargetValue/maxTargetValue): too high never scales out, too low over-provisions. Set targetValue to ${range(config.minTargetValue, config.maxTargetValue)}.`,
                policy.urn,
            );
        }
        const scaleIn = bool(policy.props, `${base}.disableScaleIn`);
        if (scaleIn === UNKNOWN) unchecked.add(`disableScaleIn of ${label(policy)}`);
        else if (scaleIn === true) {
            report(`${label(policy)} sets disableScaleIn, so the variant never scales back in and keeps paying for its peak. Remove disableScaleIn.`, policy.urn);
        }
        for (const key of ["scaleInCooldown", "scaleOutCooldown"]) {
            const cooldown = num(policy.props, `${base}.${key}`);
            if (cooldown === UNKNOWN) unchecked.add(`${key} of ${label(policy)}`);
            else {
                const seconds = cooldown ?? defaultCooldownSeconds;
                if (seconds < config.minCooldownSeconds || seconds > config.maxCooldownSeconds) {
                    report(
                        `${label(policy)} has ${key} ${seconds} s${cooldown === undefined ? " (AWS default, unset)" : ""}, outside ` +
                            `${range(config.minCooldownSeconds, config.maxCooldownSeconds)} s (${name}.minCooldownSeconds/maxCooldownSeconds). Set ${key} explicitly.`,
                        policy.urn,
                    );
                }
            }
        }
    }
}

function range(low: number, high: number): string {
    return low === high ? `${low}` : `between ${low} and ${high}`;
}
