import { expect } from "chai";
import { parseConfig } from "../config";
import { END_OF_PATCH, endOfPatchWarning } from "../images";

const december2026 = "2026-12-01";

describe("PyTorch container images and their end of patch", () => {
    const { images } = parseConfig({ training: { mode: "existing", modelDataUrl: "s3://models/dog/model.tar.gz" } }, "dev");

    it("the default training images (CPU and GPU) are within their patch window", () => {
        expect(endOfPatchWarning("training", images.pytorchTrainingTag, december2026)).to.equal(undefined);
        expect(endOfPatchWarning("training", images.pytorchTrainingGpuTag, december2026)).to.equal(undefined);
        expect(images.pytorchTrainingTag).to.match(/^2\.10\.0-cpu-py313-ubuntu22\.04-sagemaker$/);
    });

    it("warns, naming the date, for a tag past its end of patch (the 2.6 images the stacks used)", () => {
        expect(endOfPatchWarning("training", "2.6.0-cpu-py312-ubuntu22.04-sagemaker", december2026))
            .to.match(/^pytorch-training:2\.6\.0-cpu-py312-ubuntu22\.04-sagemaker is past its end of patch \(2026-01-29\)/);
        // No newer PyTorch inference container exists, so the inference default is warned about too.
        expect(endOfPatchWarning("inference", images.pytorchInferenceTag, december2026)).to.match(/past its end of patch \(2026-06-30\)/);
        expect(endOfPatchWarning("inference", images.pytorchInferenceTag, "2026-06-30")).to.equal(undefined);
    });

    it("says nothing about a version it has no date for", () => {
        expect(endOfPatchWarning("training", "2.13.0-cpu-py312-ubuntu22.04-sagemaker", december2026)).to.equal(undefined);
        expect(endOfPatchWarning("inference", "latest", december2026)).to.equal(undefined);
        expect(Object.keys(END_OF_PATCH.training)).to.include("2.10");
    });
});
