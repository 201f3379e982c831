import { expect } from "chai";
import { sagemakerEndpointGuardedUpdates } from "../policies/sagemaker/sagemaker-endpoint-guarded-updates";
import prod from "../config/prod.json";
import { projectStack, spec } from "./fixtures";
import { Spec, U, validateStack } from "./harness";

const policy = sagemakerEndpointGuardedUpdates;
const prodConfig = prod["sagemaker-endpoint-guarded-updates"];
const endpointName = "sagemaker-classifier-prod";

function alarm(name: string, metricName: string, dimensions: Record<string, unknown> = { EndpointName: endpointName, VariantName: "AllTraffic" }): Spec {
    return { type: "aws:cloudwatch/metricAlarm:MetricAlarm", name, props: { name, namespace: "AWS/SageMaker", metricName, dimensions, alarmActions: ["arn:aws:sns:us-east-1:123456789012:alarms"] } };
}

/** prod as this project deploys it: the endpoint ignores its configuration name, the rollout carries the guardrail. */
function guarded(guardrail: Record<string, unknown> = {}): Spec[] {
    const specs = projectStack("prod");
    spec(specs, "endpoint").ignoreChanges = ["endpointConfigName"];
    return [
        ...specs,
        alarm(`${endpointName}-AllTraffic-5xx`, "Invocation5XXErrors"),
        alarm(`${endpointName}-AllTraffic-latency-p99`, "ModelLatency"),
        {
            type: "pulumi-nodejs:dynamic/sagemaker-classifier:EndpointRollout",
            name: "classifier-rollout",
            props: {
                endpointName,
                guardrail: {
                    trafficShifting: "canary", bakingPeriodSeconds: 900,
                    alarmNames: [`${endpointName}-AllTraffic-5xx`, `${endpointName}-AllTraffic-latency-p99`], ...guardrail,
                },
            },
            dependsOn: ["endpoint", `${endpointName}-AllTraffic-5xx`, `${endpointName}-AllTraffic-latency-p99`],
        },
    ];
}

async function messages(specs: Spec[]): Promise<string> {
    const out = await validateStack(policy, specs, prodConfig);
    return out.violations.map((v) => v.message).join("\n");
}

describe("sagemaker-endpoint-guarded-updates", () => {
    it("passes an endpoint rolled out by another resource with a baking period and the stack's own alarms", async () => {
        const out = await validateStack(policy, guarded(), prodConfig);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.equal(undefined);
    });

    it("passes an endpoint whose own deploymentConfig is guarded (the provider performs its updates)", async () => {
        const specs = guarded().filter((s) => s.name !== "classifier-rollout");
        const endpoint = spec(specs, "endpoint");
        delete endpoint.ignoreChanges;
        endpoint.props.deploymentConfig = {
            blueGreenUpdatePolicy: { terminationWaitInSeconds: 600, trafficRoutingConfiguration: { type: "ALL_AT_ONCE", waitIntervalInSeconds: 0 } },
            autoRollbackConfiguration: { alarms: [{ alarmName: `${endpointName}-AllTraffic-5xx` }] },
        };
        expect(await messages(specs)).to.equal("");
    });

    it("rejects an endpoint updated with no guardrail at all", async () => {
        expect(await messages(projectStack("prod"))).to.include("updates without deployment guardrails: a new model takes all traffic at once and nothing rolls it back");
        const noGuardrail = guarded().map((s) => (s.name === "classifier-rollout" ? { ...s, props: { endpointName } } : s));
        expect(await messages(noGuardrail)).to.include("updates without deployment guardrails");
    });

    it("rejects a baking period too short for the alarms, and a rollback on no alarm", async () => {
        expect(await messages(guarded({ bakingPeriodSeconds: 60 }))).to.include("keep the old fleet 60 s after all traffic moved, under the 600 s the alarms need");
        expect(await messages(guarded({ alarmNames: [] }))).to.include("roll back on no alarm");
    });

    it("rejects a rollback alarm the stack does not have, or one that watches another endpoint", async () => {
        expect(await messages(guarded({ alarmNames: ["someone-elses-alarm"] }))).to.include("rollback alarm someone-elses-alarm is not a CloudWatch alarm of this stack");
        const elsewhere = guarded().map((s) => (s.name === `${endpointName}-AllTraffic-5xx` ? alarm(s.name, "Invocation5XXErrors", { EndpointName: "another-endpoint", VariantName: "AllTraffic" }) : s));
        expect(await messages(elsewhere)).to.include(`rollback alarm ${endpointName}-AllTraffic-5xx does not watch Endpoint 'endpoint''s own metrics`);
    });

    it("exempts a serverless endpoint, which SageMaker gives no guardrails", async () => {
        const dev = projectStack("dev");
        spec(dev, "endpoint-config").props.productionVariants = [{ variantName: "AllTraffic", modelName: "m", serverlessConfig: { memorySizeInMb: 3072, maxConcurrency: 2 } }];
        expect((await validateStack(policy, dev, {})).violations).to.deep.equal([]);
        // The same stack on instances is not exempt.
        expect((await validateStack(policy, projectStack("dev"), {})).violations).to.have.length(1);
    });

    it("defers what preview cannot know, reporting it as unchecked", async () => {
        const out = await validateStack(policy, guarded({ alarmNames: U }), prodConfig);
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.include("the rollback alarms of");
    });
});
