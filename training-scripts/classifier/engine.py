"""The train/evaluate loop and the whole training run both entry points call.

Metric lines are printed in the exact shape the tuning job's metric definitions (metrics.json) parse:
`Validation Loss: <x>; Validation Accuracy: <y>` once per epoch and `Testing Loss: <x>` /
`Testing Accuracy: <y>` at the end; `Testing Loss` is the tuning objective.
"""
from __future__ import annotations

import copy
import json
import logging
import math
import os
import random
import sys
from typing import Any, Dict, List, Tuple

import torch
from torch import nn
from torch.utils.data import DataLoader

from .artifacts import ModelConfig, save_model_dir
from .config import TrainConfig
from .data import display_label, load_data
from .model import IMAGENET_MEAN, IMAGENET_STD, build_model, model_spec

log = logging.getLogger(__name__)


class TrainingDivergedError(ValueError):
    """The loss became NaN or infinite, typically because the learning rate is too high."""


def _metric(value: float) -> str:
    return f"{value:.6g}"


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> Tuple[float, float]:
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
    return total_loss / seen, correct / seen


def evaluate(model: nn.Module, loader: DataLoader, criterion: nn.Module, device: torch.device) -> Tuple[float, float]:
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            total_loss += criterion(outputs, labels).item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            seen += inputs.size(0)
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
    """Trains for `epochs` and leaves the model holding the weights of its best validation epoch."""
    criterion = nn.CrossEntropyLoss()
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=lr)
    history: List[Dict[str, float]] = []
    best_loss, best_state = math.inf, None
    for epoch in range(1, epochs + 1):
        train_loss, train_acc = train_one_epoch(model, train_loader, criterion, optimizer, device)
        valid_loss, valid_acc = evaluate(model, valid_loader, criterion, device)
        print(f"Epoch {epoch}/{epochs}: Train Loss: {_metric(train_loss)}; Train Accuracy: {_metric(train_acc)}", flush=True)
        print(
            f"Epoch {epoch}/{epochs}: Validation Loss: {_metric(valid_loss)}; Validation Accuracy: {_metric(valid_acc)}",
            flush=True,
        )
        history.append(
            {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
             "validation_loss": valid_loss, "validation_accuracy": valid_acc}
        )
        if valid_loss < best_loss:
            best_loss, best_state = valid_loss, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def run_training(config: TrainConfig) -> Dict[str, Any]:
    """Loads data, trains, tests, prints the metric lines and writes the deployable model directory."""
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    image_size = config.image_size or model_spec(config.model_name).default_image_size
    data = load_data(config.data_dir, image_size, IMAGENET_MEAN, IMAGENET_STD, config.batch_size, config.num_workers)
    class_names = [display_label(folder) for folder in data.class_folders]
    log.info(
        "training %s (pretrained=%s) on %d classes, %d training images, device %s",
        config.model_name, config.pretrained, len(class_names), len(data.train.dataset), device,
    )
    model = build_model(config.model_name, len(class_names), config.pretrained).to(device)
    history = fit(model, data.train, data.valid, config.epochs, config.lr, device)
    test_loss, test_acc = evaluate(model, data.test, nn.CrossEntropyLoss(), device)
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
    result = {"history": history, "test_loss": test_loss, "test_accuracy": test_acc, "class_names": class_names}
    if config.output_data_dir:
        os.makedirs(config.output_data_dir, exist_ok=True)
        with open(os.path.join(config.output_data_dir, "metrics.json"), "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return result


def main_run(config: TrainConfig) -> int:
    """Runs training for a command-line entry point: bad input exits 1 with one clear line, no traceback."""
    try:
        run_training(config)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0
