/**
 * A model update that nothing watches moves all traffic to the new model at once, and nothing rolls it back when
 * the new model fails. SageMaker's deployment guardrails (UpdateEndpoint's DeploymentConfig) shift traffic in
 * steps, keep the old fleet for a baking period and roll back when a CloudWatch alarm fires.
 *
 * Who applies them: the endpoint resource itself (`deploymentConfig`, when the AWS provider performs its updates),
 * or, when the endpoint ignores changes to `endpointConfigName` because another resource rolls it out (this
 * project's EndpointRollout), that resource: one depending on the endpoint whose `guardrail` input carries a
 * baking period and the rollback alarms' names. Either way the alarms must be CloudWatch alarms of this stack that
 * watch this endpoint (namespace AWS/SageMaker, dimension EndpointName), or a rollback has nothing to react to.
 * Serverless variants have no deployment guardrails in SageMaker and are exempt.
 *
 * Industry controls: none of the catalogues in the team's reference (Security Hub, AWS Config, Prowler, Checkov,
 * cdk-nag) has a control for guarded endpoint deployments.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { link, StackIndex, T } from "../../lib/stack";
import { get, list, num, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-endpoint-guarded-updates";

const configSchema = {
    properties: {
        minBakingPeriodSeconds: {
            type: "integer" as const, minimum: 0, maximum: 3600, default: 600,
            description: "Least time the old fleet is kept, with the alarms watching, after all traffic has moved (TerminationWaitInSeconds).",
        },
    },
};

interface Config {
    minBakingPeriodSeconds: number;
}

const metricAlarm = "aws:cloudwatch/metricAlarm:MetricAlarm";

interface Guard {
    /** Where the guardrail is declared, for messages. */
    where: string;
    baking: unknown;
    alarmNames: unknown;
}

/** The guardrail of an endpoint's updates, from the endpoint or from the resource that rolls it out. */
function guardOf(index: StackIndex, endpoint: PolicyResource): Guard | undefined {
    const rolledElsewhere = endpoint.opts?.ignoreChanges?.includes("endpointConfigName");
    if (!rolledElsewhere) {
        const config = get(endpoint.props, "deploymentConfig");
        if (config === undefined) return undefined;
        const alarms = list(endpoint.props, "deploymentConfig.autoRollbackConfiguration.alarms");
        return {
            where: label(endpoint),
            baking: get(endpoint.props, "deploymentConfig.blueGreenUpdatePolicy.terminationWaitInSeconds"),
            alarmNames: Array.isArray(alarms) ? alarms.map((a) => (a === UNKNOWN ? UNKNOWN : get(a, "alarmName"))) : alarms,
        };
    }
    const updater = index.resources.find((r) => r !== endpoint && (r.dependencies ?? []).includes(endpoint) && get(r.props, "guardrail") !== undefined);
    if (!updater) return undefined;
    return { where: label(updater), baking: get(updater.props, "guardrail.bakingPeriodSeconds"), alarmNames: list(updater.props, "guardrail.alarmNames") };
}

/** Whether every variant of the endpoint's configuration is serverless; undefined when that cannot be known. */
function allServerless(index: StackIndex, endpoint: PolicyResource): boolean | undefined {
    const configuration = link(index, endpoint, "endpointConfigName", T.endpointConfiguration);
    if (configuration.kind !== "linked") return undefined;
    const variants = configuration.targets.flatMap((c) => {
        const v = list(c.props, "productionVariants");
        return Array.isArray(v) ? v : [UNKNOWN];
    });
    if (variants.some((v) => v === UNKNOWN)) return undefined;
    return variants.length > 0 && variants.every((v) => get(v, "serverlessConfig") !== undefined);
}

export const sagemakerEndpointGuardedUpdates: StackValidationPolicy & Implements = {
    name,
    controls: [],
    description:
        "A SageMaker endpoint with instance variants updates with deployment guardrails: blue/green with a baking period of at least " +
        "minBakingPeriodSeconds and automatic rollback on CloudWatch alarms of this stack that watch the endpoint (on the endpoint's " +
        "deploymentConfig, or on the resource that rolls it out when the endpoint ignores endpointConfigName). No industry control covers it.",
    enforcementLevel: "mandatory",
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<Config>();
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        for (const endpoint of index.of(T.endpoint)) {
            const serverless = allServerless(index, endpoint);
            if (serverless === true) continue;
            if (serverless === undefined) unchecked.add(`the production variants of ${label(endpoint)} (serverless ones need no guardrail)`);
            const endpointName = str(endpoint.props, "name");
            const guard = guardOf(index, endpoint);
            const fix = "Roll it out blue/green with a baking period and automatic rollback on the stack's own endpoint alarms " +
                "(this project: endpoint.deployment.guardrails; else the endpoint's deploymentConfig.blueGreenUpdatePolicy and autoRollbackConfiguration).";
            if (!guard) {
                reportViolation(`${label(endpoint)} updates without deployment guardrails: a new model takes all traffic at once and nothing rolls it back when it fails. ${fix}`, endpoint.urn);
                continue;
            }
            const baking = guard.baking === UNKNOWN ? UNKNOWN : num({ value: guard.baking }, "value");
            if (baking === UNKNOWN) unchecked.add(`the baking period of ${guard.where}`);
            else if (typeof baking !== "number" || baking < config.minBakingPeriodSeconds) {
                reportViolation(`${guard.where}: ${label(endpoint)}'s updates keep the old fleet ${typeof baking === "number" ? `${baking} s` : "no time"} after all traffic moved, ` +
                    `under the ${config.minBakingPeriodSeconds} s the alarms need to catch a bad model before the old fleet is gone. Raise the baking period.`, endpoint.urn);
            }
            if (guard.alarmNames === UNKNOWN || (Array.isArray(guard.alarmNames) && guard.alarmNames.includes(UNKNOWN))) {
                unchecked.add(`the rollback alarms of ${guard.where}`);
                continue;
            }
            const names = Array.isArray(guard.alarmNames) ? guard.alarmNames.filter((n): n is string => typeof n === "string") : [];
            if (names.length === 0) {
                reportViolation(`${guard.where}: ${label(endpoint)}'s updates roll back on no alarm, so a failing model stays. ${fix}`, endpoint.urn);
                continue;
            }
            for (const alarmName of names) {
                const [alarm] = index.find(metricAlarm, alarmName, ["name"]);
                if (!alarm) {
                    reportViolation(`${guard.where}: rollback alarm ${alarmName} is not a CloudWatch alarm of this stack, so nothing here makes sure it exists and watches ${label(endpoint)}. ${fix}`, endpoint.urn);
                    continue;
                }
                const namespace = str(alarm.props, "namespace");
                const dimension = get(alarm.props, "dimensions.EndpointName");
                const queried = list(alarm.props, "metricQueries");
                if (namespace === UNKNOWN || dimension === UNKNOWN || queried === UNKNOWN) {
                    unchecked.add(`what rollback alarm ${alarmName} watches`);
                    continue;
                }
                const watchesEndpoint = (namespace === "AWS/SageMaker" && (endpointName === UNKNOWN || dimension === endpointName)) ||
                    (Array.isArray(queried) && queried.some((q) => get(q, "metric.namespace") === "AWS/SageMaker" && (endpointName === UNKNOWN || get(q, "metric.dimensions.EndpointName") === endpointName)));
                if (!watchesEndpoint) {
                    reportViolation(`${guard.where}: rollback alarm ${alarmName} does not watch ${label(endpoint)}'s own metrics (AWS/SageMaker, EndpointName ${String(endpointName)}), so a failing model does not trip it. ${fix}`, endpoint.urn);
                }
            }
        }
        unchecked.finish();
    },
};
