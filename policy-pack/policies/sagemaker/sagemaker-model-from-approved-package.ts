/**
 * A model deployed straight from a training job's artifact went to production without anyone looking at it. The
 * SageMaker Model Registry's answer is a model package version that a person approves; a model created from that
 * version (ContainerDefinition.ModelPackageName) serves exactly what was approved.
 *
 * A policy sees only the stack's inputs, not SageMaker's approval status, so it requires both halves of the gate:
 * every container of every aws.sagemaker.Model names a model package *version* (…:model-package/<group>/<n>), and
 * the stack holds a check that this version is Approved before anything changes, i.e. a resource whose
 * `modelPackageArn` input is that version and which the model depends on (this project's ApprovedModelVersion). A
 * version the stack registers as Approved itself (auto approval) counts as well: a resource whose
 * `initialApproval` is "Approved" and whose registered `modelPackageArn` the model uses.
 *
 * Industry controls: Prowler sagemaker_models_registry_in_use (an approved package in the Model Registry).
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { Implements } from "../../lib/controls";
import { label } from "../../lib/label";
import { StackIndex, T } from "../../lib/stack";
import { get, list, str, Unchecked, UNKNOWN } from "../../lib/unknown";

const name = "sagemaker-model-from-approved-package";
const VERSIONED_PACKAGE = /:model-package\/[^/]+\/\d+$/;

/** The containers of a model: its primary container and any in `containers`. */
function containers(model: PolicyResource): unknown[] {
    const primary = get(model.props, "primaryContainer");
    const more = list(model.props, "containers");
    return [...(primary === undefined ? [] : [primary]), ...(Array.isArray(more) ? more : more === UNKNOWN ? [UNKNOWN] : [])];
}

/** The stack's resources that vouch for a version's approval: a check of it, or a registration as Approved. */
function approvalOf(model: PolicyResource, packageArn: string | typeof UNKNOWN): PolicyResource | undefined {
    const vouches = (r: PolicyResource) => {
        const arn = str(r.props, "modelPackageArn");
        const approvedHere = str(r.props, "initialApproval") === "Approved";
        const checked = get(r.props, "version") !== undefined && str(r.props, "groupName") !== undefined && str(r.props, "initialApproval") === undefined;
        // A version unknown until created can only come from the voucher the model depends on.
        return (checked || approvedHere) && (packageArn === UNKNOWN || arn === packageArn);
    };
    const upstream = [...(model.propertyDependencies?.primaryContainer ?? []), ...(model.propertyDependencies?.containers ?? []), ...(model.dependencies ?? [])];
    return upstream.find(vouches);
}

export const sagemakerModelFromApprovedPackage: StackValidationPolicy & Implements = {
    name,
    controls: ["Prowler sagemaker_models_registry_in_use"],
    description:
        "Every aws.sagemaker.Model's containers are created from a model package version (modelPackageName …:model-package/<group>/<n>), " +
        "and the stack checks that version is Approved before the model is created (a resource the model depends on whose modelPackageArn " +
        "is that version). Implements Prowler sagemaker_models_registry_in_use.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const index = new StackIndex(args.resources);
        const unchecked = new Unchecked();
        const fix = "Register the model in the stack's model package group, have it approved, and create the model from the approved version " +
            "(this project: modelRegistry.servedVersion; else primaryContainer.modelPackageName with a check of its approval status).";
        for (const model of index.of(T.model)) {
            const found = containers(model);
            if (found.length === 0) {
                reportViolation(`${label(model)} has no container to check. ${fix}`, model.urn);
                continue;
            }
            for (const container of found) {
                if (container === UNKNOWN) {
                    unchecked.add(`the containers of ${label(model)}`);
                    continue;
                }
                const packageArn = str(container, "modelPackageName");
                if (packageArn === undefined) {
                    const artifact = str(container, "modelDataUrl");
                    reportViolation(`${label(model)} serves ${typeof artifact === "string" ? artifact : "a model artifact"} directly, not an approved model package version, ` +
                        `so nobody approved what it serves. ${fix}`, model.urn);
                    continue;
                }
                if (packageArn !== UNKNOWN && !VERSIONED_PACKAGE.test(packageArn)) {
                    reportViolation(`${label(model)} names model package ${packageArn}, which is not a version of a model package group (…:model-package/<group>/<n>), so it has no approval status. ${fix}`, model.urn);
                    continue;
                }
                if (!approvalOf(model, packageArn)) {
                    reportViolation(`${label(model)} serves model package ${packageArn === UNKNOWN ? "(a version unknown until created)" : packageArn}, and nothing in the stack checks ` +
                        `that this version is Approved before the model is created. ${fix}`, model.urn);
                }
            }
        }
        unchecked.finish();
    },
};
