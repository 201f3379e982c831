import { expect } from "chai";
import { sagemakerEndpointAutoscaling } from "../policies/sagemaker/sagemaker-endpoint-autoscaling";
import dev from "../config/dev.json";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, U, validateStack } from "./harness";

const policy = sagemakerEndpointAutoscaling;
const devConfig = dev["sagemaker-endpoint-autoscaling"];
const prodConfig = prod["sagemaker-endpoint-autoscaling"];

function tracking(specs: Spec[]): Record<string, unknown> {
    return spec(specs, "endpoint-scaling").props.targetTrackingScalingPolicyConfiguration as Record<string, unknown>;
}

async function messages(specs: Spec[], config: object = prodConfig): Promise<string> {
    const out = await validateStack(policy, specs, config);
    return out.violations.map((v) => v.message).join("\n");
}

describe("sagemaker-endpoint-autoscaling", () => {
    it("passes the project's stacks, after update and under preview", async () => {
        for (const preview of [false, true]) {
            for (const [stack, config] of [["dev", devConfig], ["prod", prodConfig]] as const) {
                const out = await validateStack(policy, projectStack(stack, preview), config);
                expect(out.violations, `${stack} preview=${preview}`).to.deep.equal([]);
                expect(out.unchecked, `${stack} preview=${preview}`).to.equal(undefined);
            }
        }
    });

    it("rejects an endpoint with no scalable target", async () => {
        const specs = projectStack("prod").filter((s) => s.name !== "endpoint-target");
        expect(await messages(specs)).to.include("no auto-scaling target for production variant 'AllTraffic'");
    });

    it("rejects a target for another variant or endpoint", async () => {
        const specs = projectStack("prod");
        spec(specs, "endpoint-target").props.resourceId = "endpoint/sagemaker-classifier-prod/variant/Canary";
        expect(await messages(specs)).to.include("no auto-scaling target for production variant 'AllTraffic'");
        const other = projectStack("prod");
        spec(other, "endpoint-target").props.resourceId = "endpoint/another-endpoint/variant/AllTraffic";
        expect(await messages(other)).to.include("no auto-scaling target");
    });

    it("links a target whose resourceId is unknown by its dependency on the endpoint, and says so", async () => {
        const specs = projectStack("prod", true);
        spec(specs, "endpoint-target").props.resourceId = U;
        spec(specs, "endpoint-scaling").props.resourceId = U;
        const out = await validateStack(policy, specs, prodConfig);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("linked to Endpoint 'endpoint' by dependency only");
        // Without the dependency the endpoint cannot be linked: a violation, never a pass.
        spec(specs, "endpoint-target").dependsOn = [];
        expect(await messages(specs)).to.include("no auto-scaling target");
    });

    it("still requires a target when the endpoint configuration is outside the stack", async () => {
        const specs = projectStack("prod").filter((s) => s.name !== "endpoint-target");
        spec(specs, "endpoint").props.endpointConfigName = "existing-config";
        const out = await validateStack(policy, specs, prodConfig);
        expect(out.violations[0].message).to.include("no auto-scaling target for its production variants");
        expect(out.unchecked).to.include("endpoint configuration is not resolvable");
    });

    it("checks capacity bounds", async () => {
        const specs = projectStack("prod");
        spec(specs, "endpoint-target").props.minCapacity = 0;
        expect(await messages(specs)).to.include("minCapacity 0");
        const tooBig = projectStack("dev");
        expect(await messages(tooBig, devConfig)).to.equal("");
        spec(tooBig, "endpoint-target").props.maxCapacity = 4;
        expect(await messages(tooBig, devConfig)).to.include("maxCapacity 4, above the allowed 2");
        const flat = projectStack("prod");
        spec(flat, "endpoint-target").props.maxCapacity = 1;
        expect(await messages(flat)).to.include("not above minCapacity 1");
    });

    it("rejects a target with no target-tracking policy on invocations per instance", async () => {
        const none = projectStack("prod").filter((s) => s.name !== "endpoint-scaling");
        expect(await messages(none)).to.include("has no scaling policy");
        const cpu = projectStack("prod");
        (tracking(cpu).predefinedMetricSpecification as Record<string, unknown>).predefinedMetricType = "SageMakerVariantProvisionedConcurrencyUtilization";
        expect(await messages(cpu)).to.include("none tracking SageMakerVariantInvocationsPerInstance");
        const step = projectStack("prod");
        spec(step, "endpoint-scaling").props.policyType = "StepScaling";
        expect(await messages(step)).to.include("none tracking");
    });

    it("rejects target value 1000", async () => {
        const specs = projectStack("prod");
        tracking(specs).targetValue = 1000;
        expect(await messages(specs)).to.include("targetValue 1000, outside 10");
    });

    it("rejects cooldowns of 3600 s and unset cooldowns (AWS default 300 s)", async () => {
        const slow = projectStack("prod");
        tracking(slow).scaleInCooldown = 3600;
        expect(await messages(slow)).to.include("scaleInCooldown 3600 s");
        const unset = projectStack("prod");
        delete tracking(unset).scaleOutCooldown;
        expect(await messages(unset)).to.include("scaleOutCooldown 300 s (AWS default, unset)");
    });

    it("accepts values inside configured ranges", async () => {
        const specs = projectStack("prod");
        tracking(specs).targetValue = 50;
        tracking(specs).scaleInCooldown = 120;
        const config = { ...prodConfig, maxTargetValue: 100, maxCooldownSeconds: 300 };
        expect(await messages(specs, config)).to.equal("");
    });

    it("accepts a serverless variant within bounds in place of auto-scaling, and refuses one beyond them", async () => {
        const serverless = (serverlessConfig: Record<string, unknown>) => {
            const specs = projectStack("dev").filter((s) => !s.name.startsWith("endpoint-target") && s.name !== "endpoint-scaling");
            spec(specs, "endpoint-config").props.productionVariants = [{ variantName: "AllTraffic", modelName: "m", serverlessConfig }];
            return specs;
        };
        expect(await messages(serverless({ maxConcurrency: 5, memorySizeInMb: 3072 }), devConfig)).to.equal("");
        const beyond = await messages(serverless({ maxConcurrency: 50, memorySizeInMb: 6144 }), devConfig);
        expect(beyond).to.include("EndpointConfiguration 'endpoint-config' serverless variant 'AllTraffic' has memorySizeInMb 6144, above the allowed 3072 (sagemaker-endpoint-autoscaling.maxServerlessMemorySizeMb). Lower memorySizeInMb to at most 3072.");
        expect(beyond).to.include("has maxConcurrency 50, above the allowed 5 (sagemaker-endpoint-autoscaling.maxServerlessConcurrency)");
        const none = await messages(serverless({ maxConcurrency: 1, memorySizeInMb: 1024 }), { ...prodConfig, maxServerlessConcurrency: 0 });
        expect(none).to.include("This environment allows no serverless variants: use instances with auto-scaling.");
        const unknown = await validateStack(policy, serverless({ maxConcurrency: U, memorySizeInMb: 3072 }), devConfig);
        expect(unknown.violations).to.deep.equal([]);
        expect(unknown.unchecked).to.include("serverlessConfig.maxConcurrency of EndpointConfiguration 'endpoint-config' serverless variant 'AllTraffic'");
        // Everything else is still enforced: an instance variant next to it needs its target.
        const mixed = serverless({ maxConcurrency: 5, memorySizeInMb: 3072 });
        (spec(mixed, "endpoint-config").props.productionVariants as unknown[]).push({ variantName: "Instances", modelName: "m", instanceType: "ml.m5.large", initialInstanceCount: 1 });
        expect(await messages(mixed, devConfig)).to.include("no auto-scaling target for production variant 'Instances'");
    });

    it("reports unknown bounds instead of passing", async () => {
        const specs = projectStack("prod");
        tracking(specs).targetValue = U;
        const out = await validateStack(policy, specs, prodConfig);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("targetValue of Policy 'endpoint-scaling'");
    });

    it("reports each lower bound above its upper bound as one clear violation, instead of throwing from the pack", async () => {
        const config = { ...prodConfig, minTargetValue: 20, minCooldownSeconds: 60 };
        const out = await validateStack(policy, projectStack("prod"), config);
        expect(out.violations.map((v) => v.message)).to.deep.equal([
            "policy config sagemaker-endpoint-autoscaling: minTargetValue (20) is greater than maxTargetValue (10), so no value can satisfy the policy. " +
                "Set minTargetValue <= maxTargetValue in the stack's policy config.",
            "policy config sagemaker-endpoint-autoscaling: minCooldownSeconds (60) is greater than maxCooldownSeconds (30), so no value can satisfy the policy. " +
                "Set minCooldownSeconds <= maxCooldownSeconds in the stack's policy config.",
        ]);
        const floor = await validateStack(policy, projectStack("prod"), { ...prodConfig, minCapacityFloor: 5 });
        expect(floor.violations[0].message).to.include("minCapacityFloor (5) is greater than maxCapacityCeiling (4)");
    });
});

describe("sagemaker-endpoint-autoscaling: scaling that exists but does nothing or escapes the bounds", () => {
    const target = (specs: Spec[]) => spec(specs, "endpoint-target").props;
    const scheduled = (scalableTargetAction: object): Spec => ({
        type: "aws:appautoscaling/scheduledAction:ScheduledAction",
        name: "nightly",
        props: { serviceNamespace: "sagemaker", scalableDimension: "sagemaker:variant:DesiredInstanceCount", resourceId: spec(projectStack("prod"), "endpoint-target").props.resourceId, schedule: "cron(0 20 * * ? *)", scalableTargetAction },
    });

    it("rejects suspended scaling, each flag on its own", async () => {
        for (const key of ["dynamicScalingInSuspended", "dynamicScalingOutSuspended", "scheduledScalingSuspended"]) {
            const specs = projectStack("prod");
            target(specs).suspendedState = { [key]: true };
            expect(await messages(specs), key).to.include(`has suspendedState.${key} true, so its scaling exists but does not act`);
        }
        const off = projectStack("prod");
        target(off).suspendedState = { dynamicScalingInSuspended: false, dynamicScalingOutSuspended: false, scheduledScalingSuspended: false };
        expect(await messages(off)).to.equal("");
    });

    it("rejects a target-tracking policy with scale-in disabled", async () => {
        const specs = projectStack("prod");
        tracking(specs).disableScaleIn = true;
        expect(await messages(specs)).to.include("sets disableScaleIn, so the variant never scales back in");
        tracking(specs).disableScaleIn = false;
        expect(await messages(specs)).to.equal("");
    });

    it("rejects scheduled actions outside the bounds, and passes one exactly at them", async () => {
        const at = [...projectStack("prod"), scheduled({ minCapacity: prodConfig.minCapacityFloor, maxCapacity: prodConfig.maxCapacityCeiling })];
        expect(await messages(at)).to.equal("");
        const above = [...projectStack("prod"), scheduled({ minCapacity: 1, maxCapacity: prodConfig.maxCapacityCeiling + 6 })];
        expect(await messages(above)).to.include(`ScheduledAction 'nightly' sets maxCapacity ${prodConfig.maxCapacityCeiling + 6} on Target 'endpoint-target', above the ceiling`);
        const below = [...projectStack("prod"), scheduled({ minCapacity: 0, maxCapacity: 1 })];
        expect(await messages(below)).to.include("ScheduledAction 'nightly' sets minCapacity 0");
        // Linked by dependency when the resourceId is unknown during preview.
        const linked = { ...scheduled({ minCapacity: 9, maxCapacity: 9 }), propertyDependencies: { resourceId: ["endpoint-target"] } };
        linked.props = { ...linked.props, resourceId: U };
        expect(await messages([...projectStack("prod"), linked])).to.include("sets minCapacity 9");
    });

    it("rejects an initial instance count above the ceiling, and passes one exactly at it", async () => {
        const variant = (specs: Spec[]) => (spec(specs, "endpoint-config").props.productionVariants as Record<string, unknown>[])[0];
        const at = projectStack("prod");
        variant(at).initialInstanceCount = prodConfig.maxCapacityCeiling;
        expect(await messages(at)).to.equal("");
        const above = projectStack("prod");
        variant(above).initialInstanceCount = prodConfig.maxCapacityCeiling + 1;
        expect(await messages(above)).to.include(`starts with initialInstanceCount ${prodConfig.maxCapacityCeiling + 1}, above the allowed ${prodConfig.maxCapacityCeiling}`);
    });
});
