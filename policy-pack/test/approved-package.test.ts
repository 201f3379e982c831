import { expect } from "chai";
import { sagemakerModelFromApprovedPackage } from "../policies/sagemaker/sagemaker-model-from-approved-package";
import { projectStack, spec } from "./fixtures";
import { Spec, U, validateStack } from "./harness";

const policy = sagemakerModelFromApprovedPackage;
const version = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-classifier-prod/3";

/** prod as this project deploys it: the model from version 3, which ApprovedModelVersion checks first. */
function fromApprovedVersion(): Spec[] {
    const specs = projectStack("prod");
    const model = spec(specs, "model");
    model.props.primaryContainer = { modelPackageName: version, environment: { SAGEMAKER_PROGRAM: "inference.py" } };
    model.propertyDependencies = { ...model.propertyDependencies, primaryContainer: ["registry-served-version"] };
    return [
        ...specs,
        {
            type: "pulumi-nodejs:dynamic/sagemaker-classifier:ApprovedModelVersion",
            name: "registry-served-version",
            props: { groupName: "sagemaker-classifier-prod", version: 3, modelPackageArn: version },
        },
    ];
}

async function messages(specs: Spec[]): Promise<string> {
    return (await validateStack(policy, specs, {})).violations.map((v) => v.message).join("\n");
}

describe("sagemaker-model-from-approved-package", () => {
    it("passes a model created from a package version whose approval the stack checks first", async () => {
        const out = await validateStack(policy, fromApprovedVersion(), {});
        expect(out.violations).to.deep.equal([]);
        expect(out.unchecked).to.equal(undefined);
    });

    it("passes a version the stack registered as Approved itself, even while its ARN is unknown at preview", async () => {
        const specs = fromApprovedVersion().filter((s) => s.name !== "registry-served-version");
        spec(specs, "model").props.primaryContainer = { modelPackageName: U };
        spec(specs, "model").propertyDependencies = { primaryContainer: ["registry-trained-version"] };
        specs.push({ type: "pulumi-nodejs:dynamic/sagemaker-classifier:ModelPackageVersion", name: "registry-trained-version", props: { groupName: "g", initialApproval: "Approved" } });
        expect(await messages(specs)).to.equal("");
        // Registered for manual approval: nothing says anyone approved it.
        spec(specs, "registry-trained-version").props.initialApproval = "PendingManualApproval";
        expect(await messages(specs)).to.include("nothing in the stack checks that this version is Approved");
    });

    it("rejects a model served straight from a training artifact", async () => {
        const specs = projectStack("prod");
        spec(specs, "model").props.primaryContainer = { image: "img", modelDataUrl: "s3://bucket/output/job/model.tar.gz" };
        expect(await messages(specs)).to.include("serves s3://bucket/output/job/model.tar.gz directly, not an approved model package version");
    });

    it("rejects a package version nothing checks, and an unversioned package", async () => {
        const unchecked = fromApprovedVersion().filter((s) => s.name !== "registry-served-version");
        expect(await messages(unchecked)).to.include(`serves model package ${version}, and nothing in the stack checks that this version is Approved`);
        const otherVersion = fromApprovedVersion();
        spec(otherVersion, "registry-served-version").props.modelPackageArn = version.replace(/3$/, "2");
        expect(await messages(otherVersion), "the check is of another version").to.include("nothing in the stack checks");
        const unversioned = fromApprovedVersion();
        spec(unversioned, "model").props.primaryContainer = { modelPackageName: "arn:aws:sagemaker:us-east-1:123456789012:model-package/marketplace-thing" };
        expect(await messages(unversioned)).to.include("is not a version of a model package group");
    });
});
