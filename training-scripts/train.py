"""SageMaker script-mode entry point, for training jobs and every trial of a tuning job.

SageMaker runs `python train.py --epochs 2 --lr 0.01 --batch-size 32 --model-name resnet50
--pretrained true ...` with every value as a string, the data in SM_CHANNEL_TRAINING (channel
`training`), and uploads SM_MODEL_DIR as model.tar.gz and SM_OUTPUT_DATA_DIR as output.tar.gz.
`--data-dir`, `--model-dir` and `--output-data-dir` override those variables, so the script also runs
by hand. Hyperparameters it does not know, such as the `_tuning_objective_metric` a tuning job adds, are
logged and ignored.

On a training job with several instances SageMaker runs this script once per host; the hosts train as one
DistributedDataParallel group (classifier/distributed.py says how they find each other). The first host leads:
it alone prints the metric lines and writes the model. `--rendezvous-timeout` bounds how long a host waits
for the others before it fails.
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
from typing import List, NoReturn, Optional

from classifier.config import add_hyperparameters, add_paths, positive_float, to_config
from classifier.cluster import DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS, ClusterConfigError, cluster_from_env

log = logging.getLogger("train")
# SageMaker shows the first 1024 characters of this file in SM_OUTPUT_DIR as the job's FailureReason. The training
# toolkit writes it only when the script did not, and from stderr keeps only lines naming a Python exception class,
# so without it a job this script refused reads `ExitCode 2 ErrorMessage ""`.
FAILURE_FILE = "failure"
FAILURE_REASON_LIMIT = 1024


def report_failure(message: str) -> None:
    """Leaves `message` as the job's FailureReason (a no-op outside a SageMaker training container)."""
    output_dir = os.environ.get("SM_OUTPUT_DIR")
    if not output_dir:
        return
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, FAILURE_FILE), "w", encoding="utf-8") as failure:
        failure.write(message[:FAILURE_REASON_LIMIT])


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        report_failure(f"train.py: {message}")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        description="Train the image classifier (SageMaker script mode).", allow_abbrev=False
    )
    add_hyperparameters(parser)
    add_paths(
        parser,
        data_dir=os.environ.get("SM_CHANNEL_TRAINING"),
        model_dir=os.environ.get("SM_MODEL_DIR"),
        output_data_dir=os.environ.get("SM_OUTPUT_DATA_DIR"),
    )
    parser.add_argument(
        "--rendezvous-timeout", "--rendezvous_timeout", dest="rendezvous_timeout", type=positive_float,
        default=DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS,
        help="seconds a host waits for the others of a multi-instance job before failing",
    )
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        log.info("ignoring arguments this script does not use: %s", " ".join(unknown))
    if not args.data_dir:
        parser.error("no training data: set SM_CHANNEL_TRAINING (input channel 'training') or pass --data-dir")
    if not args.model_dir:
        parser.error("no model directory: set SM_MODEL_DIR or pass --model-dir")
    try:
        cluster = cluster_from_env(os.environ)
    except ClusterConfigError as error:
        parser.error(str(error))
    config = to_config(args)
    # torch takes seconds to import: only a run whose arguments and cluster are sound pays for it.
    from classifier.engine import main_run

    try:
        return main_run(config, cluster, datetime.timedelta(seconds=args.rendezvous_timeout))
    except Exception as error:
        report_failure(f"{type(error).__name__}: {error}")
        raise


if __name__ == "__main__":
    sys.exit(main())
