"""EC2 entry point: the same training as train.py, configured by CLI arguments or a JSON config file.

    python3 ec2_train.py --config config.json [--epochs 5 ...]

The config file holds the CLI options as keys without the dashes, e.g.
{"data-dir": "/data", "model-dir": "/model", "epochs": 2, "lr": 0.001, "batch-size": 32,
 "model-name": "resnet50", "pretrained": true}; `data_dir` spellings work too and CLI arguments win over
the file. Paths are local: the EC2 user data syncs the data from S3 before and uploads the model after.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Dict, List, Optional

from classifier.config import add_hyperparameters, add_paths, to_config
from classifier.engine import main_run


class ConfigFileError(ValueError):
    """The config file is missing, not JSON, or has an unknown key or bad value; the message names it."""


class OptionRecordingParser(argparse.ArgumentParser):
    """Remembers every long option it is given, so the config file's keys can be checked against them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.options: Dict[str, argparse.Action] = {}
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        for option in action.option_strings:
            if option.startswith("--") and option not in ("--help", "--config"):
                self.options[option[2:].replace("_", "-")] = action
        return action


def build_parser() -> OptionRecordingParser:
    parser = OptionRecordingParser(description="Train the image classifier on an EC2 instance.", allow_abbrev=False)
    parser.add_argument("--config", help="JSON file with the same keys as the options below")
    add_hyperparameters(parser)
    add_paths(parser)
    return parser


def read_config_file(path: str, parser: OptionRecordingParser) -> Dict[str, Any]:
    """Returns argparse defaults (dest -> checked value) from the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError:
        raise ConfigFileError(f"config file {path} not found") from None
    except OSError as error:
        raise ConfigFileError(f"cannot read config file {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise ConfigFileError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigFileError(f"config file {path} must hold a JSON object")
    actions = parser.options
    values: Dict[str, Any] = {}
    for key, value in raw.items():
        action = actions.get(str(key).replace("_", "-"))
        if action is None:
            raise ConfigFileError(f"config file {path}: unknown key {key!r}; known keys: {', '.join(sorted(actions))}")
        if value is None or isinstance(value, (dict, list)):
            raise ConfigFileError(f"config file {path}: key {key!r} must be a string, number or boolean")
        if action.type is None and not isinstance(value, str):
            raise ConfigFileError(f"config file {path}: key {key!r} must be a string")
        try:
            converted = action.type(str(value)) if action.type else value
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise ConfigFileError(f"config file {path}: key {key!r}: {error}") from None
        if action.choices is not None and converted not in action.choices:
            raise ConfigFileError(
                f"config file {path}: key {key!r} must be one of {', '.join(map(str, action.choices))}, got {value!r}"
            )
        values[action.dest] = converted
    return values


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    config_path = parser.parse_known_args(argv)[0].config
    if config_path:
        try:
            parser.set_defaults(**read_config_file(config_path, parser))
        except ConfigFileError as error:
            parser.error(str(error))
    args = parser.parse_args(argv)
    for option, value in (("data-dir", args.data_dir), ("model-dir", args.model_dir), ("output-data-dir", args.output_data_dir)):
        if value and value.startswith("s3://"):
            parser.error(f"--{option} {value}: expected a local path; sync S3 data to the instance first (aws s3 sync)")
    if not args.data_dir:
        parser.error("no training data: pass --data-dir or set data-dir in the --config file")
    if not args.model_dir:
        parser.error("no model directory: pass --model-dir or set model-dir in the --config file")
    return main_run(to_config(args))


if __name__ == "__main__":
    sys.exit(main())
