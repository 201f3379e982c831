"""The Python reading of contract.json, the one declaration of the facts this side shares with TypeScript:
breed labels, hyperparameter wire names with their defaults and ranges (the quantization thresholds' too), model names, request limits, the
SageMaker name pattern and the training metrics.

The file sits next to the `classifier` package wherever the code runs: training-scripts/ in the repository,
the root of sourcedir.tar.gz in a training container, code/ in a model.tar.gz on an endpoint. This module
imports nothing but the standard library, so it loads without torch.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Pattern

CONTRACT_FILE = "contract.json"
CONTRACT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), CONTRACT_FILE)


class ContractError(RuntimeError):
    """contract.json is missing or malformed: a packaging mistake, never the caller's input."""


def _load(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError:
        raise ContractError(
            f"{path} not found: {CONTRACT_FILE} must ship next to the classifier package "
            "(sourcedir.tar.gz root, model.tar.gz code/)"
        ) from None
    except (OSError, json.JSONDecodeError) as error:
        raise ContractError(f"cannot read {path}: {error}") from None
    if not isinstance(raw, dict):
        raise ContractError(f"{path} must hold a JSON object")
    return raw


CONTRACT: Dict[str, Any] = _load(CONTRACT_PATH)

#: The breeds in class-index order (the dataset's numbered class folders), spelled as callers see them.
LABELS: List[str] = list(CONTRACT["labels"])
#: Hyperparameter specs by config key: wireName, type, default, min/max or choices, tuning.
HYPERPARAMETERS: Dict[str, Dict[str, Any]] = CONTRACT["hyperparameters"]
#: The int8 quantization switch and thresholds by config key (`training.quantization`), in the same spec shape.
QUANTIZATION: Dict[str, Dict[str, Any]] = CONTRACT["quantization"]
MODEL_NAMES: List[str] = list(HYPERPARAMETERS["modelName"]["choices"])
DEFAULT_MODEL: str = HYPERPARAMETERS["modelName"]["default"]
MAX_URL_LENGTH: int = CONTRACT["request"]["maxUrlLength"]
DEFAULT_TOP_K: int = CONTRACT["request"]["defaultTopK"]
#: SageMaker's pattern for endpoint, model and variant names; use `fullmatch` (`$` alone allows a trailing newline).
SAGEMAKER_NAME_PATTERN: Pattern[str] = re.compile(CONTRACT["namePatterns"]["sageMakerName"])
METRIC_DEFINITIONS: List[Dict[str, str]] = CONTRACT["metrics"]["definitions"]
