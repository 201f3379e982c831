/**
 * Linking resources in a stack policy: by a known property value (a name or ARN) when there is one, by
 * the engine's property dependencies or resource dependencies when preview leaves the value unknown.
 * Everything is indexed once per evaluation so linking stays linear in the number of resources.
 */
import { PolicyResource } from "@pulumi/policy";
import { str, UNKNOWN } from "./unknown";

export const T = {
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    policy: "aws:iam/policy:Policy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    groupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    userPolicyAttachmentsExclusive: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    groupPolicyAttachmentsExclusive: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
    userPolicy: "aws:iam/userPolicy:UserPolicy",
    groupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    lambdaFunction: "aws:lambda/function:Function",
    lambdaAlias: "aws:lambda/alias:Alias",
    provisionedConcurrency: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    lambdaPermission: "aws:lambda/permission:Permission",
    functionUrl: "aws:lambda/functionUrl:FunctionUrl",
    scalableTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    endpoint: "aws:sagemaker/endpoint:Endpoint",
    endpointConfiguration: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    trainingJob: "aws:sagemaker/trainingJob:TrainingJob",
    tuningJob: "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob",
    model: "aws:sagemaker/model:Model",
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    volume: "aws:ebs/volume:Volume",
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketAcl: "aws:s3/bucketAcl:BucketAcl",
    bucketAclV2: "aws:s3/bucketAclV2:BucketAclV2",
    kmsKey: "aws:kms/key:Key",
    kmsKeyPolicy: "aws:kms/keyPolicy:KeyPolicy",
    notebookInstance: "aws:sagemaker/notebookInstance:NotebookInstance",
    spotInstanceRequest: "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    scheduledAction: "aws:appautoscaling/scheduledAction:ScheduledAction",
    bucketSseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    bucketLogging: "aws:s3/bucketLogging:BucketLogging",
    bucketLoggingV2: "aws:s3/bucketLoggingV2:BucketLoggingV2",
    dataQualityJobDefinition: "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    sagemakerDomain: "aws:sagemaker/domain:Domain",
    notebookLifecycleConfiguration: "aws:sagemaker/notebookInstanceLifecycleConfiguration:NotebookInstanceLifecycleConfiguration",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    compositeAlarm: "aws:cloudwatch/compositeAlarm:CompositeAlarm",
    apiV2: "aws:apigatewayv2/api:Api",
    apiV2Route: "aws:apigatewayv2/route:Route",
    apiV2Stage: "aws:apigatewayv2/stage:Stage",
} as const;

export class StackIndex {
    private readonly byType = new Map<string, PolicyResource[]>();
    /** type -> identifier (name, ARN, id) -> resources. */
    private readonly byKey = new Map<string, Map<string, PolicyResource[]>>();

    constructor(readonly resources: PolicyResource[]) {
        for (const resource of resources) {
            let group = this.byType.get(resource.type);
            if (!group) this.byType.set(resource.type, (group = []));
            group.push(resource);
        }
    }

    of(type: string): PolicyResource[] {
        return this.byType.get(type) ?? [];
    }

    /**
     * Resources of `type` whose `keyProps` (e.g. "name", "arn") equal a value. Built lazily per type.
     */
    find(type: string, value: string, keyProps: string[] = ["name", "arn", "id"]): PolicyResource[] {
        const indexKey = `${type}|${keyProps.join(",")}`;
        let index = this.byKey.get(indexKey);
        if (!index) {
            index = new Map();
            for (const resource of this.of(type)) {
                for (const prop of keyProps) {
                    const v = str(resource.props, prop);
                    if (typeof v !== "string") continue;
                    const list = index.get(v) ?? [];
                    if (!list.includes(resource)) list.push(resource);
                    index.set(v, list);
                }
            }
            this.byKey.set(indexKey, index);
        }
        return index.get(value) ?? [];
    }
}

export type Link =
    | { kind: "linked"; targets: PolicyResource[] }
    /** The property holds a known value naming nothing in this stack (e.g. an existing resource). */
    | { kind: "external"; value: string }
    /** Unknown value and no dependency on a resource of the wanted type. */
    | { kind: "unlinked" }
    | { kind: "absent" };

/**
 * Resolves `resource.props[prop]` to resources of `type`: by value (normalised with `toKey`, e.g. an ARN
 * to a name) when known, else through `propertyDependencies[prop]`, else through `dependencies`.
 */
export function link(
    index: StackIndex,
    resource: PolicyResource,
    prop: string,
    type: string,
    toKey: (value: string) => string[] = (v) => [v],
): Link {
    const value = str(resource.props, prop);
    if (value === undefined) return { kind: "absent" };
    const viaProperty = (resource.propertyDependencies?.[prop] ?? []).filter((d) => d.type === type);
    if (value !== UNKNOWN) {
        for (const key of toKey(value)) {
            const found = index.find(type, key);
            if (found.length > 0) return { kind: "linked", targets: found };
        }
        // Under ignoreChanges the engine hands policies the state's value of the property, which may name a
        // resource the program has since replaced (an endpoint whose configuration another resource rolls out);
        // the program's own value still shows in the property's dependencies.
        if (resource.opts?.ignoreChanges?.includes(prop) && viaProperty.length > 0) return { kind: "linked", targets: viaProperty };
        return { kind: "external", value };
    }
    if (viaProperty.length > 0) return { kind: "linked", targets: viaProperty };
    const viaDependencies = (resource.dependencies ?? []).filter((d) => d.type === type);
    if (viaDependencies.length > 0) return { kind: "linked", targets: viaDependencies };
    return { kind: "unlinked" };
}

/** Last path segment of an ARN-ish string, plus the string itself: keys to try when matching by name. */
export function nameKeys(value: string): string[] {
    const keys = [value];
    const afterColon = value.split(":").pop() ?? value;
    const afterSlash = afterColon.split("/").pop() ?? afterColon;
    if (afterSlash !== value) keys.push(afterSlash);
    return keys;
}
