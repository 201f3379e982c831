"""The train/evaluate loop and the whole training run both entry points call.

Metric lines are printed in the exact shape the tuning job's metric definitions (contract.json, "metrics") parse:
`Validation Loss: <x>; Validation Accuracy: <y>` once per epoch and `Testing Loss: <x>` /
`Testing Accuracy: <y>` at the end; `Testing Loss` is the tuning objective. On a cluster only the leader
prints them, with values over every host's share of the data.
"""
from __future__ import annotations

import copy
import datetime
import hashlib
import json
import logging
import math
import os
import random
import sys
import time
from typing import Any, Dict, List, Tuple

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from .artifacts import ModelConfig, save_model_dir
from .config import TrainConfig
from .data import display_label, load_data
from .cluster import DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS, SINGLE_PROCESS, Cluster
from .distributed import ClusterError, broadcast_buffers, device_for, is_initialized, process_group, sum_over_ranks
from .model import IMAGENET_MEAN, IMAGENET_STD, build_model, model_spec
from .quantize import QuantizationReport, quantize_for_serving

log = logging.getLogger(__name__)


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite, typically because the learning rate is too high."""


def _metric(value: float) -> str:
    return f"{value:.6g}"


def is_leader() -> bool:
    return not is_initialized() or dist.get_rank() == 0


def weights_digest(model: nn.Module) -> str:
    """SHA-256 over every tensor of the state dict, by key: equal digests mean bit-identical weights."""
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    if not is_initialized():
        return model
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> Tuple[float, float, int]:
    """Loss and accuracy over every rank's batches, and how many images all ranks trained on."""
    model.train()
    # A frozen backbone should stay frozen: in train mode its batch-norm layers would still drift their
    # running statistics towards our (small) batches.
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not any(
            parameter.requires_grad for parameter in module.parameters()
        ):
            module.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        if not torch.isfinite(loss):
            raise TrainingDivergedError(f"training loss became {loss.item()}; lower the learning rate")
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        seen += inputs.size(0)
    total_loss, correct, seen = sum_over_ranks([total_loss, correct, seen], device)
    return total_loss / seen, correct / seen, int(seen)


def evaluate(model: nn.Module, loader: DataLoader, criterion: nn.Module, device: torch.device) -> Tuple[float, float]:
    """Loss and accuracy over the whole split: each rank evaluates its shard and the sums are combined, so
    the result is the same on every rank and the same as one process evaluating everything."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            total_loss += criterion(outputs, labels).item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += inputs.size(0)
    total_loss, correct, seen = sum_over_ranks([total_loss, correct, seen], device)
    loss = total_loss / seen
    if not math.isfinite(loss):
        raise TrainingDivergedError(f"evaluation loss is {loss}; lower the learning rate")
    return loss, correct / seen


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    valid_loader: DataLoader,
    epochs: int,
    lr: float,
    device: torch.device,
) -> List[Dict[str, float]]:
    """Trains for `epochs` and leaves the model holding the weights of its best validation epoch. In a process
    group the model trains as DistributedDataParallel, so every rank ends with the same weights."""
    criterion = nn.CrossEntropyLoss()
    network = _data_parallel(model, device)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=lr)
    history: List[Dict[str, float]] = []
    best_loss, best_state = math.inf, None
    hosts = dist.get_world_size() if is_initialized() else 1
    for epoch in range(1, epochs + 1):
        sampler = train_loader.sampler
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        started = time.perf_counter()
        train_loss, train_acc, trained = train_one_epoch(network, train_loader, criterion, optimizer, device)
        seconds = time.perf_counter() - started
        # Each rank's own batches moved its batch-norm statistics; evaluate (and keep) the leader's.
        broadcast_buffers(model)
        valid_loss, valid_acc = evaluate(model, valid_loader, criterion, device)
        if is_leader():
            print(f"Epoch {epoch}/{epochs}: Train Loss: {_metric(train_loss)}; Train Accuracy: {_metric(train_acc)}", flush=True)
            print(
                f"Epoch {epoch}/{epochs}: Validation Loss: {_metric(valid_loss)}; Validation Accuracy: {_metric(valid_acc)}",
                flush=True,
            )
            print(f"Epoch {epoch}/{epochs}: Train Throughput: {trained / seconds:.1f} images/s over {hosts} host(s)", flush=True)
        history.append(
            {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
             "validation_loss": valid_loss, "validation_accuracy": valid_acc,
             "train_images_per_second": trained / seconds}
        )
        if valid_loss < best_loss:
            best_loss, best_state = valid_loss, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def run_training(
    config: TrainConfig,
    cluster: Cluster = SINGLE_PROCESS,
    rendezvous_timeout: datetime.timedelta = datetime.timedelta(seconds=DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS),
) -> Dict[str, Any]:
    """Loads data, trains, tests, prints the metric lines and writes the deployable model directory. On a
    cluster every host trains its share; the leader alone prints the metric lines and writes the outputs."""
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = device_for(cluster)
    image_size = config.image_size or model_spec(config.model_name).default_image_size
    # Bad data fails every host the same way before any of them waits for the others.
    data = load_data(config.data_dir, image_size, IMAGENET_MEAN, IMAGENET_STD, config.batch_size, config.num_workers,
                     world_size=cluster.world_size, rank=cluster.rank, seed=config.seed)
    class_names = [display_label(folder) for folder in data.class_folders]
    model = build_model(config.model_name, len(class_names), config.pretrained).to(device)
    log.info(
        "training %s (pretrained=%s) on %d classes, %d training images, device %s, %s",
        config.model_name, config.pretrained, len(class_names), len(data.train.dataset), device, cluster.describe(),
    )
    with process_group(cluster, rendezvous_timeout):
        history = fit(model, data.train, data.valid, config.epochs, config.lr, device)
        test_loss, test_acc = evaluate(model, data.test, nn.CrossEntropyLoss(), device)
        log.info("final weights sha256 %s (%s)", weights_digest(model), cluster.describe())
    result = {"history": history, "test_loss": test_loss, "test_accuracy": test_acc, "class_names": class_names}
    if not cluster.is_leader:
        return result
    print(f"Testing Loss: {_metric(test_loss)}", flush=True)
    print(f"Testing Accuracy: {_metric(test_acc)}", flush=True)

    model_config = ModelConfig(
        model_name=config.model_name,
        num_classes=len(class_names),
        image_size=image_size,
        mean=list(IMAGENET_MEAN),
        std=list(IMAGENET_STD),
    )
    save_model_dir(model, model_config, class_names, config.model_dir)
    log.info("saved model to %s", config.model_dir)
    report = quantize_after_training(model, image_size, data, config)
    result["quantization"] = report.to_json()
    if config.output_data_dir:
        os.makedirs(config.output_data_dir, exist_ok=True)
        with open(os.path.join(config.output_data_dir, "metrics.json"), "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return result


def quantize_after_training(model: nn.Module, image_size: int, data: Any, config: TrainConfig) -> QuantizationReport:
    """Calibrates int8 on the whole validation split, measures it on the whole test split and writes the report (and
    the int8 calibration, if it may ship) into the model directory. Runs on the leader alone, on the CPU, over
    every image: the evaluation loaders hold only this host's shard."""
    def whole(loader: DataLoader) -> DataLoader:
        return DataLoader(loader.dataset, batch_size=loader.batch_size, shuffle=False, num_workers=config.num_workers)

    started = time.perf_counter()
    report = quantize_for_serving(
        model, image_size,
        calibration=(inputs for inputs, _ in whole(data.valid)),
        test=whole(data.test),
        policy=config.quantization,
        model_dir=config.model_dir,
    )
    test = report.test or {}
    figures = (f" (top-1 agreement {test['agreement']:.4f}, accuracy fp32 {test['fp32Accuracy']:.4f}, "
               f"int8 {test['int8Accuracy']:.4f}, on {test['images']} test images)" if test else "")
    print(f"Quantization: shipping {report.serve}{figures}: {report.reason}", flush=True)
    log.info("quantization report written to %s in %.1f s", config.model_dir, time.perf_counter() - started)
    return report


def main_run(
    config: TrainConfig,
    cluster: Cluster = SINGLE_PROCESS,
    rendezvous_timeout: datetime.timedelta = datetime.timedelta(seconds=DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS),
) -> int:
    """Runs training for a command-line entry point: bad input exits 1 with one clear line, no traceback."""
    try:
        run_training(config, cluster, rendezvous_timeout)
    except (ValueError, OSError, ClusterError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0
