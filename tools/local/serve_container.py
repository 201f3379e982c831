"""Starts the SageMaker PyTorch inference container's model server on this machine: the toolkit's own start path
(sagemaker_pytorch_serving_container.serving, sagemaker-pytorch-inference 2.0.25) running the real TorchServe
0.12 (a Java process and one Python worker process per model copy) on a local model directory.

    .venv/bin/python tools/local/serve_container.py --model-dir <dir> --port 8080 [--work-dir <dir>]

The model server reads the Model's environment exactly as on SageMaker (SAGEMAKER_TS_*, SAGEMAKER_MODEL_SERVER_*,
TS_DEFAULT_SERVICE_HANDLER, ...): pass them in this process's environment. What differs from the container, and why:
- SAGEMAKER_BASE_DIR points at a work directory whose model/ is the model directory (the container's /opt/ml).
- TorchServe listens on 127.0.0.1 only, for its inference and management APIs (one port, as in the container)
  and its metrics and gRPC ports (free ports, so several servers can run side by side); in the container
  SageMaker's network keeps 0.0.0.0 private, here nothing would.
- The toolkit writes its TorchServe config to /etc/sagemaker-ts.properties and finds TorchServe by scanning every
  process on the machine (and refuses to start beside another); here the config goes to the work directory and
  only this process's own TorchServe is looked for. This process is made a child subreaper so the TorchServe that
  `torchserve --start` leaves behind stays its descendant, and a stop reaches it.
SIGTERM stops TorchServe through the toolkit's own handler; the exit status is TorchServe's.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import sys
import tempfile
import time
from typing import List, Optional

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TORCHSERVE_LOOKUP_SECONDS = 10.0
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def become_subreaper() -> None:
    """Keeps TorchServe a descendant of this process, and stops this process (and so TorchServe, through the
    toolkit's SIGTERM handler) when whatever started it dies without stopping it: no model server outlives a
    killed test run or benchmark."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def prepare_environment(model_dir: str, port: int, work_dir: str) -> None:
    base_dir = os.path.join(work_dir, "opt-ml")
    os.makedirs(base_dir, exist_ok=True)
    link = os.path.join(base_dir, "model")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.abspath(model_dir), link)
    address = f"http://{LOOPBACK}:{port}"
    os.environ.update({
        "SAGEMAKER_BASE_DIR": base_dir,
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "TS_INFERENCE_ADDRESS": address,
        "TS_MANAGEMENT_ADDRESS": address,
        "TS_METRICS_ADDRESS": f"http://{LOOPBACK}:{free_port()}",
        "TS_GRPC_INFERENCE_ADDRESS": LOOPBACK,
        "TS_GRPC_MANAGEMENT_ADDRESS": LOOPBACK,
        "TS_GRPC_INFERENCE_PORT": str(free_port()),
        "TS_GRPC_MANAGEMENT_PORT": str(free_port()),
        # TorchServe's CLI keeps its pid file in the temporary directory and refuses a second server beside it.
        "TMPDIR": work_dir,
        "LOG_LOCATION": os.path.join(work_dir, "logs"),
        "METRICS_LOCATION": os.path.join(work_dir, "logs"),
    })
    # The model server's executables (torchserve, java's Python workers) come from this interpreter's environment.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    os.chdir(work_dir)


def own_torchserve(namespace: str):  # -> psutil.Process
    import psutil

    deadline = time.monotonic() + TORCHSERVE_LOOKUP_SECONDS
    while True:
        found = []
        for process in psutil.Process().children(recursive=True):
            try:
                if process.status() != psutil.STATUS_ZOMBIE and namespace in process.cmdline():
                    found.append(process)
            except psutil.NoSuchProcess:
                continue
        if len(found) == 1:
            return found[0]
        if time.monotonic() > deadline:
            raise RuntimeError(f"expected one TorchServe process of this server, found {len(found)}")
        time.sleep(0.2)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--model-dir", required=True, help="the unpacked model.tar.gz (model.pth, code/, ...)")
    parser.add_argument("--port", type=int, default=8080, help="the container port: /ping and /invocations")
    parser.add_argument("--work-dir", help="TorchServe's working directory (config, logs, model store); a new "
                                           "temporary directory by default")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.model_dir):
        parser.error(f"--model-dir {args.model_dir} is not a directory")
    work_dir = os.path.abspath(args.work_dir or tempfile.mkdtemp(prefix="torchserve-"))
    os.makedirs(work_dir, exist_ok=True)
    become_subreaper()
    prepare_environment(args.model_dir, args.port, work_dir)

    # Imported only now: the toolkit reads SAGEMAKER_BASE_DIR and the working directory when it is imported.
    from sagemaker_pytorch_serving_container import serving, torchserve

    torchserve.TS_CONFIG_FILE = os.path.join(work_dir, "sagemaker-ts.properties")
    torchserve._retrieve_ts_server_process = lambda: own_torchserve(torchserve.TS_NAMESPACE)
    serving.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
