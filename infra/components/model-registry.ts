/**
 * The approval gate: a SageMaker Model Package Group per stack, every model the stack trains registered in it as a
 * version with its metrics, and the endpoint serving only the version the stack config pins, once a person has
 * approved it.
 *
 * The AWS provider has the group (`aws.sagemaker.ModelPackageGroup`) but no resource for its versions, so:
 * - `ModelPackageVersion` registers a trained model (CreateModelPackage, idempotent through a ClientToken derived
 *   from the model) as `PendingManualApproval`, or `Approved` where the stack approves automatically. Approval
 *   happens by hand (UpdateModelPackage), outside Pulumi, so the approval status is never compared by its diff nor
 *   read back into its state: an approval never shows up as drift. Replacing it (a new model) registers a new
 *   version; the old one stays in the group, which is the record of what was trained and approved.
 * - `ApprovedModelVersion` checks, in Check (every preview, and the preview `pulumi up` runs before changing
 *   anything), that the pinned version exists and is `Approved`, and otherwise stops with a message naming the
 *   version and the command that approves it. The endpoint's model is created from that version's ARN.
 * - `ModelRegistryCleanup`: SageMaker refuses to delete a group that still has versions, so on `pulumi destroy` of
 *   a stack that deletes its registry this resource (which depends on the group, so is deleted first) deletes the
 *   versions. A stack that retains its registry (prod, like its bucket) keeps group and versions.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import {
    CreateModelPackageCommand,
    DeleteModelPackageCommand,
    DescribeModelPackageCommand,
    DescribeModelPackageCommandOutput,
    ListModelPackagesCommand,
    SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { AwsContext } from "../aws-context";
import { AwsDynamicProvider, AwsIdentity, AwsSdkSettings, sdkClientConfig } from "../aws-sdk-settings";
import { approveCommand, modelPackageVersionArn } from "../names";

export interface SageMakerApi {
    send: SageMakerClient["send"];
}

export type RegistryClientFactory = (sdk: AwsSdkSettings, identity: AwsIdentity) => SageMakerApi;

const defaultClient: RegistryClientFactory = (sdk, identity) => new SageMakerClient(sdkClientConfig(sdk, identity));

export type ApprovalStatus = "PendingManualApproval" | "Approved";


function isNotFound(error: unknown): boolean {
    const err = error as { name?: string; message?: string };
    return err?.name === "ResourceNotFound" || (err?.name === "ValidationException" && /does not exist|not found|could not find/i.test(err.message ?? ""));
}

export interface ModelPackageVersionInputs {
    sdk: AwsSdkSettings;
    groupName: string;
    image: string;
    modelDataUrl: string;
    /** What the serving container needs in any stack: the entry point and where it is unpacked. */
    environment: Record<string, string>;
    /** The training job the model comes from, and its objective metric. */
    trainingJobName: string;
    metrics: Record<string, number>;
    /** The status a new version is registered with; later approvals are people's, not the stack's. */
    initialApproval: ApprovalStatus;
}

export interface ModelPackageVersionOutputs extends ModelPackageVersionInputs {
    modelPackageArn: string;
    version: number;
}

export class ModelPackageVersionProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: RegistryClientFactory = defaultClient) {
        super();
    }

    async create(inputs: ModelPackageVersionInputs): Promise<pulumi.dynamic.CreateResult<ModelPackageVersionOutputs>> {
        const client = this.clientFactory(inputs.sdk, this.identity);
        const created = await client.send(new CreateModelPackageCommand({
            ModelPackageGroupName: inputs.groupName,
            ModelPackageDescription: `trained by ${inputs.trainingJobName}`,
            InferenceSpecification: {
                Containers: [{ Image: inputs.image, ModelDataUrl: inputs.modelDataUrl, Environment: inputs.environment }],
                // What inference.py takes: image bytes, and {"url"} JSON where endpoint.urlInput allows it.
                SupportedContentTypes: ["image/jpeg", "image/png", "application/json"],
                SupportedResponseMIMETypes: ["application/json"],
            },
            ModelApprovalStatus: inputs.initialApproval,
            CustomerMetadataProperties: {
                trainingJob: inputs.trainingJobName,
                ...Object.fromEntries(Object.entries(inputs.metrics).map(([metric, value]) => [`metric:${metric}`, String(value)])),
            },
            // A retry of the same registration (a create whose result never reached the state) returns the same version.
            ClientToken: crypto.createHash("sha256").update(JSON.stringify([inputs.groupName, inputs.image, inputs.modelDataUrl])).digest("hex").slice(0, 36),
        }));
        const arn = created.ModelPackageArn;
        if (!arn) throw new Error(`SageMaker registered no model package version in ${inputs.groupName}`);
        return { id: arn, outs: { ...inputs, modelPackageArn: arn, version: Number(arn.split("/").pop()) } };
    }

    async diff(_id: string, olds: ModelPackageVersionOutputs, news: ModelPackageVersionInputs): Promise<pulumi.dynamic.DiffResult> {
        // A version is immutable: another model is another version. The approval status is nobody's input here.
        const replaces = (["groupName", "image", "modelDataUrl", "environment"] as const).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        if (olds.sdk?.region !== news.sdk.region) replaces.push("groupName");
        const changes = replaces.length > 0 || JSON.stringify([olds.trainingJobName, olds.metrics]) !== JSON.stringify([news.trainingJobName, news.metrics]);
        return { changes, replaces, deleteBeforeReplace: false };
    }

    async update(_id: string, olds: ModelPackageVersionOutputs, news: ModelPackageVersionInputs): Promise<pulumi.dynamic.UpdateResult<ModelPackageVersionOutputs>> {
        return { outs: { ...news, modelPackageArn: olds.modelPackageArn, version: olds.version } };
    }
}

export interface ApprovedModelVersionInputs {
    sdk: AwsSdkSettings;
    groupName: string;
    version: number;
    modelPackageArn: string;
}

export interface ApprovedModelVersionOutputs extends ApprovedModelVersionInputs {
    /** What the version serves, from its inference specification. */
    modelDataUrl: string;
}

export class ApprovedModelVersionProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: RegistryClientFactory = defaultClient) {
        super();
    }

    /** Refuses, before anything changes, a pinned version that does not exist or is not Approved. */
    async check(_olds: ApprovedModelVersionInputs, news: ApprovedModelVersionInputs): Promise<pulumi.dynamic.CheckResult<ApprovedModelVersionInputs>> {
        await this.approvedVersion(news);
        return { inputs: news };
    }

    async create(inputs: ApprovedModelVersionInputs): Promise<pulumi.dynamic.CreateResult<ApprovedModelVersionOutputs>> {
        return { id: inputs.modelPackageArn, outs: { ...inputs, modelDataUrl: await this.approvedVersion(inputs) } };
    }

    async diff(_id: string, olds: ApprovedModelVersionOutputs, news: ApprovedModelVersionInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = olds.modelPackageArn !== news.modelPackageArn ? ["modelPackageArn"] : [];
        return { changes: replaces.length > 0 || olds.sdk?.region !== news.sdk.region, replaces, deleteBeforeReplace: false };
    }

    async update(_id: string, _olds: ApprovedModelVersionOutputs, news: ApprovedModelVersionInputs): Promise<pulumi.dynamic.UpdateResult<ApprovedModelVersionOutputs>> {
        return { outs: { ...news, modelDataUrl: await this.approvedVersion(news) } };
    }

    private async approvedVersion(inputs: ApprovedModelVersionInputs): Promise<string> {
        const where = `version ${inputs.version} of model package group ${inputs.groupName}`;
        let described: DescribeModelPackageCommandOutput;
        try {
            described = await this.clientFactory(inputs.sdk, this.identity).send(new DescribeModelPackageCommand({ ModelPackageName: inputs.modelPackageArn }));
        } catch (error) {
            if (!isNotFound(error)) throw error;
            throw new Error(`modelRegistry.servedVersion is ${inputs.version}, but there is no ${where}: \`npm run status\` lists the versions. ` +
                "A stack registers a version when it trains; the first pulumi up of a stack that approves by hand runs without modelRegistry.servedVersion");
        }
        const status = described.ModelApprovalStatus ?? "Unknown";
        if (status !== "Approved") {
            throw new Error(`${where} is ${status}, and the endpoint serves only approved models. Review it (\`npm run status\` shows its metrics), ` +
                `approve it with: ${approveCommand(inputs.modelPackageArn, inputs.sdk.region)}, and run pulumi up again`);
        }
        const url = described.InferenceSpecification?.Containers?.[0]?.ModelDataUrl;
        if (!url) throw new Error(`${where} has no model data in its inference specification`);
        return url;
    }
}

export interface ModelRegistryCleanupInputs {
    sdk: AwsSdkSettings;
    groupName: string;
}

export class ModelRegistryCleanupProvider extends AwsDynamicProvider implements pulumi.dynamic.ResourceProvider {
    constructor(private readonly clientFactory: RegistryClientFactory = defaultClient) {
        super();
    }

    async create(inputs: ModelRegistryCleanupInputs): Promise<pulumi.dynamic.CreateResult<ModelRegistryCleanupInputs>> {
        return { id: inputs.groupName, outs: inputs };
    }

    /** Deletes every version of the group, so that the group itself can be deleted next. */
    async delete(_id: string, props: ModelRegistryCleanupInputs): Promise<void> {
        const client = this.clientFactory(props.sdk, this.identity);
        let nextToken: string | undefined;
        const arns: string[] = [];
        do {
            const page = await client.send(new ListModelPackagesCommand({ ModelPackageGroupName: props.groupName, MaxResults: 100, NextToken: nextToken }));
            arns.push(...(page.ModelPackageSummaryList ?? []).map((p) => p.ModelPackageArn).filter((a): a is string => !!a));
            nextToken = page.NextToken;
        } while (nextToken);
        for (const ModelPackageName of arns) {
            try {
                await client.send(new DeleteModelPackageCommand({ ModelPackageName }));
            } catch (error) {
                if (!isNotFound(error)) throw error;
            }
        }
    }
}

export interface TrainedModel {
    image: pulumi.Input<string>;
    modelDataUrl: pulumi.Input<string>;
    environment: Record<string, pulumi.Input<string>>;
    trainingJobName: pulumi.Input<string>;
    metrics: pulumi.Input<Record<string, pulumi.Input<number>>>;
}

export interface ModelRegistryArgs {
    groupName: string;
    context: AwsContext;
    sdk: pulumi.Input<AwsSdkSettings>;
    /** `retain` (prod): group and versions stay on destroy, as the bucket does; `delete`: versions, then group. */
    onDestroy: "retain" | "delete";
    /** The model this stack trained, registered as a version. */
    trained?: TrainedModel;
    /** `manual`: registered PendingManualApproval; `auto`: registered Approved. */
    approval: "manual" | "auto";
    /** The version the endpoint serves (`modelRegistry.servedVersion`), checked Approved before anything changes. */
    servedVersion?: number;
    tags: Record<string, string>;
}

export class ModelRegistry extends pulumi.ComponentResource {
    readonly groupName: pulumi.Output<string>;
    /** The version this stack's training registered, if it trains. */
    readonly registeredVersion?: pulumi.Output<number>;
    /** The approved version the endpoint serves; undefined while there is none (train, approve, then pin). */
    readonly servedModelPackageArn?: pulumi.Output<string>;

    constructor(name: string, args: ModelRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sagemaker-classifier:registry:ModelRegistry", name, {}, opts);
        const retain = args.onDestroy === "retain";
        const group = new aws.sagemaker.ModelPackageGroup(`${name}-group`, {
            modelPackageGroupName: args.groupName,
            modelPackageGroupDescription: "Models this stack trained; the endpoint serves the approved version its config pins",
            tags: args.tags,
        }, { parent: this, retainOnDelete: retain });
        if (!retain) {
            new ModelRegistryCleanup(`${name}-cleanup`, { sdk: args.sdk, groupName: group.modelPackageGroupName }, { parent: this });
        }
        const registered = args.trained && new ModelPackageVersion(`${name}-trained-version`, {
            sdk: args.sdk,
            groupName: group.modelPackageGroupName,
            ...args.trained,
            initialApproval: args.approval === "manual" ? "PendingManualApproval" : "Approved",
        }, { parent: this });
        if (args.servedVersion !== undefined) {
            const { partition, region, accountId } = args.context;
            const gate = new ApprovedModelVersion(`${name}-served-version`, {
                sdk: args.sdk,
                groupName: group.modelPackageGroupName,
                version: args.servedVersion,
                modelPackageArn: pulumi.all([partition, region, accountId, group.modelPackageGroupName])
                    .apply(([p, r, a, g]) => modelPackageVersionArn(p, r, a, g, args.servedVersion as number)),
            }, { parent: this });
            this.servedModelPackageArn = gate.modelPackageArn;
        } else if (registered && args.approval === "auto") {
            // Registered Approved: nobody has to approve it, so the endpoint serves what this stack trained.
            this.servedModelPackageArn = registered.modelPackageArn;
        }
        this.registeredVersion = registered?.version;
        this.groupName = group.modelPackageGroupName;
        this.registerOutputs({ groupName: this.groupName });
    }
}

export interface ModelPackageVersionArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
    groupName: pulumi.Input<string>;
    image: pulumi.Input<string>;
    modelDataUrl: pulumi.Input<string>;
    environment: Record<string, pulumi.Input<string>>;
    trainingJobName: pulumi.Input<string>;
    metrics: pulumi.Input<Record<string, pulumi.Input<number>>>;
    initialApproval: ApprovalStatus;
}

export class ModelPackageVersion extends pulumi.dynamic.Resource {
    declare readonly modelPackageArn: pulumi.Output<string>;
    declare readonly version: pulumi.Output<number>;

    constructor(name: string, args: ModelPackageVersionArgs, opts?: pulumi.CustomResourceOptions) {
        super(new ModelPackageVersionProvider(), name, { ...args, modelPackageArn: undefined, version: undefined }, opts, "sagemaker-classifier", "ModelPackageVersion");
    }
}

export interface ApprovedModelVersionArgs {
    sdk: pulumi.Input<AwsSdkSettings>;
    groupName: pulumi.Input<string>;
    version: number;
    modelPackageArn: pulumi.Input<string>;
}

export class ApprovedModelVersion extends pulumi.dynamic.Resource {
    declare readonly modelPackageArn: pulumi.Output<string>;
    declare readonly modelDataUrl: pulumi.Output<string>;

    constructor(name: string, args: ApprovedModelVersionArgs, opts?: pulumi.CustomResourceOptions) {
        super(new ApprovedModelVersionProvider(), name, { ...args, modelDataUrl: undefined }, opts, "sagemaker-classifier", "ApprovedModelVersion");
    }
}

export class ModelRegistryCleanup extends pulumi.dynamic.Resource {
    constructor(name: string, args: { sdk: pulumi.Input<AwsSdkSettings>; groupName: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(new ModelRegistryCleanupProvider(), name, { ...args }, opts, "sagemaker-classifier", "ModelRegistryCleanup");
    }
}
