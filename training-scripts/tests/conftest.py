"""Fixtures: a tiny separable ImageFolder dataset, the metric regexes of contract.json, and a model trained
once by running train.py the way SageMaker does, shared by the inference tests."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest
from hypothesis import settings

SCRIPTS_DIR = Path(__file__).resolve().parent.parent
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

from synthetic_images import (  # noqa: F401  (re-exported for the test modules)
    CLASS_COLOURS, IMAGE_SIZE, IMAGES_PER_SPLIT, LABELS, colour_image, image_bytes, make_dataset,
)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def metric_regexes() -> Dict[str, re.Pattern]:
    from classifier.contract import METRIC_DEFINITIONS
    return {definition["name"]: re.compile(definition["regex"]) for definition in METRIC_DEFINITIONS}


def metric_values(stdout: str, pattern: re.Pattern) -> List[float]:
    """What SageMaker extracts: the first capture group of every line the regex matches."""
    return [float(match.group(1)) for line in stdout.splitlines() for match in [pattern.search(line)] if match]


def sagemaker_env(data_dir: Path, model_dir: Path, output_dir: Path) -> Dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
    env.update(
        SM_CHANNEL_TRAINING=str(data_dir),
        SM_MODEL_DIR=str(model_dir),
        SM_OUTPUT_DATA_DIR=str(output_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_script(script: str, args: List[str], env: Dict[str, str], cwd: Path = SCRIPTS_DIR) -> subprocess.CompletedProcess:
    # SageMaker script mode runs the entry point from the unpacked source directory.
    return subprocess.run(
        [sys.executable, script, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@dataclass
class TrainedModel:
    model_dir: Path
    output_dir: Path
    result: subprocess.CompletedProcess


SAGEMAKER_HYPERPARAMETERS = [
    "--epochs", "3", "--lr", "0.01", "--batch-size", "8", "--model-name", "tiny-cnn", "--pretrained", "false",
    "--image-size", str(IMAGE_SIZE), "--num-workers", "0",
    # A tuning job adds this one; the script must ignore it.
    "--_tuning_objective_metric", "test:loss",
]


@pytest.fixture(scope="session")
def trained_model(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    root = tmp_path_factory.mktemp("sagemaker")
    model_dir, output_dir = root / "model", root / "output"
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, sagemaker_env(dataset_dir, model_dir, output_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return TrainedModel(model_dir=model_dir, output_dir=output_dir, result=result)


# Property-based tests: fixed examples by default (the same run on every machine, CI included); `npm run fuzz`
# selects the "fuzz" profile, which draws new random examples and many more of them.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("fuzz", max_examples=2000, database=None, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
