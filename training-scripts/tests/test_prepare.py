"""classifier/prepare.py: the model an endpoint worker serves is the same model as eager, or eager itself when
it cannot be prepared; and inference.py's predict_fn answers a batch as it answers each request."""
from __future__ import annotations

import logging
import random
from typing import List

import pytest
import torch
from PIL import Image
from torch import nn

import inference
from classifier.artifacts import LoadedModel, ModelConfig, default_class_names
from classifier.data import eval_transform
from classifier.model import IMAGENET_MEAN, IMAGENET_STD, build_model
from classifier.prepare import (
    LOGIT_TOLERANCE, max_batch_size, optimiser_from_env, prepare_model, serving_threads, torchscript_optimise,
)
from conftest import CLASS_COLOURS, TrainedModel, colour_image

# Small images keep ResNet-50's forward pass cheap on a shared CPU; the traced graph is the same at 224.
TEST_IMAGE_SIZE = 96


def photo_like(seed: int, width: int = 160, height: int = 120) -> Image.Image:
    """Smooth colour fields with noise: spreads the logits the way photographs do, unlike flat colours."""
    rng = random.Random(seed)
    small = Image.new("RGB", (8, 6))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(48)])
    return small.resize((width, height), Image.BICUBIC)


def resnet50_loaded(seed: int = 0) -> LoadedModel:
    torch.manual_seed(seed)
    config = ModelConfig(model_name="resnet50", num_classes=133, image_size=TEST_IMAGE_SIZE,
                         mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD))
    return LoadedModel(model=build_model("resnet50", 133, pretrained=False).eval(), config=config,
                       class_names=default_class_names(133))


def generated_batch(config: ModelConfig, count: int = 8) -> torch.Tensor:
    transform = eval_transform(config.image_size, config.mean, config.std)
    return torch.stack([transform(photo_like(seed)) for seed in range(count)])


def test_prepared_resnet50_has_the_logits_and_top1_of_eager() -> None:
    loaded = resnet50_loaded()
    images = generated_batch(loaded.config)
    with torch.inference_mode():
        eager = loaded.model(images)
    served = prepare_model(loaded, threads=torch.get_num_threads())
    assert served.preparation.method == "torchscript", served.preparation.fallback_reason
    assert isinstance(served.forward, torch.jit.ScriptModule)
    with torch.inference_mode():
        prepared = served.forward(images)
    assert float((prepared - eager).abs().max()) <= LOGIT_TOLERANCE
    assert prepared.argmax(dim=1).tolist() == eager.argmax(dim=1).tolist()
    # The generated set is not degenerate: the images do not all land on one class.
    assert len(set(eager.argmax(dim=1).tolist())) > 1


def test_channels_last_preparation_is_the_same_model() -> None:
    loaded = resnet50_loaded(seed=1)
    images = generated_batch(loaded.config, count=4)
    with torch.inference_mode():
        eager = loaded.model(images)
    served = prepare_model(loaded, threads=torch.get_num_threads(), channels_last=True)
    assert served.memory_format == torch.channels_last and served.preparation.channels_last
    with torch.inference_mode():
        prepared = served.forward(images.contiguous(memory_format=torch.channels_last))
    assert float((prepared - eager).abs().max()) <= LOGIT_TOLERANCE


class InputDependent(nn.Module):
    """Takes a different branch for inputs of negative mean: a trace records only the branch it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        if float(x.mean()) > 0:
            return self.head(pooled)
        return -self.head(pooled)


class Untraceable(nn.Module):
    def forward(self, x: torch.Tensor) -> str:
        return "not a tensor"


def tiny_loaded(model: nn.Module) -> LoadedModel:
    config = ModelConfig(model_name="tiny-cnn", num_classes=2, image_size=8, mean=[0.0] * 3, std=[1.0] * 3)
    return LoadedModel(model=model.eval(), config=config, class_names=["a", "b"])


def test_a_model_the_trace_gets_wrong_is_served_eager_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(0)
    loaded = tiny_loaded(InputDependent())
    with caplog.at_level(logging.WARNING, logger="classifier.prepare"):
        served = prepare_model(loaded, threads=1)
    assert served.preparation.method == "eager" and served.forward is loaded.model
    assert "differ from eager" in served.preparation.fallback_reason
    assert "serving the eager model" in caplog.text and "differ from eager" in caplog.text
    negative = -torch.ones(1, 3, 8, 8)
    with torch.inference_mode():
        assert torch.equal(served.forward(negative), loaded.model(negative))


def test_a_model_that_cannot_be_traced_is_served_eager_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="classifier.prepare"):
        served = prepare_model(tiny_loaded(Untraceable()), threads=1, warmup_batch_sizes=())
    assert served.preparation.method == "eager"
    assert served.preparation.fallback_reason and served.preparation.fallback_reason in caplog.text


class BatchRecorder(nn.Module):
    """Records the batch size of every forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.batches: List[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(x.shape[0])
        return self.conv(x).mean(dim=(2, 3))


def test_the_warm_up_runs_every_batch_size_it_is_given() -> None:
    recorder = BatchRecorder()
    served = prepare_model(tiny_loaded(recorder), threads=1, optimise=None, warmup_batch_sizes=range(1, 4))
    # Three passes where single requests land, two at each larger size (the profiling run, then the optimised one).
    assert recorder.batches == [1, 1, 1, 2, 2, 3, 3]
    assert served.preparation.warmup_batch_sizes == [1, 2, 3]


@pytest.mark.parametrize("env, expected", [({}, 1), ({"INFERENCE_MAX_BATCH_SIZE": "4"}, 4),
                                           ({"INFERENCE_MAX_BATCH_SIZE": " 2 "}, 2)])
def test_the_largest_batch_comes_from_the_environment(env: dict, expected: int) -> None:
    assert max_batch_size(env) == expected


@pytest.mark.parametrize("value", ["0", "four", "-1", "2.5", "\u00b2"])
def test_a_bad_largest_batch_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=f"INFERENCE_MAX_BATCH_SIZE must be a positive integer, got {value!r}"):
        max_batch_size({"INFERENCE_MAX_BATCH_SIZE": value})


def test_a_failing_optimiser_is_served_eager() -> None:
    def broken(model: nn.Module, example: torch.Tensor) -> nn.Module:
        raise RuntimeError("optimize_for_inference is not supported here\nsecond line")

    loaded = tiny_loaded(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()))
    served = prepare_model(loaded, threads=1, optimise=broken)
    assert served.preparation.fallback_reason == "RuntimeError: optimize_for_inference is not supported here"
    assert served.forward is loaded.model


@pytest.mark.parametrize("env, cpus, expected", [
    ({}, 2, 1),  # TorchServe's default: one worker per vCPU, one thread each
    ({"SAGEMAKER_MODEL_SERVER_WORKERS": "1"}, 2, 2),
    ({"SAGEMAKER_TS_MIN_WORKERS": "2", "SAGEMAKER_TS_MAX_WORKERS": "2", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}, 8, 4),
    # Any SAGEMAKER_TS_* set: the toolkit starts SAGEMAKER_TS_MIN_WORKERS workers, 1 unless set.
    ({"SAGEMAKER_TS_BATCH_SIZE": "4", "SAGEMAKER_MODEL_SERVER_WORKERS": "2"}, 2, 2),
    ({"SAGEMAKER_MODEL_SERVER_WORKERS": "4"}, 2, 1),  # more workers than vCPUs: still one thread each
    ({"SAGEMAKER_MODEL_SERVER_WORKERS": "0"}, 4, 1),  # not a worker count: TorchServe's default again
    ({"INFERENCE_TORCH_THREADS": "3", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}, 2, 3),
])
def test_threads_are_the_workers_share_of_the_vcpus(env: dict, cpus: int, expected: int) -> None:
    assert serving_threads(env, cpus) == expected


def test_a_bad_thread_count_is_named() -> None:
    with pytest.raises(ValueError, match="INFERENCE_TORCH_THREADS must be a positive integer, got 'two'"):
        serving_threads({"INFERENCE_TORCH_THREADS": "two"}, 2)


def test_preparation_can_be_turned_off_and_a_bad_choice_is_named() -> None:
    assert optimiser_from_env({}) is torchscript_optimise
    assert optimiser_from_env({"INFERENCE_MODEL_PREPARATION": "eager"}) is None
    with pytest.raises(ValueError, match="INFERENCE_MODEL_PREPARATION must be one of torchscript, eager, got 'jit'"):
        optimiser_from_env({"INFERENCE_MODEL_PREPARATION": "jit"})


def test_model_fn_serves_eager_when_told(trained_model: TrainedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_MODEL_PREPARATION", "eager")
    served = inference.model_fn(str(trained_model.model_dir))
    assert served.preparation.method == "eager" and served.preparation.fallback_reason is None
    assert isinstance(served.forward, nn.Module) and not isinstance(served.forward, torch.jit.ScriptModule)


def test_model_fn_serves_the_prepared_model(trained_model: TrainedModel) -> None:
    served = inference.model_fn(str(trained_model.model_dir))
    assert served.preparation.method == "torchscript", served.preparation.fallback_reason
    assert served.preparation.warmup_seconds > 0
    assert served.preparation.warmup_batch_sizes == [1]


def test_model_fn_warms_up_every_batch_size_up_to_the_largest(trained_model: TrainedModel,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_MAX_BATCH_SIZE", "3")
    served = inference.model_fn(str(trained_model.model_dir))
    assert served.preparation.warmup_batch_sizes == [1, 2, 3]


def test_a_batch_is_predicted_as_each_of_its_requests(trained_model: TrainedModel) -> None:
    served = inference.model_fn(str(trained_model.model_dir))
    requests: List[inference.ImageRequest] = [
        inference.ImageRequest(image=colour_image(colour, seed), top_k=top_k)
        for seed, (colour, top_k) in enumerate(zip(CLASS_COLOURS.values(), (1, None, 3)))
    ]
    batch = inference.predict_fn(requests, served)
    assert isinstance(batch, list) and len(batch) == len(requests)
    for request, together in zip(requests, batch):
        alone = inference.predict_fn(request, served)
        assert together.top_k == request.top_k
        assert max(abs(a - b) for a, b in zip(together.probabilities, alone.probabilities)) < 1e-5
    tops = [max(range(len(p.probabilities)), key=p.probabilities.__getitem__) for p in batch]
    assert [served.class_names[index] for index in tops] == ["red", "green", "blue"]
    assert inference.predict_fn([], served) == []
