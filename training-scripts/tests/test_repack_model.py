"""repack_model.py turns a weights-only model.tar.gz into one the inference container serves."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from conftest import TrainedModel, run_script


def weights_only_archive(trained: TrainedModel, path: Path) -> Path:
    """A training output without code/, as an older or hand-made model.tar.gz is."""
    with tarfile.open(path, "w:gz") as tar:
        for name in ("model.pth", "model_config.json", "class_names.json"):
            tar.add(trained.model_dir / name, arcname=name)
    return path


def test_adds_code_and_keeps_the_model(trained_model: TrainedModel, tmp_path: Path) -> None:
    source = weights_only_archive(trained_model, tmp_path / "model.tar.gz")
    output = tmp_path / "out" / "model.tar.gz"
    result = run_script("repack_model.py", ["--model-data", str(source), "--output", str(output)], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    with tarfile.open(output) as tar:
        names = set(tar.getnames())
        assert {"model.pth", "model_config.json", "class_names.json", "code/inference.py", "code/serving_handler.py",
                "code/classifier/model.py", "code/classifier/artifacts.py",
                "code/classifier/image_fetch.py", "code/classifier/request_errors.py"} <= names
        assert not any("__pycache__" in name or name.startswith("code/tests") for name in names)
        labels = json.load(tar.extractfile("class_names.json"))  # type: ignore[arg-type]
    assert labels == json.loads((trained_model.model_dir / "class_names.json").read_text())


def test_repacked_archive_serves_through_its_own_inference_py(trained_model: TrainedModel, tmp_path: Path) -> None:
    source = weights_only_archive(trained_model, tmp_path / "model.tar.gz")
    output = tmp_path / "repacked.tar.gz"
    assert run_script("repack_model.py", ["--model-data", str(source), "--output", str(output)], env={"PATH": "/usr/bin:/bin"}).returncode == 0
    served = tmp_path / "served"
    with tarfile.open(output) as tar:
        tar.extractall(served)
    # What the container does: import code/inference.py from the model directory and call model_fn on it.
    check = (
        "import sys, json; sys.path.insert(0, sys.argv[1] + '/code'); import inference; "
        "m = inference.model_fn(sys.argv[1]); print(json.dumps(m.class_names if hasattr(m, 'class_names') else 'loaded'))"
    )
    result = run_script("-c", [check, str(served)], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_refuses_a_missing_archive_by_name(tmp_path: Path) -> None:
    result = run_script("repack_model.py", ["--model-data", str(tmp_path / "nope.tar.gz"), "--output", str(tmp_path / "o.tar.gz")], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert f"model archive {tmp_path / 'nope.tar.gz'} not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuses_path_traversal(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = run_script("repack_model.py", ["--model-data", str(evil), "--output", str(tmp_path / "o.tar.gz")], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "refusing entry '../outside.txt'" in result.stderr
    assert not (tmp_path.parent / "outside.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_refuses_links(tmp_path: Path, kind: bytes) -> None:
    evil = tmp_path / "link.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("model.pth")
        info.type = kind
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    result = run_script("repack_model.py", ["--model-data", str(evil), "--output", str(tmp_path / "o.tar.gz")], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "refusing entry 'model.pth'" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuses_an_absolute_path(tmp_path: Path) -> None:
    evil = tmp_path / "absolute.tar.gz"
    target = tmp_path / "absolute-target.txt"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo(str(target))
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    result = run_script("repack_model.py", ["--model-data", str(evil), "--output", str(tmp_path / "o.tar.gz")], env={"PATH": "/usr/bin:/bin"})
    # Refused (by hand) or extracted inside the destination (the "data" filter strips the leading slash).
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not target.exists()


def test_refuses_an_archive_without_weights(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tar:
        info = tarfile.TarInfo("README")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    result = run_script("repack_model.py", ["--model-data", str(empty), "--output", str(tmp_path / "o.tar.gz")], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "holds no model this code can serve" in result.stderr and "model.pth" in result.stderr
