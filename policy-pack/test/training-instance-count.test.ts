import { expect } from "chai";
import { sagemakerTrainingInstanceCount } from "../policies/sagemaker/sagemaker-training-instance-count";
import dev from "../config/dev.json";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, U, validateResource } from "./harness";

const policy = sagemakerTrainingInstanceCount;
const prodBounds = prod["sagemaker-training-instance-count"];

const trainingJob = (resourceConfig: Record<string, unknown>): Spec => ({
    type: "aws:sagemaker/trainingJob:TrainingJob",
    name: "train",
    props: { trainingJobName: "t", roleArn: "r", resourceConfig },
});

/** The prod stack's tuning job with its definition's resource config and parallelism replaced. */
function tuning(resourceConfig: unknown, maxParallelTrainingJobs: unknown = 2): Spec {
    const job = structuredClone(spec(projectStack("prod"), "tuning"));
    const props = job.props as { config: { resourceLimits: Record<string, unknown> }; trainingJobDefinition: Record<string, unknown> };
    props.config.resourceLimits.maxParallelTrainingJobs = maxParallelTrainingJobs;
    props.trainingJobDefinition.resourceConfig = resourceConfig;
    return job;
}

describe("sagemaker-training-instance-count", () => {
    it("passes every resource of the project's stacks", async () => {
        for (const [stack, config] of [["dev", dev["sagemaker-training-instance-count"]], ["prod", prodBounds]] as const) {
            for (const resource of projectStack(stack)) {
                const outcome = await validateResource(policy, resource, config);
                expect(outcome.violations, `${stack} ${resource.name}`).to.deep.equal([]);
                expect(outcome.unchecked, `${stack} ${resource.name}`).to.equal(undefined);
            }
        }
    });

    it("rejects a training job on more instances than the environment allows, and passes one at the bound", async () => {
        const over = await validateResource(policy, trainingJob({ instanceType: "ml.m5.xlarge", instanceCount: 5 }), prodBounds);
        expect(over.violations).to.have.length(1);
        expect(over.violations[0].message).to.match(
            /TrainingJob 'train' runs each training job on 5 instances \(resourceConfig\), above sagemaker-training-instance-count\.maxInstancesPerJob 4 .*Lower training\.instanceCount/,
        );
        const at = await validateResource(policy, trainingJob({ instanceType: "ml.m5.xlarge", instanceCount: 4 }), prodBounds);
        expect(at.violations).to.deep.equal([]);
    });

    it("counts every instance group of a heterogeneous cluster", async () => {
        const groups = { instanceGroups: [{ instanceType: "ml.m5.xlarge", instanceCount: 3 }, { instanceType: "ml.g5.xlarge", instanceCount: 2 }] };
        const outcome = await validateResource(policy, trainingJob(groups), prodBounds);
        expect(outcome.violations.map((v) => v.message).join()).to.include("on 5 instances");
    });

    it("bounds a tuning job per trial and by the instances its parallel trials run at once", async () => {
        const perTrial = await validateResource(policy, tuning({ instanceType: "ml.m5.xlarge", instanceCount: 6 }, 1), prodBounds);
        expect(perTrial.violations.map((v) => v.message)).to.deep.equal([
            `HyperParameterTuningJob 'tuning' runs each training job on 6 instances (trainingJobDefinition.resourceConfig), above sagemaker-training-instance-count.maxInstancesPerJob 4 for this environment. ` +
                "Lower training.instanceCount (or training.tuning.maxParallelJobs) or raise the bound in the stack's policy config.",
        ]);
        const concurrent = await validateResource(policy, tuning({ instanceType: "ml.m5.xlarge", instanceCount: 3 }, 3), prodBounds);
        expect(concurrent.violations).to.have.length(1);
        expect(concurrent.violations[0].message).to.include("may run 3 training jobs at once on 3 instances each, 9 instances, above sagemaker-training-instance-count.maxConcurrentInstances 8");
        expect((await validateResource(policy, tuning({ instanceType: "ml.m5.xlarge", instanceCount: 4 }, 2), prodBounds)).violations).to.deep.equal([]);
    });

    it("checks each of several training job definitions", async () => {
        const job = tuning({ instanceType: "ml.m5.xlarge", instanceCount: 1 }, 1);
        const props = job.props as Record<string, unknown>;
        props.trainingJobDefinitions = [props.trainingJobDefinition, { roleArn: "r", resourceConfig: { instanceType: "ml.m5.xlarge", instanceCount: 8 } }];
        delete props.trainingJobDefinition;
        const outcome = await validateResource(policy, job, prodBounds);
        expect(outcome.violations.map((v) => v.message).join("\n")).to.include("on 8 instances (trainingJobDefinitions.1.resourceConfig)");
    });

    it("reports a count unknown during preview as unchecked, never as a pass or a violation", async () => {
        const outcome = await validateResource(policy, tuning({ instanceType: "ml.m5.xlarge", instanceCount: U }), prodBounds);
        expect(outcome.violations).to.deep.equal([]);
        expect(outcome.unchecked).to.include("trainingJobDefinition.resourceConfig.instanceCount of HyperParameterTuningJob 'tuning'");
    });

    it("refuses a per-job bound above the concurrent one, naming both", async () => {
        const outcome = await validateResource(policy, trainingJob({ instanceType: "ml.m5.xlarge", instanceCount: 1 }), {
            maxInstancesPerJob: 8, maxConcurrentInstances: 4,
        });
        expect(outcome.violations[0].message).to.include("maxInstancesPerJob (8) is greater than maxConcurrentInstances (4)");
    });

    it("defaults to one instance per job where no environment config sets a bound", async () => {
        const outcome = await validateResource(policy, trainingJob({ instanceType: "ml.m5.xlarge", instanceCount: 2 }));
        expect(outcome.violations[0].message).to.include("maxInstancesPerJob 1");
    });
});
