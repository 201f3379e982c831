"""classifier/quantize.py: train.py ships an int8 model only where the test split says it answers as fp32 does, and
model_fn serves what the report beside the model allows, saying which."""
from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

import inference
from classifier.config import QuantizationPolicy
from classifier.quantize import INT8_FILE, REPORT_FILE, quantize_for_serving, serving_precision
from conftest import (
    CLASS_COLOURS, SAGEMAKER_HYPERPARAMETERS, TrainedModel, colour_image, run_script, sagemaker_env,
)


def report_of(model_dir: Path) -> dict:
    return json.loads((model_dir / REPORT_FILE).read_text())


def test_training_measures_int8_on_the_test_split_and_ships_it_within_the_thresholds(trained_model: TrainedModel) -> None:
    report = report_of(trained_model.model_dir)
    assert report["serve"] == "int8", report["reason"]
    assert report["policy"] == {"enabled": True, "minAgreement": 0.99, "maxAccuracyDrop": 0.005}
    test = report["test"]
    # The conftest dataset: 4 test and 4 validation images per class, 3 classes.
    assert test["images"] == 12 and report["calibrationImages"] == 12
    assert test["agreement"] >= 0.99 and test["accuracyDrop"] <= 0.005
    assert test["fp32Accuracy"] == json.loads((trained_model.output_dir / "metrics.json").read_text())["test_accuracy"]
    assert (trained_model.model_dir / INT8_FILE).is_file()
    assert "Quantization: shipping int8 (top-1 agreement 1.0000" in trained_model.result.stdout


def test_model_fn_serves_int8_when_the_report_allows_it_and_says_so(trained_model: TrainedModel,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="classifier.prepare"):
        served = inference.model_fn(str(trained_model.model_dir))
    assert served.preparation.precision == "int8", served.preparation.precision_reason
    assert "in int8 as torchscript" in caplog.text and "the quantization report allows int8" in caplog.text
    # The rebuild is part of a worker's cold start, which TorchServe bounds: the log says what it cost.
    assert re.search(r"int8 rebuilt in \d+\.\d\d s, prepared in", caplog.text)
    requests = [inference.ImageRequest(image=colour_image(colour, seed), top_k=1)
                for seed, colour in enumerate(CLASS_COLOURS.values(), start=500)]
    answers = [json.loads(inference.output_fn(prediction))["predictions"][0]["label"]
               for prediction in inference.predict_fn(requests, served)]
    assert answers == ["red", "green", "blue"]


def test_the_off_switch_ships_fp32_and_model_fn_says_why(dataset_dir: Path, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    model_dir = tmp_path / "model"
    result = run_script("train.py", [*SAGEMAKER_HYPERPARAMETERS, "--quantize", "false"],
                        sagemaker_env(dataset_dir, model_dir, tmp_path / "output"))
    assert result.returncode == 0, result.stdout + result.stderr
    report = report_of(model_dir)
    assert (report["serve"], report["test"]) == ("fp32", None)
    assert report["reason"] == "quantization is off (hyperparameter quantize=false)"
    assert not (model_dir / INT8_FILE).exists()
    assert "Quantization: shipping fp32: quantization is off" in result.stdout
    with caplog.at_level(logging.INFO, logger="classifier.prepare"):
        served = inference.model_fn(str(model_dir))
    assert served.preparation.precision == "fp32"
    assert "the quantization report says fp32: quantization is off" in caplog.text


@pytest.mark.parametrize("option, value", [("--quantization-min-agreement", "1.5"),
                                           ("--quantization-max-accuracy-drop", "-0.1"), ("--quantize", "maybe")])
def test_bad_thresholds_are_refused_by_name(dataset_dir: Path, tmp_path: Path, option: str, value: str) -> None:
    result = run_script("train.py", [*SAGEMAKER_HYPERPARAMETERS, option, value],
                        sagemaker_env(dataset_dir, tmp_path / "model", tmp_path / "output"))
    assert result.returncode == 2
    assert f"argument {option}" in result.stderr and repr(value) in result.stderr


class Marginal(nn.Module):
    """Class 1 wins by 1e-3 on every input: far less than one step of an int8 activation over the input's range,
    so int8 ties the two classes (argmax picks class 0) where fp32 picks class 1."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 2, kernel_size=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            self.features[0].weight.copy_(torch.tensor([[1.0, 0, 0], [1.0, 0, 0]]).view(2, 3, 1, 1))
            self.features[0].bias.copy_(torch.tensor([0.0, 1e-3]))
            self.fc.weight.copy_(torch.eye(2))
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def marginal_data(count: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(count, 3, 8, 8, generator=generator)
    return [(images[i:i + 4], torch.ones(len(images[i:i + 4]), dtype=torch.long)) for i in range(0, count, 4)]


@pytest.mark.parametrize("policy, serve", [
    (QuantizationPolicy(), "fp32"),
    # The same measurement against thresholds it meets: what decides is the thresholds, not the model.
    (QuantizationPolicy(min_agreement=0.0, max_accuracy_drop=1.0), "int8"),
])
def test_a_threshold_the_int8_model_fails_ships_fp32_with_the_reason(tmp_path: Path, policy: QuantizationPolicy,
                                                                     serve: str) -> None:
    model = Marginal().eval()
    report = quantize_for_serving(model, 8, calibration=(inputs for inputs, _ in marginal_data(16, seed=1)),
                                  test=marginal_data(32, seed=2), policy=policy, model_dir=str(tmp_path))
    written = report_of(tmp_path)
    assert written == report.to_json()
    assert written["test"]["fp32Accuracy"] == 1.0 and written["test"]["agreement"] < 0.9
    assert written["serve"] == serve and (tmp_path / INT8_FILE).exists() == (serve == "int8")
    precision = serving_precision(str(tmp_path), model, 8)
    assert precision.name == serve
    if serve == "fp32":
        assert written["reason"].startswith("top-1 agreement with fp32 ")
        assert "is below 0.99" in written["reason"] and "more than 0.005" in written["reason"]
        assert precision.reason == f"the quantization report says fp32: {written['reason']}"


def test_a_course_style_directory_is_served_fp32(tmp_path: Path, trained_model: TrainedModel) -> None:
    shutil.copy(trained_model.model_dir / "model.pth", tmp_path / "model.pth")
    precision = serving_precision(str(tmp_path), nn.Linear(1, 1), 32)
    assert precision.int8 is None and precision.reason.startswith(f"no {REPORT_FILE} in the model directory")


def test_a_calibration_that_does_not_rebuild_the_recorded_model_is_served_fp32(
        trained_model: TrainedModel, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    artifact = torch.load(model_dir / INT8_FILE, weights_only=True)
    artifact["fingerprint"]["logits"] = artifact["fingerprint"]["logits"] + 10
    torch.save(artifact, model_dir / INT8_FILE)
    with caplog.at_level(logging.INFO, logger="classifier.prepare"):
        served = inference.model_fn(str(model_dir))
    assert served.preparation.precision == "fp32" and served.preparation.method == "torchscript"
    assert "the int8 model did not rebuild (QuantizationError: its logits differ from the ones recorded" in caplog.text

    del artifact["observers"][next(iter(artifact["observers"]))]
    torch.save(artifact, model_dir / INT8_FILE)
    loaded = inference.load_model_dir(str(model_dir))
    precision = serving_precision(str(model_dir), loaded.model, loaded.config.image_size)
    assert precision.int8 is None and "the calibration does not fit this model's observers" in precision.reason
