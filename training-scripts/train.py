"""SageMaker script-mode entry point, for training jobs and every trial of a tuning job.

SageMaker runs `python train.py --epochs 2 --lr 0.01 --batch-size 32 --model-name resnet50
--pretrained true ...` with every value as a string, the data in SM_CHANNEL_TRAINING (channel
`training`), and uploads SM_MODEL_DIR as model.tar.gz and SM_OUTPUT_DATA_DIR as output.tar.gz.
`--data-dir`, `--model-dir` and `--output-data-dir` override those variables, so the script also runs
by hand. Hyperparameters it does not know, such as the `_tuning_objective_metric` a tuning job adds, are
logged and ignored.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional

from classifier.config import add_hyperparameters, add_paths, to_config
from classifier.engine import main_run

log = logging.getLogger("train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train the image classifier (SageMaker script mode).", allow_abbrev=False
    )
    add_hyperparameters(parser)
    add_paths(
        parser,
        data_dir=os.environ.get("SM_CHANNEL_TRAINING"),
        model_dir=os.environ.get("SM_MODEL_DIR"),
        output_data_dir=os.environ.get("SM_OUTPUT_DATA_DIR"),
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
    return main_run(to_config(args))


if __name__ == "__main__":
    sys.exit(main())
