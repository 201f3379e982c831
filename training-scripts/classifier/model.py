"""Model architectures, keyed by the `model-name` hyperparameter.

`resnet50` is the course's network: a frozen ImageNet ResNet-50 with a `2048 -> 128 -> ReLU -> classes`
head in `model.fc`, so a `model.pth` state dict trained in the course loads unchanged. `resnet18` has the
same shape of head on a smaller backbone, and `tiny-cnn` is a few-thousand-parameter network for tests and
cheap smoke runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

import torch
from torch import nn
from torchvision import models

from .contract import CONTRACT_PATH, MODEL_NAMES, ContractError

IMAGENET_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    default_image_size: int
    builder: Callable[[int, bool], nn.Module]


def _head(in_features: int, num_classes: int) -> nn.Sequential:
    # Layer indices 0 and 2 give the state-dict keys fc.0.* / fc.2.* that course checkpoints carry.
    return nn.Sequential(nn.Linear(in_features, 128), nn.ReLU(inplace=True), nn.Linear(128, num_classes))


def _freeze(model: nn.Module) -> None:
    for parameter in model.parameters():
        parameter.requires_grad = False


def _resnet(backbone: Callable[..., nn.Module], weights: Any, features: int) -> Callable[[int, bool], nn.Module]:
    """A builder for a torchvision ResNet whose final layer becomes the course's head."""
    def build(num_classes: int, pretrained: bool) -> nn.Module:
        model = backbone(weights=weights if pretrained else None)
        # Only a pretrained backbone is worth freezing; a random one has to learn along with the head.
        if pretrained:
            _freeze(model)
        model.fc = _head(features, num_classes)
        return model
    return build


class TinyCNN(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def _tiny_cnn(num_classes: int, pretrained: bool) -> nn.Module:
    if pretrained:
        raise ValueError("model 'tiny-cnn' has no pretrained weights; pass --pretrained false")
    return TinyCNN(num_classes)


MODELS: Dict[str, ModelSpec] = {
    "resnet50": ModelSpec("resnet50", 224, _resnet(models.resnet50, models.ResNet50_Weights.IMAGENET1K_V1, 2048)),
    "resnet18": ModelSpec("resnet18", 224, _resnet(models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1, 512)),
    "tiny-cnn": ModelSpec("tiny-cnn", 64, _tiny_cnn),
}
if sorted(MODELS) != sorted(MODEL_NAMES):
    raise ContractError(f"{CONTRACT_PATH} names the models {MODEL_NAMES}, but this code builds {list(MODELS)}")


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model name {name!r}; expected one of {', '.join(MODELS)}") from None


def build_model(name: str, num_classes: int, pretrained: bool) -> nn.Module:
    """Builds the architecture; `pretrained` downloads ImageNet weights through torchvision's cache."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    return model_spec(name).builder(num_classes, pretrained)
