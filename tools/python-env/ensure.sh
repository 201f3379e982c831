#!/usr/bin/env bash
# Creates .venv, the Python environment of the tests, benchmarks and local mode, from python/requirements.lock
# (hash-pinned to the SageMaker PyTorch containers' versions), or refreshes it when the lock or the interpreter
# changed. Does nothing when it is current, so every test command can call it.
#
#   tools/python-env/ensure.sh          PYTHON=python3.12 tools/python-env/ensure.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
lock="$root/python/requirements.lock"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "python-env: no '$python' on PATH; install Python 3.11 or later, or set PYTHON" >&2
    exit 2
fi
want="$( { sha256sum <"$lock"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

echo "python-env: creating .venv from python/requirements.lock (torch, TorchServe, the SageMaker toolkits: a few minutes the first time)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
# --no-deps installs exactly the lock; `pip check` proves the lock is complete and consistent.
"$venv/bin/python" -m pip check >&2
echo "$want" >"$stamp"
echo "python-env: ready ($("$venv/bin/python" -c 'import torch, ts.version; print("torch", torch.__version__, "torchserve", ts.version.__version__)'))" >&2
