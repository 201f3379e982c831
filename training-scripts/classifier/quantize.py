"""Post-training static int8 quantization, shipped only where the data says it is safe.

At the end of training (engine.py) the fp32 model is calibrated on the validation split and the int8 model it gives
is measured against it on the test split: top-1 agreement with fp32 and both accuracies. The model directory then
holds a report, quantization.json, whatever the outcome, and the int8 calibration, model_int8.pth, only when
agreement and the accuracy drop are within the thresholds the job was given (hyperparameters `quantize`,
`quantization-min-agreement`, `quantization-max-accuracy-drop`, from the stack's `training.quantization`).
model_fn (inference.py) serves what the report allows; a directory without a report (the course's model.pth) is
served in fp32.

The method is FX graph mode quantization (torch.ao.quantization.quantize_fx) with the x86 backend: fbgemm's int8
kernels run on AVX2 and use VNNI where the CPU has it (m5, c5 and later), need no compiler at load, and the result
traces with TorchScript like the fp32 model. The classifier head (`fc`) stays fp32: it is a sliver of the work and
the part the course trains. What ships is the calibration (the activation observers' statistics), not the int8
weights: the serving container rebuilds the int8 model from model.pth and the calibration with its own PyTorch, which need not be
the training container's, and checks it against logits recorded at training time on a fixed input, so a model that
does not rebuild the same is served in fp32 instead, with the reason in the log.
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import torch
from torch import nn

from .config import QuantizationPolicy

log = logging.getLogger(__name__)

REPORT_FILE = "quantization.json"
INT8_FILE = "model_int8.pth"
REPORT_FORMAT = 1
METHOD = "fx-static-int8"
BACKEND = "x86"
# Modules left in fp32: the head the course trains, a few hundred thousand multiply-adds of ResNet-50's four billion.
FP32_MODULES = ("fc",)
# Histogram observers over this many validation images are plenty for ResNet activations and bound the cost.
MAX_CALIBRATION_IMAGES = 512
FINGERPRINT_SEED = 20_240_601
FINGERPRINT_BATCH = 2
# The rebuilt model's logits on the fingerprint input may differ from the recorded ones by this share of the largest
# recorded logit: int8 kernels round differently on different CPUs (fbgemm on AVX2, oneDNN with VNNI), while a
# model rebuilt from other weights or observers is off by far more.
FINGERPRINT_TOLERANCE = 0.05
_OBSERVER_PREFIX = "activation_post_process_"


class QuantizationError(RuntimeError):
    """The int8 model could not be built or rebuilt; the message says why."""


@dataclass
class Evaluation:
    images: int
    fp32_accuracy: float
    int8_accuracy: float
    agreement: float

    @property
    def accuracy_drop(self) -> float:
        return self.fp32_accuracy - self.int8_accuracy


@dataclass
class QuantizationReport:
    """quantization.json: what was measured and what model_fn may serve."""

    serve: str  # "int8" or "fp32"
    reason: str
    policy: Dict[str, Any]
    method: str = METHOD
    backend: str = BACKEND
    calibration_images: int = 0
    test: Optional[Dict[str, float]] = None
    torch_version: str = field(default_factory=lambda: torch.__version__)
    format: int = REPORT_FORMAT

    def to_json(self) -> Dict[str, Any]:
        return {"format": self.format, "serve": self.serve, "reason": self.reason, "policy": self.policy,
                "method": self.method, "backend": self.backend, "calibrationImages": self.calibration_images,
                "test": self.test, "torchVersion": self.torch_version}


@dataclass
class Int8Model:
    """An int8 model rebuilt for serving, with the logits training recorded for it on the fingerprint input."""

    model: nn.Module
    fingerprint_input: torch.Tensor
    fingerprint_logits: torch.Tensor

    def check(self, forward: Any) -> None:
        """Raises unless `forward` (this model, or a traced copy of it) gives the recorded logits."""
        with torch.inference_mode():
            logits = forward(self.fingerprint_input).float()
        check_fingerprint(logits, self.fingerprint_logits)


def check_fingerprint(logits: torch.Tensor, recorded: torch.Tensor) -> None:
    if logits.shape != recorded.shape:
        raise QuantizationError(f"its logits have shape {tuple(logits.shape)}, the recorded ones {tuple(recorded.shape)}")
    scale = float(recorded.abs().max()) or 1.0
    difference = float((logits - recorded).abs().max())
    if not difference <= FINGERPRINT_TOLERANCE * scale:
        raise QuantizationError(
            f"its logits differ from the ones recorded at training by {difference:.3g} "
            f"(tolerance {FINGERPRINT_TOLERANCE:g} x {scale:.3g})")


def _use_backend() -> None:
    if BACKEND not in torch.backends.quantized.supported_engines:
        raise QuantizationError(f"this PyTorch has no {BACKEND} quantized engine "
                                f"(it has {', '.join(torch.backends.quantized.supported_engines)})")
    torch.backends.quantized.engine = BACKEND


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without the notices torch.ao.quantization prints on every call: its move to torchao (the API is the one
    PyTorch 2.6 to 2.10 ship) and the x86 observers' reduce_range, which AVX2 kernels without VNNI need."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Please use quant_min and quant_max")
        yield


def fingerprint_input(image_size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(FINGERPRINT_SEED)
    return torch.randn(FINGERPRINT_BATCH, 3, image_size, image_size, generator=generator)


def observed_model(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """A CPU copy of `model` with observers on every activation to be quantized (fused conv-bn-relu first)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_fx

    _use_backend()
    mapping = get_default_qconfig_mapping(BACKEND)
    for name in FP32_MODULES:
        mapping.set_module_name(name, None)
    fp32 = copy.deepcopy(model).cpu().eval()
    with _quiet():
        return prepare_fx(fp32, mapping, (example.cpu(),))


def calibrate(observed: nn.Module, batches: Iterable[torch.Tensor], max_images: int = MAX_CALIBRATION_IMAGES) -> int:
    """Runs batches through the observers until `max_images` have been seen; returns how many were."""
    seen = 0
    with torch.inference_mode():
        for inputs in batches:
            if seen >= max_images:
                break
            inputs = inputs[: max_images - seen].cpu()
            observed(inputs)
            seen += inputs.shape[0]
    return seen


def observer_state(observed: nn.Module) -> Dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in observed.state_dict().items() if key.startswith(_OBSERVER_PREFIX)}


def convert(observed: nn.Module) -> nn.Module:
    from torch.ao.quantization.quantize_fx import convert_fx

    _use_backend()
    with _quiet():
        return convert_fx(copy.deepcopy(observed)).eval()


def int8_from_observers(model: nn.Module, observers: Dict[str, torch.Tensor], example: torch.Tensor) -> nn.Module:
    """The int8 model of fp32 `model` with the recorded observer statistics: what training converted, rebuilt."""
    observed = observed_model(model, example)
    expected = set(observer_state(observed))
    if set(observers) != expected:
        missing, extra = sorted(expected - set(observers)), sorted(set(observers) - expected)
        raise QuantizationError(
            f"the calibration does not fit this model's observers (missing {missing[:3]}, unexpected {extra[:3]})")
    state = observed.state_dict()
    state.update(observers)
    observed.load_state_dict(state)
    return convert(observed)


def top1(forward: Any, batches: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-1 class of every image, and the labels, on CPU."""
    predicted: List[torch.Tensor] = []
    labels: List[torch.Tensor] = []
    with torch.inference_mode():
        for inputs, targets in batches:
            predicted.append(forward(inputs.cpu()).argmax(dim=1))
            labels.append(targets.cpu())
    return torch.cat(predicted), torch.cat(labels)


def evaluate(fp32: nn.Module, int8: nn.Module, batches: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> Evaluation:
    cached = [(inputs.cpu(), targets.cpu()) for inputs, targets in batches]
    if not cached:
        raise QuantizationError("the test split is empty")
    fp32_top1, labels = top1(fp32, cached)
    int8_top1, _ = top1(int8, cached)
    return Evaluation(
        images=int(labels.numel()),
        fp32_accuracy=float((fp32_top1 == labels).float().mean()),
        int8_accuracy=float((int8_top1 == labels).float().mean()),
        agreement=float((int8_top1 == fp32_top1).float().mean()),
    )


def decide(evaluation: Evaluation, policy: QuantizationPolicy) -> Tuple[str, str]:
    """("int8" | "fp32", why), from the measured figures and the thresholds."""
    problems = []
    if evaluation.agreement < policy.min_agreement:
        problems.append(f"top-1 agreement with fp32 {evaluation.agreement:.4f} is below {policy.min_agreement:g}")
    if evaluation.accuracy_drop > policy.max_accuracy_drop:
        problems.append(f"accuracy drops {evaluation.accuracy_drop:.4f} ({evaluation.fp32_accuracy:.4f} -> "
                        f"{evaluation.int8_accuracy:.4f}), more than {policy.max_accuracy_drop:g}")
    if problems:
        return "fp32", "; ".join(problems)
    return "int8", (f"top-1 agreement {evaluation.agreement:.4f} >= {policy.min_agreement:g} and accuracy drop "
                    f"{evaluation.accuracy_drop:.4f} <= {policy.max_accuracy_drop:g} on {evaluation.images} test images")


def _policy_json(policy: QuantizationPolicy) -> Dict[str, Any]:
    return {"enabled": policy.enabled, "minAgreement": policy.min_agreement, "maxAccuracyDrop": policy.max_accuracy_drop}


def quantize_for_serving(
    model: nn.Module,
    image_size: int,
    calibration: Iterable[torch.Tensor],
    test: Iterable[Tuple[torch.Tensor, torch.Tensor]],
    policy: QuantizationPolicy,
    model_dir: str,
) -> QuantizationReport:
    """Calibrates, measures and decides; writes quantization.json, and model_int8.pth when int8 may ship. Any
    failure to quantize means fp32, with the reason in the report: it never fails the training job."""
    policy_json = _policy_json(policy)
    if not policy.enabled:
        report = QuantizationReport(serve="fp32", reason="quantization is off (hyperparameter quantize=false)",
                                    policy=policy_json)
        write(model_dir, report, None)
        return report
    example = fingerprint_input(image_size)
    calibrated = 0
    evaluation: Optional[Evaluation] = None
    try:
        fp32 = copy.deepcopy(model).cpu().eval()
        observed = observed_model(fp32, example[:1])
        calibrated = calibrate(observed, calibration)
        if calibrated == 0:
            raise QuantizationError("the validation split is empty")
        int8 = convert(observed)
        evaluation = evaluate(fp32, int8, test)
        serve, reason = decide(evaluation, policy)
        artifact = None
        if serve == "int8":
            with torch.inference_mode():
                logits = int8(example).float()
            artifact = {"format": REPORT_FORMAT, "method": METHOD, "backend": BACKEND,
                        "observers": observer_state(observed),
                        "fingerprint": {"seed": FINGERPRINT_SEED, "batch": FINGERPRINT_BATCH, "logits": logits}}
    except Exception as error:  # noqa: BLE001 - quantizing is an optimisation: failing it means serving fp32
        serve, reason, artifact = "fp32", f"quantizing failed: {type(error).__name__}: {error}", None
    test_json = None
    if evaluation is not None:
        test_json = {"images": evaluation.images, "fp32Accuracy": evaluation.fp32_accuracy,
                     "int8Accuracy": evaluation.int8_accuracy, "accuracyDrop": evaluation.accuracy_drop,
                     "agreement": evaluation.agreement}
    report = QuantizationReport(serve=serve, reason=reason, policy=policy_json, calibration_images=calibrated,
                                test=test_json)
    write(model_dir, report, artifact)
    return report


def write(model_dir: str, report: QuantizationReport, artifact: Optional[Dict[str, Any]]) -> None:
    os.makedirs(model_dir, exist_ok=True)
    int8_path = os.path.join(model_dir, INT8_FILE)
    if artifact is not None:
        torch.save(artifact, int8_path)
    elif os.path.exists(int8_path):
        # A previous run's calibration must not outlive a report that no longer allows it.
        os.remove(int8_path)
    with open(os.path.join(model_dir, REPORT_FILE), "w", encoding="utf-8") as handle:
        json.dump(report.to_json(), handle, indent=2)
        handle.write("\n")


@dataclass
class Precision:
    """What model_fn serves: the int8 model when the report allows it and it rebuilds, else fp32, and why."""

    int8: Optional[Int8Model]
    reason: str
    # Spent rebuilding the int8 model (part of a worker's cold start).
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return "int8" if self.int8 is not None else "fp32"


def serving_precision(model_dir: str, model: nn.Module, image_size: int) -> Precision:
    """Reads the report beside the model; rebuilds the int8 model when it allows one. Never raises: whatever stops
    int8 (no report, a report that says fp32, a calibration that does not rebuild) means fp32, with the reason."""
    report_path = os.path.join(model_dir, REPORT_FILE)
    if not os.path.exists(report_path):
        return Precision(None, f"no {REPORT_FILE} in the model directory (a model not trained by this project's "
                               "train.py, such as the course's model.pth)")
    try:
        with open(report_path, encoding="utf-8") as handle:
            report = json.load(handle)
        serve, reason = report["serve"], report["reason"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Precision(None, f"{report_path} is unreadable ({type(error).__name__}: {error})")
    if serve != "int8":
        return Precision(None, f"the quantization report says fp32: {reason}")
    started = time.perf_counter()
    try:
        artifact = torch.load(os.path.join(model_dir, INT8_FILE), map_location="cpu", weights_only=True)
        if artifact.get("format") != REPORT_FORMAT or artifact.get("method") != METHOD:
            raise QuantizationError(f"{INT8_FILE} is format {artifact.get('format')} of {artifact.get('method')}, "
                                    f"expected format {REPORT_FORMAT} of {METHOD}")
        example = fingerprint_input(image_size)
        int8 = int8_from_observers(model, artifact["observers"], example[:1])
        served = Int8Model(model=int8, fingerprint_input=example, fingerprint_logits=artifact["fingerprint"]["logits"])
        served.check(int8)
    except Exception as error:  # noqa: BLE001 - any failure to rebuild means serving fp32
        first_line = (str(error).strip().splitlines() or [""])[0]
        return Precision(None, f"the report allows int8 but the int8 model did not rebuild ({type(error).__name__}: "
                               f"{first_line})", time.perf_counter() - started)
    return Precision(served, f"the quantization report allows int8: {reason}", time.perf_counter() - started)
