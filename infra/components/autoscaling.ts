/**
 * Target-tracking auto-scaling of the endpoint variant on invocations per instance, the metric SageMaker
 * publishes for exactly this. The scalable target names the real endpoint and variant and is registered only
 * once the endpoint exists (Application Auto Scaling rejects a target for an endpoint that is not InService).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AutoscalingConfig } from "../config";

export interface EndpointAutoscalingArgs {
    /** `endpoint/<endpoint>/variant/<variant>`, from the endpoint's VariantShape, so a new instance type re-registers it. */
    scalableResourceId: pulumi.Input<string>;
    scaling: AutoscalingConfig;
}

export class EndpointAutoscaling extends pulumi.ComponentResource {
    readonly resourceId: pulumi.Output<string>;
    readonly policyArn: pulumi.Output<string>;

    constructor(name: string, args: EndpointAutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:serving:EndpointAutoscaling", name, {}, opts);
        const { scaling } = args;

        const target = new aws.appautoscaling.Target(`${name}-target`, {
            serviceNamespace: "sagemaker",
            scalableDimension: "sagemaker:variant:DesiredInstanceCount",
            resourceId: args.scalableResourceId,
            minCapacity: scaling.minCapacity,
            maxCapacity: scaling.maxCapacity,
        }, { parent: this });

        const policy = new aws.appautoscaling.Policy(`${name}-invocations`, {
            policyType: "TargetTrackingScaling",
            serviceNamespace: target.serviceNamespace,
            scalableDimension: target.scalableDimension,
            resourceId: target.resourceId,
            targetTrackingScalingPolicyConfiguration: {
                targetValue: scaling.targetInvocationsPerInstance,
                scaleInCooldown: scaling.scaleInCooldownSeconds,
                scaleOutCooldown: scaling.scaleOutCooldownSeconds,
                predefinedMetricSpecification: { predefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
            },
        }, { parent: this });

        this.resourceId = target.resourceId;
        this.policyArn = policy.arn;
        this.registerOutputs({ resourceId: this.resourceId, policyArn: this.policyArn });
    }
}
