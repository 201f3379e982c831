"""Turns a loaded model into the one an endpoint worker serves: int8 where the model directory's quantization report
allows it (classifier/quantize.py), traced, frozen and optimised for inference, torch threads sized for the worker's
share of the instance's vCPUs, and warmed up so the first request is not the slow one.

TorchScript (`torch.jit.trace` -> `freeze` -> `optimize_for_inference`) is used because it exists and does
the same thing on the PyTorch of the SageMaker inference container (2.x) and on older ones, and costs
about a second at load; `torch.compile` would need a C++ toolchain at serving time and tens of seconds of
compilation per worker. The prepared model is checked against eager on an input it was not traced on; if
tracing, optimising or that check fails, the worker serves the eager model and logs why, so a model that
cannot be prepared still serves. An int8 model is checked against the logits training recorded for it instead
(it is not meant to match fp32 to 1e-3); if that fails, the worker serves the fp32 model and logs why.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import torch
from torch import nn

from .artifacts import LoadedModel, ModelConfig
from .quantize import Precision

log = logging.getLogger(__name__)

# Largest absolute logit difference from eager that still counts as the same model.
LOGIT_TOLERANCE = 1e-3
# Passes at batch 1, where the first requests land; PyTorch 1.13 reaches its steady time on the third.
WARMUP_ITERATIONS = 3
# Passes at each larger batch size: TorchScript's profiling executor profiles a new input shape on its first
# run and optimises for it on the next, so two passes leave each size a request batch can take ready.
WARMUP_ITERATIONS_PER_BATCH_SIZE = 2
# The largest batch predict_fn will be handed (serving_handler.py sets it from TorchServe's batch size): the warm-up
# covers every batch size up to it. Unset, batches are of one request, as the stock SageMaker handler calls predict_fn.
MAX_BATCH_SIZE_ENV = "INFERENCE_MAX_BATCH_SIZE"
# An explicit intra-op thread count, for when the worker cannot tell its share of the CPUs.
TORCH_THREADS_ENV = "INFERENCE_TORCH_THREADS"
# "torchscript" (the default) or "eager": serve the model as loaded, to rule preparation out or to compare.
PREPARATION_ENV = "INFERENCE_MODEL_PREPARATION"
PREPARATIONS = ("torchscript", "eager")
# The PyTorch inference container's TorchServe settings (sagemaker-pytorch-inference 2.0.25 ts_parameters): once any
# of them is set, the model runs SAGEMAKER_TS_MIN_WORKERS workers (1 unless set); with none set, the toolkit's
# SAGEMAKER_MODEL_SERVER_WORKERS, else TorchServe's default of one worker per vCPU.
TS_ENVS = ("SAGEMAKER_TS_BATCH_SIZE", "SAGEMAKER_TS_MAX_BATCH_DELAY", "SAGEMAKER_TS_MIN_WORKERS",
           "SAGEMAKER_TS_MAX_WORKERS", "SAGEMAKER_TS_RESPONSE_TIMEOUT")
TS_MIN_WORKERS_ENV = "SAGEMAKER_TS_MIN_WORKERS"
MODEL_SERVER_WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"

Forward = Callable[[torch.Tensor], torch.Tensor]
Optimiser = Callable[[nn.Module, torch.Tensor], nn.Module]


@dataclass
class Preparation:
    """What was done to the model, for the log and the benchmarks."""

    method: str  # "torchscript" or "eager"
    fallback_reason: Optional[str]
    precision: str  # "int8" or "fp32"
    precision_reason: str
    threads: int
    channels_last: bool
    prepare_seconds: float
    warmup_seconds: float
    warmup_batch_sizes: List[int]


@dataclass
class ServingModel:
    """The model a worker serves; `forward` takes a batch in `memory_format` on `device`."""

    forward: Forward
    config: ModelConfig
    class_names: List[str]
    device: torch.device
    memory_format: torch.memory_format
    preparation: Preparation


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _positive(env: dict, name: str) -> Optional[int]:
    value = str(env.get(name, "")).strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else None


def worker_count(env: dict, cpus: int) -> int:
    """The TorchServe workers (model copies) the container starts on this instance, as the toolkit decides it."""
    if any(name in env for name in TS_ENVS):
        return _positive(env, TS_MIN_WORKERS_ENV) or 1
    return _positive(env, MODEL_SERVER_WORKERS_ENV) or cpus


def serving_threads(env: Optional[dict] = None, cpus: Optional[int] = None) -> int:
    """Intra-op threads for one worker: its share of the vCPUs, so workers do not fight over cores."""
    env = os.environ if env is None else env
    explicit = str(env.get(TORCH_THREADS_ENV, "")).strip()
    if explicit:
        if not explicit.isdigit() or int(explicit) < 1:
            raise ValueError(f"{TORCH_THREADS_ENV} must be a positive integer, got {explicit!r}")
        return int(explicit)
    cpus = available_cpus() if cpus is None else cpus
    return max(1, cpus // worker_count(env, cpus))


def max_batch_size(env: Optional[dict] = None) -> int:
    env = os.environ if env is None else env
    value = str(env.get(MAX_BATCH_SIZE_ENV, "")).strip()
    if not value:
        return 1
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValueError(f"{MAX_BATCH_SIZE_ENV} must be a positive integer, got {value!r}")
    return int(value)


def optimiser_from_env(env: Optional[dict] = None) -> Optional[Optimiser]:
    env = os.environ if env is None else env
    choice = str(env.get(PREPARATION_ENV, "torchscript")).strip().lower() or "torchscript"
    if choice not in PREPARATIONS:
        raise ValueError(f"{PREPARATION_ENV} must be one of {', '.join(PREPARATIONS)}, got {choice!r}")
    return torchscript_optimise if choice == "torchscript" else None


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads)
    # Requests already run in parallel across workers; inter-op parallelism on top only oversubscribes. It can
    # be set once per process, before any inter-op work; a second call aborts the process, whatever the value.
    if torch.get_num_interop_threads() != 1:
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError as error:
            log.warning("keeping %d inter-op threads: %s", torch.get_num_interop_threads(), error)


def torchscript_optimise(model: nn.Module, example: torch.Tensor) -> nn.Module:
    with torch.inference_mode(False), torch.no_grad():
        # check_trace would run the model twice more; the caller checks the result against eager itself.
        traced = torch.jit.trace(model, example, check_trace=False)
        frozen = torch.jit.freeze(traced.eval())
        return torch.jit.optimize_for_inference(frozen)


def _example(config: ModelConfig, batch: int, device: torch.device, memory_format: torch.memory_format,
             seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    tensor = torch.randn(batch, 3, config.image_size, config.image_size, generator=generator)
    return tensor.to(device).contiguous(memory_format=memory_format)


def _max_difference(prepared: Forward, eager: nn.Module, batch: torch.Tensor) -> float:
    with torch.inference_mode():
        return float((prepared(batch).float() - eager(batch).float()).abs().max())


def _first_line(error: BaseException) -> str:
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def prepare_model(
    loaded: LoadedModel,
    *,
    threads: int,
    channels_last: bool = False,
    warmup_batch_sizes: Sequence[int] = (1,),
    optimise: Optional[Optimiser] = torchscript_optimise,
    precision: Optional[Precision] = None,
) -> ServingModel:
    """Prepares `loaded` for serving; `optimise=None` keeps the eager model (still threaded and warmed up). With a
    `precision` holding an int8 model, that model is served (optimised the same way) unless it fails its check."""
    set_threads(threads)
    model = loaded.model.eval()
    device = next((parameter.device for parameter in model.parameters()), torch.device("cpu"))
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    started = time.perf_counter()
    forward: Optional[Forward] = None
    method, reason = "eager", None
    precision_name, precision_reason = "fp32", precision.reason if precision is not None else "no int8 model offered"
    if precision is not None and precision.int8 is not None:
        int8 = precision.int8
        try:
            candidate = int8.model if optimise is None else optimise(int8.model, int8.fingerprint_input[:1])
            int8.check(candidate)
            forward, precision_name = candidate, "int8"
            method = "eager" if optimise is None else "torchscript"
        except Exception as error:  # noqa: BLE001 - an int8 model that fails its check means serving fp32
            precision_reason = f"the int8 model failed its check once prepared ({_first_line(error)})"
            log.warning("serving fp32: %s", precision_reason)
    if forward is None:
        forward = model
        if optimise is not None:
            try:
                candidate = optimise(model, _example(loaded.config, 1, device, memory_format, seed=0))
                # Checked on inputs it was not traced on (one of them of the opposite sign), at batch sizes it was
                # not traced at: a trace records one path through the code, so a model whose path depends on its
                # input or its shape is caught here rather than answering wrongly.
                check = _example(loaded.config, 2, device, memory_format, seed=1)
                difference = max(_max_difference(candidate, model, check),
                                 _max_difference(candidate, model, -torch.cat([check, check[:1]])))
                if not difference <= LOGIT_TOLERANCE:
                    raise ValueError(f"its logits differ from eager by {difference:.3g} (tolerance {LOGIT_TOLERANCE:g})")
                forward, method = candidate, "torchscript"
            except Exception as error:  # noqa: BLE001 - any failure to prepare means serving eager, not failing
                reason = _first_line(error)
                log.warning("serving the eager model: preparing it for inference failed (%s)", reason)
    prepare_seconds = time.perf_counter() - started

    sizes = list(dict.fromkeys(warmup_batch_sizes))
    started = time.perf_counter()
    with torch.inference_mode():
        for index, batch in enumerate(sizes):
            example = _example(loaded.config, batch, device, memory_format, seed=2)
            for _ in range(WARMUP_ITERATIONS if index == 0 else WARMUP_ITERATIONS_PER_BATCH_SIZE):
                forward(example)
    warmup_seconds = time.perf_counter() - started

    preparation = Preparation(method=method, fallback_reason=reason, precision=precision_name,
                              precision_reason=precision_reason, threads=threads, channels_last=channels_last,
                              prepare_seconds=prepare_seconds, warmup_seconds=warmup_seconds,
                              warmup_batch_sizes=sizes)
    log.info("serving %s in %s as %s with %d torch threads%s (%sprepared in %.2f s, warmed up at batch sizes %s in "
             "%.2f s); %s: %s", loaded.config.model_name, precision_name, method, threads,
             ", channels-last" if channels_last else "",
             f"int8 rebuilt in {precision.seconds:.2f} s, " if precision is not None and precision.seconds else "",
             prepare_seconds, ", ".join(map(str, sizes)) or "none", warmup_seconds, precision_name, precision_reason)
    return ServingModel(forward=forward, config=loaded.config, class_names=loaded.class_names, device=device,
                        memory_format=memory_format, preparation=preparation)
