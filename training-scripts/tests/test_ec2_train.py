"""ec2_train.py as the EC2 user data runs it: `python3 ec2_train.py --config config.json` on local paths."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict

from conftest import LABELS, metric_values, run_script


def plain_env() -> Dict[str, str]:
    # Nothing of SageMaker's on the instance.
    return {key: value for key, value in os.environ.items() if not key.startswith("SM_")}


def write_config(path: Path, config: Dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))
    return path


def test_trains_from_config_file_with_cli_override(dataset_dir: Path, tmp_path: Path, metric_regexes) -> None:
    config = write_config(tmp_path / "config.json", {
        "data-dir": str(dataset_dir),
        "model-dir": str(tmp_path / "model"),
        "output_data_dir": str(tmp_path / "output"),
        "epochs": 1,
        "lr": 0.001,
        "batch-size": 8,
        "model-name": "resnet18",
        "pretrained": False,
        "image-size": 32,
        "num-workers": 0,
    })
    # The CLI wins over the file: three epochs, not one.
    result = run_script("ec2_train.py", ["--config", str(config), "--epochs", "3"], plain_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(metric_values(result.stdout, metric_regexes["validation:loss"])) == 3
    (accuracy,) = metric_values(result.stdout, metric_regexes["test:accuracy"])
    assert accuracy >= 0.9, result.stdout
    model_config = json.loads((tmp_path / "model" / "model_config.json").read_text())
    assert model_config["model_name"] == "resnet18"
    assert json.loads((tmp_path / "model" / "class_names.json").read_text()) == LABELS
    assert (tmp_path / "model" / "code" / "inference.py").is_file()
    assert (tmp_path / "output" / "metrics.json").is_file()


def test_trains_from_cli_arguments_alone(dataset_dir: Path, tmp_path: Path, metric_regexes) -> None:
    args = ["--data-dir", str(dataset_dir), "--model-dir", str(tmp_path / "model"), "--epochs", "1",
            "--lr", "0.01", "--batch-size", "8", "--model-name", "tiny-cnn", "--pretrained", "false",
            "--image-size", "32", "--num-workers", "0"]
    result = run_script("ec2_train.py", args, plain_env())
    assert result.returncode == 0, result.stderr
    assert len(metric_values(result.stdout, metric_regexes["test:loss"])) == 1
    assert (tmp_path / "model" / "model.pth").is_file()


def test_config_errors_name_the_file_and_key(dataset_dir: Path, tmp_path: Path) -> None:
    base = {"data-dir": str(dataset_dir), "model-dir": str(tmp_path / "model")}
    cases = [
        ({**base, "learning-rat": 0.1}, "unknown key 'learning-rat'"),
        ({**base, "epochs": "two"}, "key 'epochs'"),
        ({**base, "pretrained": "perhaps"}, "key 'pretrained'"),
        ({**base, "model-name": "vgg16"}, "key 'model-name' must be one of"),
        ({**base, "data-dir": 5}, "key 'data-dir' must be a string"),
        ([1, 2], "must hold a JSON object"),
    ]
    for index, (content, expected) in enumerate(cases):
        path = tmp_path / f"bad{index}.json"
        path.write_text(json.dumps(content))
        result = run_script("ec2_train.py", ["--config", str(path)], plain_env())
        assert result.returncode == 2, (content, result.stderr)
        assert str(path) in result.stderr and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_unreadable_config_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = run_script("ec2_train.py", ["--config", str(missing)], plain_env())
    assert result.returncode == 2
    assert f"config file {missing} not found" in result.stderr

    invalid = tmp_path / "invalid.json"
    invalid.write_text("{not json")
    result = run_script("ec2_train.py", ["--config", str(invalid)], plain_env())
    assert result.returncode == 2
    assert f"config file {invalid} is not valid JSON" in result.stderr


def test_paths_are_required_and_local(tmp_path: Path) -> None:
    result = run_script("ec2_train.py", ["--model-dir", str(tmp_path)], plain_env())
    assert result.returncode == 2 and "--data-dir" in result.stderr

    result = run_script("ec2_train.py", ["--data-dir", "s3://bucket/dogImages", "--model-dir", str(tmp_path)], plain_env())
    assert result.returncode == 2 and "s3://bucket/dogImages" in result.stderr and "aws s3 sync" in result.stderr

    result = run_script("ec2_train.py", ["--data-dir", str(tmp_path / "absent"), "--model-dir", str(tmp_path / "m"),
                                         "--num-workers", "0"], plain_env())
    assert result.returncode == 1 and str(tmp_path / "absent") in result.stderr
