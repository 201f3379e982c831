"""EC2 entry point: the same training as train.py, configured by CLI arguments or a JSON config file.

    python3 ec2_train.py --config config.json [--epochs 5 ...]

The config file holds the CLI options as keys without the dashes, e.g.
{"data-dir": "/data", "model-dir": "/model", "epochs": 2, "lr": 0.001, "batch-size": 32,
 "model-name": "resnet50", "pretrained": true}; `data_dir` spellings work too and CLI arguments win over
the file. Paths are local: the EC2 user data syncs the data from S3 first.

With --model-uri s3://bucket/key/model.tar.gz the run is one-shot: when that object already exists (this run
finished before, on an instance since replaced) it logs so and exits 0 without training; otherwise it trains,
packs the model directory into model.tar.gz and uploads it only if the key is still free (If-None-Match: *),
so a finished run's model is never overwritten.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from classifier.config import TrainConfig, add_hyperparameters, add_paths, to_config


LOG = logging.getLogger("ec2_train")


class ConfigFileError(ValueError):
    """The config file is missing, not JSON, or has an unknown key or bad value; the message names it."""


class ModelStoreError(RuntimeError):
    """S3 refused a model check or upload; the message names the URI and what to fix."""


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
    parser.add_argument("--model-uri", type=s3_object_uri,
                        help="s3://bucket/key of this run's model.tar.gz: skip training if it exists, else upload it once")
    return parser


def split_s3_uri(uri: str) -> Tuple[str, str]:
    """(bucket, key) of an s3:// URI; ("", "") for anything else."""
    if not uri.startswith("s3://"):
        return "", ""
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def s3_object_uri(value: str) -> str:
    bucket, key = split_s3_uri(value)
    if not bucket or not key or key.endswith("/"):
        raise argparse.ArgumentTypeError(f"expected an S3 object URI such as s3://bucket/path/model.tar.gz, got {value!r}")
    return value


def s3_client() -> Any:
    try:
        import boto3
    except ImportError:
        raise ModelStoreError(f"--model-uri needs boto3, which {sys.executable} does not have; "
                              "use the Deep Learning AMI's PyTorch environment (/opt/pytorch/bin/python)") from None
    # Older botocore (before 1.31) ignores the standard AWS_ENDPOINT_URL_S3 variable unless it is passed on.
    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None)


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) or str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def model_exists(client: Any, uri: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError
    bucket, key = split_s3_uri(uri)
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error_code(error)
        if code in ("404", "NoSuchKey", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ModelStoreError(f"cannot tell whether {uri} exists: access denied. The instance role needs s3:GetObject on it "
                                  "and s3:ListBucket on its prefix (without ListBucket S3 answers 403 for a missing object)") from None
        raise ModelStoreError(f"cannot tell whether {uri} exists: {error}") from None
    except BotoCoreError as error:
        raise ModelStoreError(f"cannot tell whether {uri} exists: {error}") from None
    return True


def upload_once(client: Any, archive: str, uri: str) -> bool:
    """Uploads unless the key exists by now (another instance of this run got there first); True if uploaded."""
    from botocore.exceptions import BotoCoreError, ClientError
    bucket, key = split_s3_uri(uri)

    def only_if_absent(request: Any, **_: Any) -> None:
        # S3's conditional write; set as a header because botocore before 1.35 has no IfNoneMatch parameter.
        request.headers["If-None-Match"] = "*"

    client.meta.events.register("before-sign.s3.PutObject", only_if_absent)
    try:
        with open(archive, "rb") as body:
            client.put_object(Bucket=bucket, Key=key, Body=body)
    except ClientError as error:
        if error_code(error) in ("412", "PreconditionFailed"):
            return False
        raise ModelStoreError(f"cannot upload the model to {uri}: {error}") from None
    except BotoCoreError as error:
        raise ModelStoreError(f"cannot upload the model to {uri}: {error}") from None
    return True


def train_once(config: TrainConfig, model_uri: str) -> int:
    """The one-shot run: skip a finished run, else train and upload without overwriting."""
    from classifier.artifacts import pack_model_dir
    from classifier.engine import main_run

    try:
        client = s3_client()
        if model_exists(client, model_uri):
            LOG.info("%s already exists: this run finished before; not training it again", model_uri)
            return 0
        status = main_run(config)
        if status != 0:
            return status
        with tempfile.TemporaryDirectory(prefix="ec2-train-") as workdir:
            archive = os.path.join(workdir, "model.tar.gz")
            pack_model_dir(config.model_dir, archive)
            if upload_once(client, archive, model_uri):
                LOG.info("uploaded the model to %s", model_uri)
            else:
                LOG.warning("%s appeared while this run trained; kept it and discarded this run's model", model_uri)
    except ModelStoreError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


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
    config = to_config(args)
    if args.model_uri:
        return train_once(config, args.model_uri)
    # torch takes seconds to import: only a run whose arguments are sound pays for it.
    from classifier.engine import main_run

    return main_run(config)


if __name__ == "__main__":
    sys.exit(main())
