import { ResourceValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { T } from "../../lib/stack";
import { collect, get, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "allowed-instance-types";

const configSchema = {
    properties: {
        endpointInstanceTypes: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Instance types allowed for SageMaker endpoint production and shadow variants.",
            default: ["ml.m5.large"],
        },
        trainingInstanceTypes: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Instance types allowed for SageMaker training and hyperparameter tuning jobs.",
            default: ["ml.m5.large", "ml.m5.xlarge"],
        },
        ec2InstanceTypes: {
            type: "array" as const,
            items: { type: "string" as const },
            description: "Instance types allowed for EC2 instances, spot instance requests and launch templates.",
            default: ["m5.xlarge"],
        },
    },
};

interface Config {
    endpointInstanceTypes: string[];
    trainingInstanceTypes: string[];
    ec2InstanceTypes: string[];
}

type Kind = keyof Config;

/**
 * Where a tuning job's training definition (the single `trainingJobDefinition` and each of
 * `trainingJobDefinitions`, which share one type in @pulumi/aws) names instance types: a homogeneous
 * cluster, heterogeneous instance groups, or the tuning resource config's type and its alternatives.
 */
const trainingDefinitionPaths = [
    "resourceConfig.instanceType",
    "resourceConfig.instanceGroups[].instanceType",
    "hyperParameterTuningResourceConfig.instanceType",
    "hyperParameterTuningResourceConfig.instanceConfigs[].instanceType",
];

/** Paths of instance types per resource type; "[]" marks an array to fan out over. */
const paths: Record<string, { kind: Kind; path: string }[]> = {
    [T.endpointConfiguration]: [
        { kind: "endpointInstanceTypes", path: "productionVariants[].instanceType" },
        { kind: "endpointInstanceTypes", path: "shadowProductionVariants[].instanceType" },
    ],
    [T.trainingJob]: [
        { kind: "trainingInstanceTypes", path: "resourceConfig.instanceType" },
        { kind: "trainingInstanceTypes", path: "resourceConfig.instanceGroups[].instanceType" },
    ],
    [T.tuningJob]: ["trainingJobDefinition.", "trainingJobDefinitions[]."].flatMap((definition) =>
        trainingDefinitionPaths.map((path) => ({ kind: "trainingInstanceTypes" as const, path: definition + path })),
    ),
    [T.instance]: [{ kind: "ec2InstanceTypes", path: "instanceType" }],
    [T.spotInstanceRequest]: [{ kind: "ec2InstanceTypes", path: "instanceType" }],
    [T.launchTemplate]: [{ kind: "ec2InstanceTypes", path: "instanceType" }],
};

export const allowedInstanceTypes: ResourceValidationPolicy & Implements = {
    name,
    description: "SageMaker endpoint, training/tuning and EC2 instance types are within the per-environment allow lists.",
    enforcementLevel: "mandatory",
    controls: [],
    configSchema,
    validateResource: (args, reportViolation) => {
        const checks = paths[args.type];
        if (!checks) return;
        const config = args.getConfig<Config>();
        const unchecked = new Unchecked();
        const subject = label(args);
        for (const { kind, path } of checks) {
            for (const [where, value] of collect(args.props, path)) {
                if (value === UNKNOWN) unchecked.add(`${where} of ${subject}`);
                else if (typeof value === "string" && !config[kind].includes(value)) {
                    reportViolation(
                        `${subject} uses instance type ${value} at ${where}, which is not in ${name}.${kind} [${config[kind].join(", ")}] for this environment. ` +
                            `Use one of those types or add '${value}' to the allow list in the stack's policy config.`,
                    );
                }
            }
        }
        // A template-launched instance takes its type from the template, which is checked on its own.
        if ((args.type === T.instance || args.type === T.spotInstanceRequest) && str(args.props, "instanceType") === undefined && get(args.props, "launchTemplate") === undefined) {
            reportViolation(`${subject} has no instanceType. Set instanceType to one of [${config.ec2InstanceTypes.join(", ")}].`);
        }
        unchecked.finish();
    },
};
