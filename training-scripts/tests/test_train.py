"""train.py run as SageMaker runs it: a subprocess with SM_* variables and string hyperparameters."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from conftest import (
    LABELS,
    SAGEMAKER_HYPERPARAMETERS,
    SCRIPTS_DIR,
    TrainedModel,
    metric_values,
    run_script,
    sagemaker_env,
)


def test_model_directory_is_deployable(trained_model: TrainedModel) -> None:
    model_dir = trained_model.model_dir
    for name in ("model.pth", "model_config.json", "class_names.json", "code/inference.py",
                 "code/serving_handler.py", "code/classifier/__init__.py", "code/classifier/artifacts.py",
                 "code/contract.json"):
        assert (model_dir / name).is_file(), name
    assert not list(model_dir.rglob("__pycache__")), "caches must stay out of model.tar.gz"
    assert not (model_dir / "code" / "tests").exists()
    assert json.loads((model_dir / "class_names.json").read_text()) == LABELS
    config = json.loads((model_dir / "model_config.json").read_text())
    assert config["model_name"] == "tiny-cnn"
    assert config["num_classes"] == 3
    assert config["image_size"] == 32
    assert len(config["mean"]) == 3 and len(config["std"]) == 3


def test_the_code_dir_finds_its_contract_away_from_the_checkout(trained_model: TrainedModel, tmp_path: Path) -> None:
    """On an endpoint only model.tar.gz exists: inference.py must read the contract.json shipped in code/."""
    deployed = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, deployed)
    probe = ("import json, sys; sys.path.insert(0, sys.argv[1]); import inference; "
             "from classifier import artifacts, contract; "
             "print(json.dumps({'path': contract.CONTRACT_PATH, 'labels': artifacts.default_class_names(133)}))")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", probe, str(deployed / "code")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["path"] == str(deployed / "code" / "contract.json")
    with open(deployed / "code" / "contract.json", encoding="utf-8") as handle:
        assert answer["labels"] == json.load(handle)["labels"]
    assert answer["labels"][1] == "Afghan hound"


def test_metric_lines_match_the_tuning_regexes(trained_model: TrainedModel, metric_regexes) -> None:
    stdout = trained_model.result.stdout
    assert len(metric_values(stdout, metric_regexes["validation:loss"])) == 3  # one per epoch
    assert len(metric_values(stdout, metric_regexes["validation:accuracy"])) == 3
    assert len(metric_values(stdout, metric_regexes["test:loss"])) == 1
    assert len(metric_values(stdout, metric_regexes["test:accuracy"])) == 1
    assert any(line.startswith("Testing Loss: ") for line in stdout.splitlines())
    assert "ignoring arguments this script does not use: --_tuning_objective_metric test:loss" in stdout


def test_model_learned(trained_model: TrainedModel, metric_regexes) -> None:
    stdout = trained_model.result.stdout
    (test_accuracy,) = metric_values(stdout, metric_regexes["test:accuracy"])
    (test_loss,) = metric_values(stdout, metric_regexes["test:loss"])
    validation_losses = metric_values(stdout, metric_regexes["validation:loss"])
    assert test_accuracy >= 0.9, stdout  # chance is 1/3
    assert test_loss < 1.0986  # ln(3): the loss of a uniform guess
    assert validation_losses[-1] < validation_losses[0]
    extra = json.loads((trained_model.output_dir / "metrics.json").read_text())
    assert extra["test_accuracy"] == test_accuracy or abs(extra["test_accuracy"] - test_accuracy) < 1e-5
    assert len(extra["history"]) == 3


def test_runs_from_an_unpacked_sourcedir_tarball(dataset_dir: Path, tmp_path: Path, metric_regexes) -> None:
    """What the Pulumi program uploads: the files sourcedir.manifest declares, unpacked by SageMaker elsewhere."""
    scripts = Path(__file__).resolve().parent.parent
    manifest = (scripts / "sourcedir.manifest").read_text().splitlines()
    patterns = [line.split("#", 1)[0].strip() for line in manifest if line.split("#", 1)[0].strip()]
    # Path.glob's `*` stays within one path segment, as the manifest's does.
    shipped = sorted({path for pattern in patterns for path in scripts.glob(pattern) if path.is_file()})
    tarball = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for path in shipped:
            tar.add(path, arcname=str(path.relative_to(scripts)))
    code = tmp_path / "code"
    with tarfile.open(tarball) as tar:
        tar.extractall(code)
    # The course's hyperparameter spellings, as its tuning setup passes them; the training toolkit
    # JSON-decodes hyperparameter strings and prints them back, so "false" arrives as "False".
    args = ["--epochs", "1", "--learning_rate", "0.01", "--batch_size", "8", "--model-name", "tiny-cnn",
            "--pretrained", "False", "--image-size", "32", "--num-workers", "0"]
    # --data-dir overrides the channel variable.
    args += ["--data-dir", str(dataset_dir)]
    env = sagemaker_env(tmp_path / "unused-channel", tmp_path / "model", tmp_path / "output")
    result = run_script("train.py", args, env, cwd=code)
    assert result.returncode == 0, result.stderr
    assert len(metric_values(result.stdout, metric_regexes["test:loss"])) == 1
    assert (tmp_path / "model" / "code" / "inference.py").is_file()


def test_missing_data_channel_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-channel"
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, sagemaker_env(missing, tmp_path / "m", tmp_path / "o"))
    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


def test_unset_channel_variable_is_named(tmp_path: Path) -> None:
    env = sagemaker_env(tmp_path, tmp_path / "m", tmp_path / "o")
    del env["SM_CHANNEL_TRAINING"]
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, env)
    assert result.returncode != 0
    assert "SM_CHANNEL_TRAINING" in result.stderr and "--data-dir" in result.stderr
    assert "KeyError" not in result.stderr


def test_missing_split_is_named(dataset_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset_dir, data)
    shutil.rmtree(data / "valid")
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, sagemaker_env(data, tmp_path / "m", tmp_path / "o"))
    assert result.returncode == 1
    assert str(data / "valid") in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_image_is_named(dataset_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset_dir, data)
    broken = data / "train" / "002.green" / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG")
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, sagemaker_env(data, tmp_path / "m", tmp_path / "o"))
    assert result.returncode == 1
    assert f"cannot read image {broken}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m" / "model.pth").exists()


def test_mismatched_classes_are_named(dataset_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset_dir, data)
    shutil.move(str(data / "test" / "003.blue"), str(data / "test" / "003.navy"))
    result = run_script("train.py", SAGEMAKER_HYPERPARAMETERS, sagemaker_env(data, tmp_path / "m", tmp_path / "o"))
    assert result.returncode == 1
    assert str(data / "test") in result.stderr and "003.navy" in result.stderr


def test_bad_hyperparameter_values_are_named(dataset_dir: Path, tmp_path: Path) -> None:
    env = sagemaker_env(dataset_dir, tmp_path / "m", tmp_path / "o")
    for option, value, expected in (
        ("--pretrained", "maybe", "--pretrained"),
        ("--lr", "-1", "--lr"),
        ("--batch-size", "0", "--batch-size"),
        ("--model-name", "vgg16", "--model-name"),
    ):
        result = run_script("train.py", ["--num-workers", "0", option, value], env)
        assert result.returncode == 2, (option, result.stderr)
        assert expected in result.stderr and value in result.stderr


def test_tiny_cnn_refuses_pretrained(dataset_dir: Path, tmp_path: Path) -> None:
    env = sagemaker_env(dataset_dir, tmp_path / "m", tmp_path / "o")
    result = run_script("train.py", ["--model-name", "tiny-cnn", "--pretrained", "true", "--num-workers", "0"], env)
    assert result.returncode == 1
    assert "tiny-cnn" in result.stderr and "--pretrained false" in result.stderr


def test_arguments_are_refused_before_torch_is_imported(tmp_path: Path) -> None:
    """A bad hyperparameter or cluster fails in a fraction of a second: torch (seconds to import) is loaded only for
    a run whose arguments and environment are sound."""
    probe = (
        "import sys, train\n"
        "try:\n"
        "    train.main(['--lr', '-1'])\n"
        "except SystemExit as stop:\n"
        "    print(stop.code, 'torch' in sys.modules)\n"
    )
    env = sagemaker_env(tmp_path, tmp_path / "m", tmp_path / "o")
    result = subprocess.run([sys.executable, "-c", probe], cwd=SCRIPTS_DIR, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["2", "False"], result.stdout + result.stderr
    assert "--lr" in result.stderr
