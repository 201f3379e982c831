"""serve_local.py as a real process on the model train.py produced: the container contract, the Runtime API
through boto3 (real SigV4 signing and error parsing), concurrency, clean shutdown and startup failures."""
from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import CLASS_COLOURS, LABELS, SCRIPTS_DIR, TrainedModel, colour_image, image_bytes

RED, GREEN, BLUE = CLASS_COLOURS.values()
ENDPOINT = "serve-local-test"
STARTUP_SECONDS = 60


class Server:
    def __init__(self, process: subprocess.Popen, url: str, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path
        self.port = int(url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes = b"", headers: Optional[Dict[str, str]] = None,
                ) -> Tuple[int, Dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def runtime(self):
        return boto3.client(
            "sagemaker-runtime", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="AKIALOCALTEST", aws_secret_access_key="local-secret",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )


def start(model_dir: Path, tmp_dir: Path, *args: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    log = open(tmp_dir / "server.log", "wb")
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS_DIR / "serve_local.py"), "--model-dir", str(model_dir), "--port", "0",
         "--endpoint-name", ENDPOINT, "--torch-threads", "1", *args],
        stdout=subprocess.PIPE, stderr=log, env=env,
    )


def wait_ready(process: subprocess.Popen) -> dict:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], STARTUP_SECONDS)
    assert ready, "serve_local.py printed no ready line"
    line = process.stdout.readline()
    assert line, f"serve_local.py exited with {process.wait()} before it was ready"
    return json.loads(line)


@contextmanager
def serving(model_dir: Path, env: Optional[Dict[str, str]] = None, *args: str) -> Iterator[Server]:
    tmp_dir = Path(tempfile.mkdtemp())
    process = start(model_dir, tmp_dir, *args, env=env)
    try:
        ready = wait_ready(process)
        assert ready["event"] == "ready" and ready["endpointName"] == ENDPOINT
        yield Server(process, ready["url"], tmp_dir / "server.log")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(tmp_dir)


class ImageServer:
    """A loopback image host; paths under /hold/ wait until release() so a request can be kept in flight."""

    def __init__(self) -> None:
        self.images = {"/red.png": image_bytes(colour_image(RED, 101), "PNG"),
                       "/green.jpg": image_bytes(colour_image(GREEN, 102), "JPEG"),
                       "/hold/blue.png": image_bytes(colour_image(BLUE, 103), "PNG")}
        self.held = threading.Event()
        self.reached_hold = threading.Event()
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/hold/"):
                    server_self.reached_hold.set()
                    server_self.held.wait(30)
                body = server_self.images.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"not found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.held.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def private_env() -> Dict[str, str]:
    return {**os.environ, "IMAGE_FETCH_ALLOW_PRIVATE": "true"}


@pytest.fixture(scope="module")
def server(trained_model: TrainedModel, private_env: Dict[str, str]) -> Iterator[Server]:
    with serving(trained_model.model_dir, env=private_env) as running:
        yield running


@pytest.fixture
def images() -> Iterator[ImageServer]:
    host = ImageServer()
    yield host
    host.close()


def labels(body: bytes) -> List[str]:
    return [prediction["label"] for prediction in json.loads(body)["predictions"]]


def test_ping_and_invocations_with_image_bytes(server: Server) -> None:
    status, _, body = server.request("GET", "/ping")
    assert (status, json.loads(body)) == (200, {"status": "Healthy"})
    status, headers, body = server.request(
        "POST", "/invocations", image_bytes(colour_image(RED, 7), "PNG"), {"Content-Type": "image/png"})
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert labels(body)[0] == "red"
    assert sorted(labels(body)) == sorted(LABELS)


def test_invocations_with_a_url_and_topk_from_accept(server: Server, images: ImageServer) -> None:
    status, _, body = server.request(
        "POST", "/invocations", json.dumps({"url": images.url + "/green.jpg"}).encode(),
        {"Content-Type": "application/json", "Accept": "application/json; topk=1"})
    assert status == 200, body
    assert labels(body) == ["green"]


@pytest.mark.parametrize("content_type, accept, body, status, error_type", [
    ("text/plain", "application/json", b"hello", 415, "UnsupportedContentTypeError"),
    ("image/png", "text/csv", image_bytes(colour_image(RED, 8), "PNG"), 406, "UnsupportedAcceptError"),
    ("image/png", "application/json", b"not a png", 400, "InvalidImageError"),
    ("application/json", "application/json", b'{"url": "ftp://example.com/a.png"}', 400, "ImageFetchError"),
])
def test_handler_errors_answer_with_their_status(server: Server, content_type: str, accept: str, body: bytes,
                                                 status: int, error_type: str) -> None:
    got, _, answer = server.request("POST", "/invocations", body, {"Content-Type": content_type, "Accept": accept})
    assert got == status, answer
    error = json.loads(answer)
    assert (error["code"], error["type"]) == (status, error_type)
    assert error["message"]


def test_oversized_payload_is_refused_before_reading(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/invocations")
    conn.putheader("Content-Type", "image/png")
    conn.putheader("Content-Length", str(7 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    assert "6291456" in json.loads(response.read())["message"]
    conn.close()


@pytest.mark.parametrize("length, status, kind", [
    ("\u00b2", 400, "InvalidContentLength"),          # a superscript two: str.isdigit() says yes, int() says no
    ("\u0663", 400, "InvalidContentLength"),          # an Arabic-Indic three, which int() would read as 3
    ("-1", 400, "InvalidContentLength"),
    ("12abc", 400, "InvalidContentLength"),
    (None, 411, "LengthRequired"),
])
def test_a_bad_content_length_is_answered_not_dropped(server: Server, length: Optional[str], status: int, kind: str) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        header = f"Content-Length: {length}\r\n" if length is not None else ""
        request = f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n{header}\r\n"
        # Header bytes are read as Latin-1: the superscript arrives as itself; the Arabic digit only as UTF-8 bytes.
        sock.sendall(request.encode("latin-1") if request.isascii() or max(map(ord, request)) < 256 else request.encode("utf-8"))
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == status
        assert json.loads(response.read())["type"] == kind


def test_a_bad_content_length_on_the_runtime_api_is_a_validation_error(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"POST /endpoints/{ENDPOINT}/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: \u00b2\r\n\r\n".encode("latin-1"))
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 400
        assert response.getheader("x-amzn-ErrorType", "").startswith("ValidationError:")
        assert "Content-Length" in json.loads(response.read())["message"]


def test_runtime_api_through_boto3(server: Server, images: ImageServer) -> None:
    runtime = server.runtime()
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json", Accept="application/json",
                                     Body=json.dumps({"url": images.url + "/red.png", "topK": 2}))
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["ContentType"] == "application/json"
    assert labels(answer["Body"].read())[:1] == ["red"]


def test_runtime_api_reports_model_errors_as_model_error(server: Server, images: ImageServer) -> None:
    runtime = server.runtime()
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json",
                                Body=json.dumps({"url": images.url + "/missing.png"}))
    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == 400
    assert "answered HTTP 404" in response["OriginalMessage"]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("ModelError:")


def test_runtime_api_refuses_unknown_endpoints_and_unsigned_requests(server: Server) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        server.runtime().invoke_endpoint(EndpointName="other-endpoint", ContentType="image/png", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint other-endpoint of account local not found." in raised.value.response["Error"]["Message"]

    status, headers, body = server.request("POST", f"/endpoints/{ENDPOINT}/invocations", b"x",
                                           {"Content-Type": "image/png"})
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException:")
    assert json.loads(body)["message"] == "Missing Authentication Token"

    wrong_service = ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request, "
                     "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    status, headers, _ = server.request("POST", f"/endpoints/{ENDPOINT}/invocations", b"x",
                                        {"Authorization": wrong_service, "X-Amz-Date": "20260101T000000Z"})
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("InvalidSignatureException:")


def test_requests_are_served_concurrently(server: Server, images: ImageServer) -> None:
    results: Dict[str, Tuple[int, bytes]] = {}

    def slow() -> None:
        status, _, body = server.request("POST", "/invocations", json.dumps({"url": images.url + "/hold/blue.png"}).encode(),
                                         {"Content-Type": "application/json"})
        results["slow"] = (status, body)

    thread = threading.Thread(target=slow)
    thread.start()
    assert images.reached_hold.wait(30)
    # The first request is parked inside its image fetch; others must still be answered meanwhile.
    status, _, body = server.request("POST", "/invocations", image_bytes(colour_image(GREEN, 9), "PNG"),
                                     {"Content-Type": "image/png"})
    assert status == 200 and labels(body)[0] == "green"
    assert "slow" not in results
    images.held.set()
    thread.join(30)
    assert results["slow"][0] == 200 and labels(results["slow"][1])[0] == "blue"
    assert server.log().count("loaded tiny-cnn") == 1, "the model must be loaded once"


def test_sigterm_finishes_the_request_in_flight_then_exits_0(trained_model: TrainedModel, private_env, images) -> None:
    with serving(trained_model.model_dir, env=private_env) as running:
        results: List[int] = []
        thread = threading.Thread(target=lambda: results.append(running.request(
            "POST", "/invocations", json.dumps({"url": images.url + "/hold/blue.png"}).encode(),
            {"Content-Type": "application/json"})[0]))
        thread.start()
        assert images.reached_hold.wait(30)
        running.process.send_signal(signal.SIGTERM)
        # Stopped accepting: a new connection is refused while the request in flight is still held.
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
            except (ConnectionRefusedError, ConnectionResetError):
                break  # refused, or reset from the backlog of the listening socket as it closed
            except TimeoutError:
                pass  # queued on the listening socket before it closed
            threading.Event().wait(0.05)
        else:
            pytest.fail("the server kept accepting connections after SIGTERM")
        assert running.process.poll() is None
        images.held.set()
        thread.join(30)
        assert results == [200]
        assert running.process.wait(timeout=30) == 0


def test_a_model_that_raises_is_a_500_and_a_model_error(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    script = model_dir / "code" / "inference.py"
    # A user's broken inference script: the real handlers, but the forward pass fails.
    script.write_text(script.read_text() + "\n\ndef predict_fn(input_data, model):\n"
                      "    raise RuntimeError('forward pass exploded')\n")
    with serving(model_dir) as running:
        status, _, body = running.request("POST", "/invocations", image_bytes(colour_image(RED, 10), "PNG"),
                                          {"Content-Type": "image/png"})
        assert status == 500
        assert json.loads(body) == {"code": 500, "type": "RuntimeError", "message": "forward pass exploded"}
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            running.runtime().invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png",
                                              Body=image_bytes(colour_image(RED, 11), "PNG"))
        response = raised.value.response
        assert (response["Error"]["Code"], response["OriginalStatusCode"]) == ("ModelError", 500)
        assert "Traceback" in running.log() and "forward pass exploded" in running.log()


def test_batching_puts_waiting_requests_into_one_predict_fn_call(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    script = model_dir / "code" / "inference.py"
    # The shipped handlers, with each predict_fn call's batch size written to the log.
    script.write_text(script.read_text() + "\n\n_predict_fn = predict_fn\n\n\ndef predict_fn(input_data, model):\n"
                      "    print(f'predict_fn batch of {len(input_data)}', file=sys.stderr, flush=True)\n"
                      "    return _predict_fn(input_data, model)\n")
    # A delay long enough that the requests sent together meet in one batch even on a loaded machine.
    with serving(model_dir, None, "--batch-size", "3", "--max-batch-delay-ms", "5000") as running:
        results: Dict[str, Tuple[int, bytes]] = {}
        bodies = {"red": image_bytes(colour_image(RED, 21), "PNG"), "green": image_bytes(colour_image(GREEN, 22), "PNG"),
                  "blue": image_bytes(colour_image(BLUE, 23), "PNG"), "broken": b"not an image"}

        def send(name: str) -> None:
            status, _, body = running.request("POST", "/invocations", bodies[name], {"Content-Type": "image/png"})
            results[name] = (status, body)

        threads = [threading.Thread(target=send, args=(name,)) for name in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # input_fn refuses the broken body on its own thread: it never joins a batch or fails its neighbours.
        assert results.pop("broken")[0] == 400
        assert {name: (status, labels(body)[0]) for name, (status, body) in results.items()} == {
            "red": (200, "red"), "green": (200, "green"), "blue": (200, "blue")}
        assert running.log().count("predict_fn batch of 3") == 1, running.log()
        # model_fn was told the largest batch, so no batch size a request meets is a first.
        assert "warmed up at batch sizes 1, 2, 3 in" in running.log()
        # A lone request waits out the delay, then goes as a batch of one.
        status, _, body = running.request("POST", "/invocations", bodies["green"], {"Content-Type": "image/png"})
        assert status == 200 and labels(body)[0] == "green"
        assert "predict_fn batch of 1" in running.log()


def test_openmp_spin_is_bounded_before_torch_loads_unless_told_otherwise(trained_model: TrainedModel,
                                                                         tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    code = model_dir / "code"
    # The shipped handlers behind a module that logs what libgomp will read when torch loads with them.
    (code / "inference.py").rename(code / "shipped_inference.py")
    (code / "inference.py").write_text(
        "import os\nimport sys\n\n"
        "print(f\"handlers import: GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}, "
        "torch loaded: {'torch' in sys.modules}\", file=sys.stderr, flush=True)\n"
        "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n\n"
        "from shipped_inference import input_fn, model_fn, output_fn, predict_fn  # noqa: E402,F401\n")
    with serving(model_dir, {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}) as running:
        assert "handlers import: GOMP_SPINCOUNT=10000, torch loaded: False" in running.log()
        status, _, body = running.request("POST", "/invocations", image_bytes(colour_image(GREEN, 23), "PNG"),
                                         {"Content-Type": "image/png"})
        assert status == 200 and labels(body)[0] == "green"
    with serving(model_dir, {**os.environ, "GOMP_SPINCOUNT": "300000"}) as running:
        assert "handlers import: GOMP_SPINCOUNT=300000, torch loaded: False" in running.log()


@pytest.mark.parametrize("batching", [(), ("--batch-size", "2", "--max-batch-delay-ms", "10")])
def test_model_fn_and_every_predict_fn_run_on_one_thread(trained_model: TrainedModel, tmp_path: Path,
                                                         batching: Tuple[str, ...]) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    script = model_dir / "code" / "inference.py"
    # The shipped handlers, with the thread each model_fn and predict_fn call runs on written to the log.
    script.write_text(script.read_text() + "\n\nimport threading\n_model_fn, _predict_fn = model_fn, predict_fn\n\n\n"
                      "def model_fn(model_dir):\n"
                      "    print(f'model_fn on {threading.get_ident()}', file=sys.stderr, flush=True)\n"
                      "    return _model_fn(model_dir)\n\n\n"
                      "def predict_fn(input_data, model):\n"
                      "    print(f'predict_fn on {threading.get_ident()}', file=sys.stderr, flush=True)\n"
                      "    return _predict_fn(input_data, model)\n")
    with serving(model_dir, None, *batching) as running:
        body = image_bytes(colour_image(RED, 31), "PNG")
        statuses: List[int] = []
        threads = [threading.Thread(target=lambda: statuses.append(
            running.request("POST", "/invocations", body, {"Content-Type": "image/png"})[0])) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert statuses == [200] * 4
        idents = re.findall(r"^(model_fn|predict_fn) on (\d+)$", running.log(), re.MULTILINE)
    assert [kind for kind, _ in idents].count("model_fn") == 1 and len(idents) >= 2, idents
    # Each thread that runs torch ops gets its own OpenMP team; one thread keeps it to one, as a TorchServe worker.
    assert len({ident for _, ident in idents}) == 1, idents


def test_batching_with_a_predict_fn_that_takes_no_list_is_a_named_500(trained_model: TrainedModel,
                                                                         tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, model_dir)
    script = model_dir / "code" / "inference.py"
    script.write_text(script.read_text() + "\n\n_predict_fn = predict_fn\n\n\ndef predict_fn(input_data, model):\n"
                      "    return _predict_fn(input_data[0], model)\n")
    with serving(model_dir, None, "--batch-size", "2", "--max-batch-delay-ms", "10") as running:
        status, _, body = running.request("POST", "/invocations", image_bytes(colour_image(RED, 24), "PNG"),
                                          {"Content-Type": "image/png"})
        assert status == 500
        assert "with --batch-size above 1 it must take and return lists" in json.loads(body)["message"]


def startup_failure(args: List[str], tmp_path: Path) -> Tuple[int, str]:
    result = subprocess.run([sys.executable, str(SCRIPTS_DIR / "serve_local.py"), *args],
                            capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stderr.strip().splitlines()[-1]


def test_startup_failures_exit_2_with_one_line(trained_model: TrainedModel, tmp_path: Path) -> None:
    code, message = startup_failure(["--model-dir", str(tmp_path / "nowhere")], tmp_path)
    assert code == 2 and message == f"serve_local: error: model directory {tmp_path / 'nowhere'} does not exist"

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        port = busy.getsockname()[1]
        code, message = startup_failure(["--model-dir", str(trained_model.model_dir), "--port", str(port)], tmp_path)
        assert code == 2 and message == f"serve_local: error: port {port} on 127.0.0.1 is already in use"
    finally:
        busy.close()

    broken = tmp_path / "broken"
    shutil.copytree(trained_model.model_dir, broken)
    (broken / "model.pth").write_bytes(b"not a state dict")
    code, message = startup_failure(["--model-dir", str(broken), "--port", "0"], tmp_path)
    assert code == 2
    assert message.startswith(f"serve_local: error: the model in {broken} failed to load: ModelDirError:")
    assert "model.pth" in message

    code, message = startup_failure(["--model-dir", str(broken), "--endpoint-name", "bad_name!"], tmp_path)
    assert code == 2 and "'bad_name!' is not a valid SageMaker endpoint name" in message

    code, message = startup_failure(["--model-dir", str(broken), "--batch-size", "0"], tmp_path)
    assert code == 2 and "argument --batch-size: expected a whole number of at least 1, got '0'" in message
