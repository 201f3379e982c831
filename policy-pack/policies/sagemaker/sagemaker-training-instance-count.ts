import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { misorderedBounds, NOT_GREATER_THAN } from "../../lib/config";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { instancesOf, tuningDefinitions } from "../../lib/training-jobs";
import { num, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-training-instance-count";

const configSchema = {
    properties: {
        maxInstancesPerJob: {
            type: "integer" as const,
            minimum: 1,
            description: "Most instances one training job (or one trial of a tuning job) may run on.",
            default: 1,
            [NOT_GREATER_THAN]: "maxConcurrentInstances",
        },
        maxConcurrentInstances: {
            type: "integer" as const,
            minimum: 1,
            description: "Most training instances a tuning job may run at once: instances per trial times maxParallelTrainingJobs.",
            default: 2,
        },
    },
};

interface Config {
    maxInstancesPerJob: number;
    maxConcurrentInstances: number;
}

const REMEDY = "Lower training.instanceCount (or training.tuning.maxParallelJobs) or raise the bound in the stack's policy config.";

function checkPerJob(count: number | undefined, path: string, subject: string, config: Config, report: (message: string) => void): void {
    if (count !== undefined && count > config.maxInstancesPerJob) {
        report(
            `${subject} runs each training job on ${count} instances (${path}), above ${name}.maxInstancesPerJob ${config.maxInstancesPerJob} ` +
                `for this environment. ${REMEDY}`,
        );
    }
}

function validateTuningJob(args: ResourceValidationArgs, config: Config, report: (message: string) => void, unchecked: Unchecked): void {
    const subject = label(args);
    const parallel = num(args.props, "config.resourceLimits.maxParallelTrainingJobs");
    if (parallel === UNKNOWN) unchecked.add(`config.resourceLimits.maxParallelTrainingJobs of ${subject}`);
    const definitions = tuningDefinitions(args.props, subject, unchecked);
    let widest: number | undefined;
    for (const prefix of definitions) {
        const count = instancesOf(args.props, prefix, subject, unchecked);
        checkPerJob(count, `${prefix}resourceConfig`, subject, config, report);
        if (count !== undefined) widest = Math.max(widest ?? 0, count);
    }
    // Trials of any definition may run side by side, so the widest one bounds what runs at once.
    if (widest !== undefined && typeof parallel === "number" && widest * parallel > config.maxConcurrentInstances) {
        report(
            `${subject} may run ${parallel} training jobs at once on ${widest} instances each, ${widest * parallel} instances, ` +
                `above ${name}.maxConcurrentInstances ${config.maxConcurrentInstances} for this environment. ${REMEDY}`,
        );
    }
}

export const sagemakerTrainingInstanceCount: ResourceValidationPolicy & Implements = {
    name,
    description:
        "SageMaker training jobs and the trials of tuning jobs run on at most maxInstancesPerJob instances, and a tuning job on at most " +
        "maxConcurrentInstances at once (a cost and quota bound per environment).",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema,
    validateResource: (args, reportViolation) => {
        if (args.type !== T.trainingJob && args.type !== T.tuningJob) return;
        const config = args.getConfig<Config>();
        const misordered = misorderedBounds(name, configSchema, config);
        if (misordered.length > 0) return misordered.forEach((problem) => reportViolation(problem));
        const unchecked = new Unchecked();
        if (args.type === T.trainingJob) {
            const subject = label(args);
            checkPerJob(instancesOf(args.props, "", subject, unchecked), "resourceConfig", subject, config, reportViolation);
        } else {
            validateTuningJob(args, config, reportViolation, unchecked);
        }
        unchecked.finish();
    },
};
