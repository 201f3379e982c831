/**
 * Application Auto Scaling refuses an endpoint update that changes the instance type of a variant registered
 * as a scalable target, so the target must be deregistered before the endpoint moves to the new type and
 * registered again after. This dynamic resource (no cloud calls) stands for the variant's shape. It is
 * replaced, delete-before-replace, whenever the instance type changes, and the scalable target takes its
 * resource id from it (a replace-on-change input), so on such a change Pulumi deletes the scaling policy and
 * target first, then replaces the shape. The endpoint takes a tag from the shape (an in-place input), so its
 * update waits for that; the target and policy are created again after the endpoint, which they depend on.
 */
import * as pulumi from "@pulumi/pulumi";

export interface VariantShapeInputs {
    /** `endpoint/<endpoint>/variant/<variant>`: the scalable target's resource id, known before anything exists. */
    scalableResourceId: string;
    instanceType: string;
}

export class VariantShapeProvider implements pulumi.dynamic.ResourceProvider {
    async create(inputs: VariantShapeInputs): Promise<pulumi.dynamic.CreateResult<VariantShapeInputs>> {
        return { id: `${inputs.scalableResourceId}/${inputs.instanceType}`, outs: inputs };
    }

    async diff(_id: string, olds: VariantShapeInputs, news: VariantShapeInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = (["scalableResourceId", "instanceType"] as const).filter((key) => olds[key] !== news[key]);
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
    }
}

export class VariantShape extends pulumi.dynamic.Resource {
    declare readonly scalableResourceId: pulumi.Output<string>;
    declare readonly instanceType: pulumi.Output<string>;

    constructor(name: string, args: VariantShapeInputs, opts?: pulumi.CustomResourceOptions) {
        super(new VariantShapeProvider(), name, { ...args }, { ...opts, deleteBeforeReplace: true }, "sagemaker-classifier", "VariantShape");
    }
}
