"""The model train.py writes, served by the SageMaker PyTorch inference container's real model server: the toolkit's
start path (sagemaker-pytorch-inference 2.0.25) running TorchServe 0.12 (tools/local/serve_container.py).

Two handlers: the toolkit's stock one (what a Model without TS_DEFAULT_SERVICE_HANDLER runs), whose behaviour
clients meet is pinned here as it is, and the project's serving_handler.py (what the stack deploys), with batching
off and on."""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import CLASS_COLOURS, LABELS, SCRIPTS_DIR, TrainedModel, colour_image, image_bytes

RED, GREEN, BLUE = CLASS_COLOURS.values()
SERVE_CONTAINER = SCRIPTS_DIR.parent / "tools" / "local" / "serve_container.py"
PROJECT_HANDLER = "serving_handler:handle"
READY_SECONDS = 120
LOAD_FAILURE = re.compile(r"Backend worker error|Backend worker process died|Load model failed")
RED_JPEG = image_bytes(colour_image(RED, 11), "JPEG")
BLUE_PNG = image_bytes(colour_image(BLUE, 12), "PNG")


class ModelServer:
    def __init__(self, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    def log_so_far(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log(self) -> str:
        """The log once it has stopped growing: the JVM copies a worker's output in on its own time, after the
        worker has answered."""
        deadline = time.monotonic() + 10
        size = -1
        while time.monotonic() < deadline:
            current = self.log_path.stat().st_size
            if current == size:
                break
            size = current
            time.sleep(0.5)
        return self.log_so_far()

    def request(self, body: bytes = b"", headers: Optional[Dict[str, str]] = None, path: str = "/invocations",
                method: str = "POST") -> Tuple[int, Dict[str, str], bytes]:
        """http.client sends exactly the headers given: no Content-Type unless the test sets one."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body if method == "POST" else None, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(model_dir: Path, env: Dict[str, str]) -> Tuple[subprocess.Popen, int, Path]:
    work_dir = Path(tempfile.mkdtemp(prefix="torchserve-test-"))
    port = free_port()
    log = open(work_dir / "server.log", "wb")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SAGEMAKER_", "TS_", "INFERENCE_"))}
    full_env.update(SAGEMAKER_PROGRAM="inference.py", IMAGE_FETCH_ALLOW_PRIVATE="true", PYTHONDONTWRITEBYTECODE="1",
                    **env)
    process = subprocess.Popen(
        [sys.executable, str(SERVE_CONTAINER), "--model-dir", str(model_dir), "--port", str(port),
         "--work-dir", str(work_dir / "ts")],
        stdout=log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True,
    )
    return process, port, work_dir


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def workers(server: ModelServer) -> List[Dict[str, object]]:
    """The model's workers as TorchServe's management API describes them (same port, as in the container)."""
    status, _, body = server.request(path="/models/model", method="GET")
    return json.loads(body)[0]["workers"] if status == 200 else []


def workers_ready(server: ModelServer) -> bool:
    """Every worker of the model has loaded it. /ping alone does not tell: it answers 200 while the workers are still
    loading, or failing to."""
    current = workers(server)
    return bool(current) and all(worker["status"] == "READY" for worker in current)


def wait_for(server: ModelServer) -> Optional[str]:
    """None once every worker is ready; otherwise what went wrong (a load failure TorchServe logged, or the time)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return f"the launcher exited with {server.process.returncode}"
        # What is there now: waiting for the log to settle would stall this poll while the workers load.
        failure = LOAD_FAILURE.search(server.log_so_far())
        if failure:
            return failure.group(0)
        try:
            if server.request(path="/ping", method="GET")[0] == 200 and workers_ready(server):
                return None
        except OSError:
            pass
        time.sleep(0.25)
    return f"not ready within {READY_SECONDS} s"


@contextmanager
def serving(model_dir: Path, **env: str) -> Iterator[ModelServer]:
    process, port, work_dir = start(model_dir, env)
    server = ModelServer(process, port, work_dir / "server.log")
    try:
        problem = wait_for(server)
        assert problem is None, f"{problem}\n{server.log()[-3000:]}"
        yield server
    finally:
        stop(process)
        shutil.rmtree(work_dir, ignore_errors=True)


def labels(body: bytes) -> List[str]:
    return [prediction["label"] for prediction in json.loads(body)["predictions"]]


def concurrently(server: ModelServer, bodies: List[Tuple[bytes, Dict[str, str]]]) -> List[Tuple[int, Dict[str, str], bytes]]:
    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda item: server.request(item[0], item[1]), bodies))


def forward_passes(log: str) -> List[int]:
    """The batch size of every predict_fn call serving_handler.py logged."""
    return [int(size) for size in re.findall(r"one forward pass for (\d+) request", log)]


@pytest.fixture(scope="module")
def stock(trained_model: TrainedModel) -> Iterator[ModelServer]:
    with serving(trained_model.model_dir) as server:
        yield server


@pytest.fixture(scope="module")
def project(trained_model: TrainedModel) -> Iterator[ModelServer]:
    with serving(trained_model.model_dir, TS_DEFAULT_SERVICE_HANDLER=PROJECT_HANDLER) as server:
        yield server


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    images = {"/red.png": image_bytes(colour_image(RED, 101), "PNG"), "/green.jpg": image_bytes(colour_image(GREEN, 102), "JPEG")}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = images.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "image/jpeg")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# The stock handler: what clients of a Model without TS_DEFAULT_SERVICE_HANDLER get.

def test_stock_handler_classifies_and_labels_the_answer_with_the_request_accept(stock: ModelServer) -> None:
    status, headers, body = stock.request(RED_JPEG, {"Content-Type": "image/jpeg", "Accept": "application/json; topk=2"})
    assert status == 200
    assert labels(body)[0] == "red" and len(labels(body)) == 2
    # The toolkit echoes the request's Accept, parameters and all, as the response's Content-Type.
    assert headers["content-type"] == "application/json; topk=2"


def test_stock_handler_answers_no_content_type_with_415_and_a_traceback(stock: ModelServer) -> None:
    status, _, body = stock.request(RED_JPEG, {})
    assert status == 415
    assert b"unsupported content type None" in body and b"Traceback (most recent call last)" in body


def test_stock_handler_answers_json_that_is_not_utf8_with_500(stock: ModelServer) -> None:
    status, _, body = stock.request(b'{"url": "\xff"}', {"Content-Type": "application/json"})
    assert status == 500
    assert b"codec can't decode" in body and b"Traceback" in body


def test_stock_handler_error_bodies_carry_the_traceback(stock: ModelServer) -> None:
    status, _, body = stock.request(b"not an image", {"Content-Type": "image/jpeg"})
    assert status == 400
    text = body.decode()
    assert text.startswith("the body is not a readable JPEG or PNG image")
    assert "Traceback (most recent call last)" in text and "/inference.py" in text


def test_stock_handler_fails_a_whole_batch_for_one_bad_request(trained_model: TrainedModel) -> None:
    with serving(trained_model.model_dir, SAGEMAKER_TS_BATCH_SIZE="4", SAGEMAKER_TS_MAX_BATCH_DELAY="1000") as server:
        answers = concurrently(server, [(b"not an image", {"Content-Type": "image/jpeg"})]
                               + [(RED_JPEG, {"Content-Type": "image/jpeg"})] * 3)
    # The stock handler answers one body for the whole batch, so TorchServe fails every request of it.
    statuses = sorted(status for status, _, _ in answers)
    assert 503 in statuses, statuses
    assert any(b"number of batch response mismatched" in body for status, _, body in answers if status == 503)


# The project's handler, as the stack deploys it (TS_DEFAULT_SERVICE_HANDLER=serving_handler:handle).

def test_project_handler_classifies_bytes_and_urls(project: ModelServer, image_host: str) -> None:
    status, headers, body = project.request(RED_JPEG, {"Content-Type": "image/jpeg"})
    assert (status, headers["content-type"], labels(body)[0]) == (200, "application/json", "red")
    status, _, body = project.request(BLUE_PNG, {"Content-Type": "image/png", "Accept": "application/json; topk=1"})
    assert (status, labels(body)) == (200, ["blue"])
    status, _, body = project.request(json.dumps({"url": f"{image_host}/green.jpg", "topK": 3}).encode(),
                                      {"Content-Type": "application/json"})
    assert status == 200 and labels(body)[0] == "green" and sorted(labels(body)) == sorted(LABELS)
    assert "serving_handler: model loaded" in project.log()


@pytest.mark.parametrize("body, headers, status, message", [
    (RED_JPEG, {}, 415, "unsupported content type None"),
    (b'{"url": "\xff"}', {"Content-Type": "application/json"}, 400, "body is not UTF-8"),
    (b"not an image", {"Content-Type": "image/jpeg"}, 400, "not a readable JPEG or PNG"),
    (RED_JPEG, {"Content-Type": "image/jpeg", "Accept": "text/csv"}, 406, "unsupported Accept"),
    (RED_JPEG, {"Content-Type": "image/jpeg", "Accept": "application/json; topk=9"}, 400, "exceeds the number of classes"),
    (b'{"url": "file:///etc/passwd"}', {"Content-Type": "application/json"}, 400, "file"),
])
def test_project_handler_errors_are_json_with_their_status_and_no_traceback(
        project: ModelServer, body: bytes, headers: Dict[str, str], status: int, message: str) -> None:
    got_status, got_headers, got_body = project.request(body, headers)
    assert got_status == status, got_body
    assert got_headers["content-type"] == "application/json"
    payload = json.loads(got_body)
    assert set(payload) == {"message"} and message in payload["message"]
    assert "Traceback" not in payload["message"] and "/inference.py" not in payload["message"]


def test_project_handler_batches_and_a_bad_request_fails_alone(trained_model: TrainedModel) -> None:
    with serving(trained_model.model_dir, TS_DEFAULT_SERVICE_HANDLER=PROJECT_HANDLER,
                 SAGEMAKER_TS_BATCH_SIZE="4", SAGEMAKER_TS_MAX_BATCH_DELAY="1000") as server:
        good = (RED_JPEG, {"Content-Type": "image/jpeg"})
        answers = concurrently(server, [good, (b"not an image", {"Content-Type": "image/jpeg"}), good,
                                        (BLUE_PNG, {"Content-Type": "image/png"})])
        log = server.log()
    assert [status for status, _, _ in answers] == [200, 400, 200, 200]
    assert [labels(body)[0] for status, _, body in answers if status == 200] == ["red", "red", "blue"]
    assert json.loads(answers[1][2])["message"].startswith("the body is not a readable JPEG or PNG")
    passes = forward_passes(log)
    # Three good requests, in fewer forward passes than requests: TorchServe batched them and predict_fn ran per batch.
    assert sum(passes) == 3 and len(passes) < 3, passes
    assert "warmed up at batch sizes 1, 2, 3, 4" in log


def test_a_failing_forward_pass_is_a_500_without_internals(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    with open(model_dir / "code" / "inference.py", "a", encoding="utf-8") as handlers:
        handlers.write("\n\ndef predict_fn(input_data, model):\n"
                       "    raise RuntimeError('CUDA out of memory at /opt/ml/model/secret')\n")
    with serving(model_dir, TS_DEFAULT_SERVICE_HANDLER=PROJECT_HANDLER) as server:
        status, headers, body = server.request(RED_JPEG, {"Content-Type": "image/jpeg"})
        log = server.log()
    assert (status, headers["content-type"]) == (500, "application/json")
    assert "secret" not in body.decode() and "Traceback" not in body.decode()
    assert "CUDA out of memory at /opt/ml/model/secret" in log, "the cause goes to the endpoint's log"


def test_a_broken_handler_module_fails_the_load_loudly(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    (model_dir / "code" / "serving_handler.py").write_text("import a_module_the_container_does_not_have\n")
    process, port, work_dir = start(model_dir, {"TS_DEFAULT_SERVICE_HANDLER": PROJECT_HANDLER})
    server = ModelServer(process, port, work_dir / "server.log")
    try:
        problem = wait_for(server)
        # What SageMaker's health check sees meanwhile: TorchServe's /ping still says Healthy, so an endpoint with
        # a broken handler can go InService and never answer. Only a load like this one catches it before a deploy.
        ping = server.request(path="/ping", method="GET")
        log = server.log()
    finally:
        stop(process)
        shutil.rmtree(work_dir, ignore_errors=True)
    assert problem is not None and LOAD_FAILURE.search(problem), problem
    assert ping[0] == 200 and json.loads(ping[2])["status"] == "Healthy"
    assert "No module named 'a_module_the_container_does_not_have'" in log


def test_the_model_server_listens_on_loopback_only(project: ModelServer) -> None:
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    own = [line for line in listening.splitlines() if f":{project.port} " in line]
    assert own and all("127.0.0.1" in line for line in own), own
    # The management API shares the port, as in the container: reachable only from this machine.
    status, _, body = project.request(path="/models", method="GET")
    assert status == 200 and json.loads(body)["models"][0]["modelName"] == "model"


@pytest.fixture(scope="module")
def slow_host() -> Iterator[Tuple[str, threading.Event]]:
    """An image host that answers only after SLOW_HOST_SECONDS, as a slow or hostile host does; the event is set
    once a worker's fetch has reached it."""
    fetching = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            fetching.set()
            time.sleep(SLOW_HOST_SECONDS)
            body = image_bytes(colour_image(RED, 7), "PNG")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/slow.png", fetching
    httpd.shutdown()
    httpd.server_close()


SLOW_HOST_SECONDS = 6


def test_a_slow_image_host_holds_the_worker_until_torchserve_kills_it(trained_model: TrainedModel,
                                                                      slow_host: Tuple[str, threading.Event]) -> None:
    """TorchServe's limits, scaled down (on SageMaker: a 60 s response timeout and a queue of 100): a request whose
    image host is slow holds the worker past the response timeout, TorchServe kills the worker (and reloads the
    model) and the request fails; requests past the queue's length are refused with 503 meanwhile."""
    with serving(trained_model.model_dir, TS_DEFAULT_SERVICE_HANDLER=PROJECT_HANDLER, SAGEMAKER_TS_RESPONSE_TIMEOUT="2",
                 TS_JOB_QUEUE_SIZE="2") as server:
        first_pids = {worker["pid"] for worker in workers(server)}
        slow_url, fetching = slow_host
        # The slow request first, holding the worker, then the others: sent all at once, the slow one could be the
        # one the full queue refuses, and no worker would be held or restarted.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            held = pool.submit(server.request, json.dumps({"url": slow_url}).encode(), {"Content-Type": "application/json"})
            assert fetching.wait(READY_SECONDS), "the worker never fetched from the slow host"
            others = concurrently(server, [(RED_JPEG, {"Content-Type": "image/jpeg"})] * 5)
            answers = [held.result()] + others
        statuses = [status for status, _, _ in answers]
        assert statuses[0] >= 500, answers[0]
        assert 503 in statuses[1:], statuses
        # READY means a worker process has loaded the model; a pid not seen before is a process TorchServe started
        # in place of the one it killed.
        deadline = time.monotonic() + READY_SECONDS
        current = workers(server)
        while time.monotonic() < deadline:
            current = workers(server)
            restarted = {worker["pid"] for worker in current} - first_pids
            if len(current) == len(first_pids) and restarted and all(w["status"] == "READY" for w in current):
                break
            time.sleep(0.5)
        status, _, body = server.request(RED_JPEG, {"Content-Type": "image/jpeg"})
    assert first_pids and {worker["pid"] for worker in current} - first_pids, ("no new worker process", first_pids, current)
    assert len(current) == len(first_pids) and all(w["status"] == "READY" for w in current), current
    assert status == 200 and labels(body)[0] == "red", "the restarted worker serves again"
