"""Training settings and the command-line arguments both entry points share.

SageMaker passes every hyperparameter as a string (`--lr 0.01 --pretrained false`), so each option has a
converter that turns such a string into a checked value, and the EC2 config file goes through the same
converters.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Optional

from .model import DEFAULT_MODEL, MODELS

DEFAULT_EPOCHS = 2
DEFAULT_LR = 0.001
DEFAULT_BATCH_SIZE = 32
DEFAULT_NUM_WORKERS = 2
DEFAULT_SEED = 0


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


def add_hyperparameters(parser: argparse.ArgumentParser) -> None:
    """The hyperparameters; `--learning_rate` and `--batch_size` are the course's spellings."""
    parser.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS)
    parser.add_argument("--lr", "--learning_rate", "--learning-rate", dest="lr", type=positive_float, default=DEFAULT_LR)
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--model-name", "--model_name", dest="model_name", choices=sorted(MODELS), default=DEFAULT_MODEL)
    parser.add_argument("--pretrained", type=parse_bool, default=True, help="true|false")
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
    )
