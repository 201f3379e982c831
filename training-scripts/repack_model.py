"""Makes a model.tar.gz deployable on the SageMaker PyTorch inference container, as the SageMaker Python SDK's
repack step does: adds code/ (inference.py, serving_handler.py, the classifier package, contract.json) next to the weights.

A model trained in the course holds only model.pth; the endpoint of this project loads code/inference.py
from the archive, so such a model must be repacked once before `training.mode: existing` can serve it:

    python3 repack_model.py --model-data model.tar.gz --output model-repacked.tar.gz
    aws s3 cp model-repacked.tar.gz s3://<bucket>/<prefix>/model.tar.gz

The weights are loaded once before packing, so an archive that would not serve is refused here, not on
the endpoint. An existing code/ directory is replaced by this checkout's.
"""
from __future__ import annotations

import argparse
import os
import sys
import tarfile
import tempfile
from typing import List, Optional

from classifier.artifacts import CODE_DIR, ModelDirError, copy_code, load_model_dir, pack_model_dir


class RepackError(ValueError):
    """The input archive is missing, unreadable, unsafe or holds no loadable model; the message says which."""


def _refuse_links_then_data_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
    # A model archive needs no links; the "data" filter refuses everything else unsafe (paths outside the
    # destination, absolute paths, device files) and drops special permission bits.
    if not (member.isfile() or member.isdir()):
        raise RepackError(f"refusing entry {member.name!r} (links and paths outside the archive are not allowed)")
    return tarfile.data_filter(member, destination)  # type: ignore[attr-defined]


def _check_members_by_hand(tar: tarfile.TarFile, root: str) -> None:
    """For Pythons without extraction filters (PEP 706: before 3.8.17, 3.9.17, 3.10.12, 3.11.4): the same refusals."""
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if not (member.isfile() or member.isdir()) or os.path.commonpath([root, target]) != root:
            raise RepackError(f"refusing entry {member.name!r} (links and paths outside the archive are not allowed)")


def safe_extract(archive: str, destination: str) -> None:
    """Extracts regular files and directories only, and none outside the destination."""
    root = os.path.realpath(destination)
    try:
        with tarfile.open(archive, "r:*") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, filter=_refuse_links_then_data_filter)
            else:
                _check_members_by_hand(tar, root)
                tar.extractall(root)
    except RepackError as error:
        raise RepackError(f"{archive}: {error}") from None
    except tarfile.TarError as error:
        # FilterError is a TarError; name the entry it refused.
        member = getattr(error, "tarinfo", None)
        if member is not None:
            raise RepackError(f"{archive}: refusing entry {member.name!r} ({error})") from None
        raise RepackError(f"{archive} is not a readable .tar.gz archive: {error}") from None
    except OSError as error:
        raise RepackError(f"{archive} is not a readable .tar.gz archive: {error}") from None


def repack(model_data: str, output: str) -> List[str]:
    """Writes the deployable archive to `output` and returns its member names."""
    if not os.path.isfile(model_data):
        raise RepackError(f"model archive {model_data} not found")
    with tempfile.TemporaryDirectory(prefix="repack-") as workdir:
        safe_extract(model_data, workdir)
        try:
            loaded = load_model_dir(workdir)
        except ModelDirError as error:
            raise RepackError(f"{model_data} holds no model this code can serve: {error}") from None
        print(f"{model_data}: {loaded.config.model_name}, {loaded.config.num_classes} classes", file=sys.stderr)
        copy_code(os.path.join(workdir, CODE_DIR))
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        pack_model_dir(workdir, output)
        with tarfile.open(output, "r:gz") as tar:
            return tar.getnames()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Add code/ to a model.tar.gz so the SageMaker PyTorch container can serve it.")
    parser.add_argument("--model-data", required=True, help="the model.tar.gz to repack (e.g. the course's)")
    parser.add_argument("--output", required=True, help="where to write the deployable model.tar.gz")
    args = parser.parse_args(argv)
    try:
        names = repack(args.model_data, args.output)
    except RepackError as error:
        print(f"repack_model: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(names)} entries, with {CODE_DIR}/inference.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
