"""The model directory: what training writes to SM_MODEL_DIR and what the inference container loads.

    model.pth            state dict
    model_config.json    {"model_name", "num_classes", "image_size", "mean", "std"}
    class_names.json     labels in class-index order
    code/                inference.py, serving_handler.py, the classifier/ package and contract.json, so the directory
                         (model.tar.gz) deploys on the SageMaker PyTorch inference container as it is

A course-style directory holding only `model.pth` also loads: resnet50, 133 classes, ImageNet
normalisation at 224x224 and the course's dog-breed labels.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import tarfile
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

import torch
from torch import nn

from .contract import CONTRACT_PATH, DEFAULT_MODEL, LABELS
from .model import IMAGENET_MEAN, IMAGENET_STD, build_model, model_spec

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(PACKAGE_DIR)
COURSE_NUM_CLASSES = len(LABELS)
WEIGHTS_FILE = "model.pth"
CONFIG_FILE = "model_config.json"
CLASS_NAMES_FILE = "class_names.json"
CODE_DIR = "code"
# The handlers (inference.py) and the TorchServe entry point that batches them (serving_handler.py).
SERVED_SCRIPTS = ("inference.py", "serving_handler.py")


class ModelDirError(ValueError):
    """The model directory is incomplete or inconsistent; the message names the file and field."""


@dataclass(frozen=True)
class ModelConfig:
    model_name: str
    num_classes: int
    image_size: int
    mean: List[float]
    std: List[float]


@dataclass
class LoadedModel:
    model: nn.Module
    config: ModelConfig
    class_names: List[str]


def course_config() -> ModelConfig:
    return ModelConfig(
        model_name=DEFAULT_MODEL,
        num_classes=COURSE_NUM_CLASSES,
        image_size=model_spec(DEFAULT_MODEL).default_image_size,
        mean=list(IMAGENET_MEAN),
        std=list(IMAGENET_STD),
    )


def default_class_names(num_classes: int) -> List[str]:
    if num_classes == COURSE_NUM_CLASSES:
        return list(LABELS)
    return [f"class_{index}" for index in range(num_classes)]


def _write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2)
        handle.write("\n")


def copy_code(destination: str) -> None:
    """Copies what the inference container imports; tests and caches stay out of model.tar.gz."""
    if os.path.exists(destination):
        shutil.rmtree(destination)
    os.makedirs(destination)
    # No requirements.txt: the toolkit would pip-install it at every start, which a network-isolated model
    # cannot do; torch, torchvision and Pillow are in the container.
    for script in SERVED_SCRIPTS:
        shutil.copy2(os.path.join(SOURCE_DIR, script), destination)
    shutil.copy2(CONTRACT_PATH, destination)
    shutil.copytree(
        PACKAGE_DIR,
        os.path.join(destination, "classifier"),
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def pack_model_dir(model_dir: str, archive: str) -> None:
    """model.tar.gz as SageMaker writes it and serves it: the model directory's contents at the archive root."""
    with tarfile.open(archive, "w:gz") as tar:
        for name in sorted(os.listdir(model_dir)):
            tar.add(os.path.join(model_dir, name), arcname=name)


def save_model_dir(model: nn.Module, config: ModelConfig, class_names: List[str], model_dir: str) -> None:
    if len(class_names) != config.num_classes:
        raise ModelDirError(f"{len(class_names)} class names for {config.num_classes} classes")
    os.makedirs(model_dir, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    torch.save(state, os.path.join(model_dir, WEIGHTS_FILE))
    _write_json(os.path.join(model_dir, CONFIG_FILE), asdict(config))
    _write_json(os.path.join(model_dir, CLASS_NAMES_FILE), class_names)
    copy_code(os.path.join(model_dir, CODE_DIR))


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise ModelDirError(f"{path} is not valid JSON: {error}") from None


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", list: "a list"}


def _field(raw: Dict[str, Any], key: str, kind: type, path: str) -> Any:
    if key not in raw:
        raise ModelDirError(f"{path}: missing field {key!r}")
    value = raw[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelDirError(f"{path}: field {key!r} must be {_KIND_NAMES[kind]}, got {value!r}")
    return value


def read_config(model_dir: str) -> ModelConfig:
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        return course_config()
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise ModelDirError(f"{path} must hold a JSON object")
    mean = [_field({"mean": v}, "mean", float, path) for v in _field(raw, "mean", list, path)]
    std = [_field({"std": v}, "std", float, path) for v in _field(raw, "std", list, path)]
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ModelDirError(f"{path}: 'mean' and 'std' must be 3 numbers each, std positive")
    config = ModelConfig(
        model_name=_field(raw, "model_name", str, path),
        num_classes=_field(raw, "num_classes", int, path),
        image_size=_field(raw, "image_size", int, path),
        mean=mean,
        std=std,
    )
    try:
        model_spec(config.model_name)
    except ValueError as error:
        raise ModelDirError(f"{path}: {error}") from None
    if config.num_classes < 2 or config.image_size < 8:
        raise ModelDirError(f"{path}: 'num_classes' must be >= 2 and 'image_size' >= 8")
    return config


def read_class_names(model_dir: str, num_classes: int) -> List[str]:
    path = os.path.join(model_dir, CLASS_NAMES_FILE)
    if not os.path.exists(path):
        return default_class_names(num_classes)
    names = _read_json(path)
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ModelDirError(f"{path} must hold a JSON list of strings")
    if len(names) != num_classes:
        raise ModelDirError(f"{path} lists {len(names)} names but the model has {num_classes} classes")
    return names


def load_model_dir(model_dir: str, device: Optional[torch.device] = None) -> LoadedModel:
    """Loads weights, config and labels; the model comes back in eval mode on `device` (default CPU)."""
    device = device or torch.device("cpu")
    weights_path = os.path.join(model_dir, WEIGHTS_FILE)
    if not os.path.isfile(weights_path):
        raise ModelDirError(f"model weights {weights_path} not found")
    config = read_config(model_dir)
    class_names = read_class_names(model_dir, config.num_classes)
    # The weights come from model.pth, so there is no reason to download ImageNet weights at serving time.
    model = build_model(config.model_name, config.num_classes, pretrained=False)
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError) as error:
        raise ModelDirError(
            f"{weights_path} does not match model {config.model_name!r} with {config.num_classes} classes: {error}"
        ) from None
    model.to(device).eval()
    return LoadedModel(model=model, config=config, class_names=class_names)
