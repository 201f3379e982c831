"""Training settings and the command-line arguments both entry points share.

SageMaker passes every hyperparameter as a string (`--lr 0.01 --pretrained false`), so each option has a
converter that turns such a string into a checked value, and the EC2 config file goes through the same
converters.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from .contract import HYPERPARAMETERS, QUANTIZATION

DEFAULT_NUM_WORKERS = 2
DEFAULT_SEED = 0


@dataclass(frozen=True)
class QuantizationPolicy:
    """When an int8 model may ship (classifier/quantize.py): thresholds as fractions, 0.005 being half a point."""

    enabled: bool = QUANTIZATION["enabled"]["default"]
    min_agreement: float = QUANTIZATION["minAgreement"]["default"]
    max_accuracy_drop: float = QUANTIZATION["maxAccuracyDrop"]["default"]


@dataclass(frozen=True)
class TrainConfig:
    data_dir: str
    model_dir: str
    output_data_dir: Optional[str]
    epochs: int
    lr: float
    batch_size: int
    model_name: str
    pretrained: bool
    image_size: Optional[int]
    num_workers: int
    seed: int
    quantization: QuantizationPolicy = QuantizationPolicy()


def parse_bool(value: str) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def positive_int(value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return number


def ranged(kind: str, low: float, high: float) -> Callable[[str], Any]:
    """A converter for a contract hyperparameter of type "integer" or "number", refusing values outside low..high."""
    what = f"{'an integer' if kind == 'integer' else 'a number'} from {low:g} to {high:g}"

    def convert(value: str) -> Any:
        try:
            number = int(str(value).strip()) if kind == "integer" else float(str(value).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}")
        return number
    return convert


def non_negative_int(value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value!r}")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return number


# The course's spellings (`--learning_rate`, `--batch_size`) and their variants, accepted besides the wire names.
ALIASES: Dict[str, Tuple[str, ...]] = {
    "learningRate": ("--learning_rate", "--learning-rate"),
    "batchSize": ("--batch_size",),
    "modelName": ("--model_name",),
}


def add_hyperparameters(parser: argparse.ArgumentParser) -> None:
    """The contract's hyperparameters and quantization settings as `--<wireName>` options, with its defaults and
    ranges; then ours only."""
    for key, spec in {**HYPERPARAMETERS, **QUANTIZATION}.items():
        wire = spec["wireName"]
        options: Dict[str, Any] = {"dest": wire.replace("-", "_"), "default": spec["default"]}
        if spec["type"] == "boolean":
            options.update(type=parse_bool, help="true|false")
        elif spec["type"] == "string":
            options.update(choices=spec["choices"])
        else:
            options.update(type=ranged(spec["type"], spec["min"], spec["max"]))
        parser.add_argument(f"--{wire}", *ALIASES.get(key, ()), **options)
    parser.add_argument(
        "--image-size", "--image_size", dest="image_size", type=positive_int, default=None,
        help="square input size in pixels; defaults to the model's (224 for the ResNets)",
    )
    parser.add_argument("--num-workers", "--num_workers", dest="num_workers", type=non_negative_int, default=DEFAULT_NUM_WORKERS)
    parser.add_argument("--seed", type=non_negative_int, default=DEFAULT_SEED)


def add_paths(
    parser: argparse.ArgumentParser,
    data_dir: Optional[str] = None,
    model_dir: Optional[str] = None,
    output_data_dir: Optional[str] = None,
) -> None:
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir", default=data_dir)
    parser.add_argument("--model-dir", "--model_dir", dest="model_dir", default=model_dir)
    parser.add_argument("--output-data-dir", "--output_data_dir", dest="output_data_dir", default=output_data_dir)


def to_config(namespace: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        data_dir=os.path.abspath(namespace.data_dir),
        model_dir=os.path.abspath(namespace.model_dir),
        output_data_dir=os.path.abspath(namespace.output_data_dir) if namespace.output_data_dir else None,
        epochs=namespace.epochs,
        lr=namespace.lr,
        batch_size=namespace.batch_size,
        model_name=namespace.model_name,
        pretrained=namespace.pretrained,
        image_size=namespace.image_size,
        num_workers=namespace.num_workers,
        seed=namespace.seed,
        quantization=QuantizationPolicy(
            enabled=getattr(namespace, QUANTIZATION["enabled"]["wireName"].replace("-", "_")),
            min_agreement=getattr(namespace, QUANTIZATION["minAgreement"]["wireName"].replace("-", "_")),
            max_accuracy_drop=getattr(namespace, QUANTIZATION["maxAccuracyDrop"]["wireName"].replace("-", "_")),
        ),
    )
