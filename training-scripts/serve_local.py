"""Local hosting for a model directory: the SageMaker hosting container contract plus the Runtime API path.

    python3 serve_local.py --model-dir <dir> [--host 127.0.0.1] [--port 8080] [--endpoint-name local-endpoint]
                           [--torch-threads N] [--batch-size N --max-batch-delay-ms MS]

Container contract (what SageMaker itself calls inside the container):
    GET  /ping          200 {"status": "Healthy"} once the model is loaded
    POST /invocations   Content-Type / Accept as the model's input_fn / output_fn take them; a handler error
                        answers with its `status_code` (400/406/413/415 from inference.py), anything else 500
Runtime API (what callers of InvokeEndpoint reach, so an AWS SDK works with only its endpoint URL changed):
    POST /endpoints/<name>/invocations   SigV4-signed for service "sagemaker"; 200 with the model's body and
                        x-Amzn-Invoked-Production-Variant, or the runtime's JSON error with x-amzn-ErrorType:
                        a model error becomes ModelError 424 carrying OriginalStatusCode and OriginalMessage.

Any credentials are accepted: the local server has no secret to verify a signature against, so it checks
the Authorization header's shape, its service scope and the payload hash, which is what catches a client
pointed at the wrong service or signing the wrong body.

The handlers come from <model-dir>/code/inference.py when the directory carries one (as the SageMaker
PyTorch container does), else from the inference.py next to this file (a course-style dir with only
model.pth). The model is loaded once, before the first invocation is answered (/ping says 503 until then).
Requests are served by a thread each; model_fn and every predict_fn call run on one thread, one at a time,
so that each forward pass gets every torch thread instead of fighting for two cores. SIGINT/SIGTERM stop accepting, let requests in flight
finish (bounded) and exit 0.

With --batch-size N (and --max-batch-delay-ms), requests waiting for the forward pass are batched as
TorchServe batches them and predict_fn gets a list (the shipped inference.py takes both); model_fn is told N
(INFERENCE_MAX_BATCH_SIZE) and warms the model up at every batch size up to it. The SageMaker
PyTorch container's stock handler does not do this: it calls input_fn/predict_fn/output_fn once per
request even when SAGEMAKER_TS_BATCH_SIZE > 1, so this mode measures what a batching handler would gain.

On startup the port is bound first, so a busy port is reported at once rather than after torch loads; the
ready line `{"event": "ready", "url": ...}` goes to stdout, logs go to stderr. Exit status 2 means the
server could not start (bad arguments, port in use, model failed to load), with a one-line reason.
"""
from __future__ import annotations

import argparse
import errno
import hashlib
import importlib.util
import json
import logging
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple, Union
from urllib.parse import unquote

SCRIPTS_DIR = os.path.dirname(os.path.abspath(__file__))
# Read from the contract file, not through the classifier package: importing that here would make it the one
# a model directory's own code/inference.py imports, instead of the code/classifier/ it ships.
with open(os.path.join(SCRIPTS_DIR, "contract.json"), encoding="utf-8") as _contract:
    SAGEMAKER_NAME_PATTERN = re.compile(json.load(_contract)["namePatterns"]["sageMakerName"])
DEFAULT_ENDPOINT_NAME = "local-endpoint"
DEFAULT_VARIANT = "AllTraffic"
HANDLER_FUNCTIONS = ("model_fn", "input_fn", "predict_fn", "output_fn")
# The SageMaker real-time invocation payload limit.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
SHUTDOWN_GRACE_SECONDS = 10.0
IDLE_CONNECTION_SECONDS = 60
POLL_SECONDS = 0.2
# How long (in iterations) an OpenMP thread spins after a parallel region before it sleeps: see configure_model_fn.
OPENMP_SPIN_COUNT = 10_000
ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/"
INVOCATION_PATH = re.compile(r"^/endpoints/([^/]+)/invocations$")
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/\s,]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request,\s?"
    r"SignedHeaders=([a-z0-9;-]+),\s?Signature=([0-9a-f]{64})$"
)

log = logging.getLogger("serve_local")


@dataclass(frozen=True)
class BodyRefusal:
    """Why a request body was not read: the status and error kind to answer with, and the message."""

    status: int
    kind: str
    message: str


class StartupError(Exception):
    """The server cannot start; the message is the one line the user sees."""


class _Pending:
    """One call waiting for its turn (a request's input in a batch, or a call on the torch thread); the thread
    that runs it fills in the outcome."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.prediction: Any = None
        self.error: Optional[BaseException] = None
        self.done = threading.Event()

    def result(self) -> Any:
        """Waits for the outcome: the prediction, or the error raised again on the waiting thread."""
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.prediction


class TorchThread:
    """One daemon thread that runs every call given to it, one at a time, in order: a daemon, so that a stop
    while model_fn is still loading does not wait for it."""

    def __init__(self) -> None:
        self._calls: "queue.Queue[_Pending]" = queue.Queue()
        threading.Thread(target=self._serve, name="serve_local-torch", daemon=True).start()

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        pending = _Pending((function, args))
        self._calls.put(pending)
        return pending.result()

    def _serve(self) -> None:
        while True:
            pending = self._calls.get()
            function, args = pending.data
            try:
                pending.prediction = function(*args)
            except BaseException as error:  # noqa: BLE001 - raised again on the caller's thread
                pending.error = error
            pending.done.set()


class Batcher:
    """TorchServe-style batching for one worker: the first waiting request opens a batch, which closes when it
    holds `batch_size` requests or `max_delay` seconds after it opened; predict_fn then gets the batch as a
    list, in arrival order, and must answer with a list of predictions in the same order. An exception from
    predict_fn fails every request of the batch, as it does in TorchServe."""

    def __init__(self, predict: Callable[[List[Any]], List[Any]], batch_size: int, max_delay: float) -> None:
        self._predict = predict
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._queue: "queue.Queue[_Pending]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="serve_local-batcher", daemon=True)
        self._thread.start()

    def predict(self, data: Any) -> Any:
        pending = _Pending(data)
        self._queue.put(pending)
        return pending.result()

    def _next_batch(self) -> List[_Pending]:
        batch = [self._queue.get()]
        closes_at = time.monotonic() + self.max_delay
        while len(batch) < self.batch_size:
            left = closes_at - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            try:
                predictions = self._predict([pending.data for pending in batch])
                if not isinstance(predictions, list) or len(predictions) != len(batch):
                    raise TypeError(f"predict_fn answered a batch of {len(batch)} with "
                                    f"{len(predictions) if isinstance(predictions, list) else type(predictions).__name__}"
                                    " predictions; with --batch-size above 1 it must take and return lists")
                for pending, prediction in zip(batch, predictions):
                    pending.prediction = prediction
            except BaseException as error:  # noqa: BLE001 - the requests waiting on it answer with the error
                for pending in batch:
                    pending.error = error
            for pending in batch:
                pending.done.set()


class Model:
    """The loaded handlers and model, shared by every request thread.

    input_fn and output_fn run on each request's own thread (fetching and decoding in parallel). predict_fn
    does not: the one torch thread that ran model_fn runs every call, one at a time (with batching, a batch at
    a time), as a TorchServe worker does, so each forward pass gets every torch thread instead of fighting for
    the cores. One thread, not a lock: each thread that runs torch ops gets its own OpenMP team, and once the
    teams hold more threads than there are cores, OpenMP stops spinning at its barriers and sleeps there,
    which costs a forward pass at batch 1 most.
    """

    def __init__(self, handlers: ModuleType, model: Any, torch_thread: TorchThread, batch_size: int = 1,
                 max_batch_delay: float = 0.0) -> None:
        self.handlers = handlers
        self.model = model
        self._torch_thread = torch_thread
        self._batcher = (Batcher(self._on_torch_thread, batch_size, max_batch_delay) if batch_size > 1 else None)

    def _on_torch_thread(self, data: Any) -> Any:
        return self._torch_thread.run(self.handlers.predict_fn, data, self.model)

    def _predict(self, data: Any) -> Any:
        if self._batcher is not None:
            return self._batcher.predict(data)
        return self._on_torch_thread(data)

    def invoke(self, body: bytes, content_type: str, accept: str) -> Tuple[int, str, bytes]:
        """Runs input_fn -> predict_fn -> output_fn; returns (status, content type, body) as the container answers."""
        try:
            data = self.handlers.input_fn(body, content_type)
            prediction = self._predict(data)
            result = self.handlers.output_fn(prediction, accept)
        except Exception as error:  # noqa: BLE001 - every handler failure becomes an HTTP answer
            status = getattr(error, "status_code", None)
            if not isinstance(status, int) or not 400 <= status <= 599:
                status = 500
                log.error("handler failed:\n%s", traceback.format_exc().rstrip())
            message = getattr(error, "message", None) or str(error) or type(error).__name__
            return status, "application/json", _json({"code": status, "type": type(error).__name__, "message": message})
        if isinstance(result, tuple):
            result, response_type = result
        else:
            response_type = _concrete_media_type(accept) or "application/json"
        return 200, response_type, result.encode("utf-8") if isinstance(result, str) else bytes(result)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _concrete_media_type(accept: str) -> str:
    kind = accept.split(",")[0].split(";")[0].strip().lower()
    return "" if not kind or "*" in kind else kind


def load_model(model_dir: str, batch_size: int = 1, max_batch_delay: float = 0.0) -> Model:
    script = os.path.join(model_dir, "code", "inference.py")
    if not os.path.isfile(script):
        script = os.path.join(SCRIPTS_DIR, "inference.py")
    try:
        spec = importlib.util.spec_from_file_location("inference", script)
        if spec is None or spec.loader is None:
            raise StartupError(f"cannot import {script}")
        handlers = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = handlers
        spec.loader.exec_module(handlers)
    except StartupError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the user's script raises, report it in one line
        raise StartupError(f"importing {script} failed: {type(error).__name__}: {error}") from None
    missing = [name for name in HANDLER_FUNCTIONS if not callable(getattr(handlers, name, None))]
    if missing:
        raise StartupError(f"{script} does not define {', '.join(missing)}")
    torch_thread = TorchThread()
    try:
        model = torch_thread.run(handlers.model_fn, model_dir)
    except Exception as error:  # noqa: BLE001
        raise StartupError(f"the model in {model_dir} failed to load: {type(error).__name__}: {error}") from None
    return Model(handlers, model, torch_thread, batch_size, max_batch_delay)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    # Port in use must fail, not share the port with another server.
    allow_reuse_address = False
    # socketserver's default backlog of 5 drops the SYNs of a burst of clients, each then waiting a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], endpoint_name: str, variant: str) -> None:
        super().__init__(address, RequestHandler)
        self.endpoint_name = endpoint_name
        self.variant = variant
        self.model: Optional[Model] = None
        # Once set, keep-alive connections close after their current request.
        self.stopping = False
        self._in_flight = 0
        self._idle = threading.Condition()

    def begin(self) -> None:
        with self._idle:
            self._in_flight += 1

    def end(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> int:
        """Waits for requests in flight; returns how many were still running at the deadline."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight > 0 and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            return self._in_flight

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server_version = "serve_local/1"
    timeout = IDLE_CONNECTION_SECONDS
    server: LocalServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle on, the body waits for the client's delayed
        # ACK (~40 ms) on every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _handle(self, route) -> None:
        self.server.begin()
        started = time.perf_counter()
        try:
            if self.server.stopping:
                self.close_connection = True
            route(self.path.split("?", 1)[0])
        finally:
            self.server.end()
            # The path only: a query string may carry a signature, and no route reads one.
            log.info("%s %s %s %.1f ms", self.command, self.path.split("?", 1)[0], getattr(self, "_status", "-"),
                     (time.perf_counter() - started) * 1000)

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: Optional[Dict[str, str]] = None) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> Union[bytes, BodyRefusal]:
        """The request body, or why it cannot be read (the caller answers in its API's error shape)."""
        if self.headers.get("Transfer-Encoding") is not None:
            return BodyRefusal(411, "LengthRequired", "send the body with a Content-Length header, not chunked")
        length = self.headers.get("Content-Length")
        if length is None:
            return BodyRefusal(411, "LengthRequired", "send a Content-Length header")
        # isascii(): isdigit() alone admits other scripts' digits and superscripts, and int() fails on some.
        if not (length.strip().isascii() and length.strip().isdigit()):
            return BodyRefusal(400, "InvalidContentLength", f"Content-Length must be a whole number of bytes, got {length[:40]!r}")
        size = int(length)
        if size > MAX_PAYLOAD_BYTES:
            return BodyRefusal(413, "PayloadTooLarge", f"the body is {size} bytes; send at most {MAX_PAYLOAD_BYTES}")
        return self.rfile.read(size)

    def _get(self, path: str) -> None:
        if path == "/ping":
            if self.server.model is None:
                self._send(503, _json({"status": "Unhealthy", "message": "the model is still loading"}))
            else:
                self._send(200, _json({"status": "Healthy"}))
            return
        self._container_error(404, "NotFound", f"no route for GET {path}")

    def _post(self, path: str) -> None:
        if path == "/invocations":
            self._invocations()
            return
        match = INVOCATION_PATH.match(path)
        if match:
            self._runtime_invocations(unquote(match.group(1)))
            return
        self._runtime_error(404, "UnknownOperationException", f"no operation for POST {path}")

    def _container_error(self, status: int, kind: str, message: str) -> None:
        self.close_connection = True
        self._send(status, _json({"code": status, "type": kind, "message": message}))

    def _invocations(self) -> None:
        body = self._read_body()
        if isinstance(body, BodyRefusal):
            self._container_error(body.status, body.kind, body.message)
            return
        model = self.server.model
        if model is None:
            self._container_error(503, "ModelNotReady", "the model is still loading")
            return
        status, content_type, result = model.invoke(
            body, self.headers.get("Content-Type", "application/json"), self.headers.get("Accept", "application/json"))
        self._send(status, result, content_type)

    # --- the SageMaker Runtime API -------------------------------------------------------------------

    def _runtime_error(self, status: int, error_type: str, message: str, body: Optional[Dict[str, Any]] = None) -> None:
        self._send(status, _json(body if body is not None else {"message": message}), "application/json", {
            "x-amzn-RequestId": str(uuid.uuid4()),
            "x-amzn-ErrorType": f"{error_type}:{ERROR_NAMESPACE}",
        })

    def _check_signature_shape(self, body: bytes) -> Optional[Tuple[int, str, str]]:
        authorization = self.headers.get("Authorization")
        if authorization is None:
            return 403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        parsed = AUTHORIZATION.match(authorization)
        if not parsed:
            return 403, "IncompleteSignatureException", "Authorization header is not an AWS Signature Version 4 header"
        _, scope_date, _, service, signed_headers, _ = parsed.groups()
        if service != "sagemaker":
            return 403, "InvalidSignatureException", f"Credential should be scoped to correct service: 'sagemaker', not '{service}'."
        if "host" not in signed_headers.split(";"):
            return 403, "InvalidSignatureException", "'Host' must be a signed header."
        amz_date = self.headers.get("X-Amz-Date", "")
        if not amz_date.startswith(scope_date):
            return 403, "IncompleteSignatureException", "X-Amz-Date is missing or does not match the credential scope"
        claimed = self.headers.get("X-Amz-Content-Sha256")
        if claimed is not None and claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
            return 403, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed."
        return None

    def _runtime_invocations(self, endpoint_name: str) -> None:
        body = self._read_body()
        if isinstance(body, BodyRefusal):
            # The unread body would be taken for the next request on this connection.
            self.close_connection = True
            self._runtime_error(400, "ValidationError", f"Request body: {body.message}")
            return
        refused = self._check_signature_shape(body)
        if refused:
            self._runtime_error(*refused)
            return
        if endpoint_name != self.server.endpoint_name:
            self._runtime_error(400, "ValidationError", f"Endpoint {endpoint_name} of account local not found.")
            return
        model = self.server.model
        if model is None:
            self._runtime_error(429, "ModelNotReadyException", "The model is still loading; retry shortly.")
            return
        status, content_type, result = model.invoke(
            body, self.headers.get("Content-Type", "application/octet-stream"), self.headers.get("Accept", "*/*"))
        if status == 200:
            self._send(200, result, content_type, {
                "x-amzn-RequestId": str(uuid.uuid4()),
                "x-Amzn-Invoked-Production-Variant": self.server.variant,
            })
            return
        original = result.decode("utf-8", errors="replace")
        side = "server" if status >= 500 else "client"
        self._runtime_error(424, "ModelError", "", {
            "ErrorCode": "INTERNAL_FAILURE_FROM_MODEL" if status >= 500 else "CLIENT_ERROR_FROM_MODEL",
            "Message": f'Received {side} error ({status}) from primary with message "{original}". '
                       "See the local server's log for more information.",
            "OriginalMessage": original,
            "OriginalStatusCode": status,
        })


def endpoint_name(value: str) -> str:
    if not SAGEMAKER_NAME_PATTERN.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid SageMaker endpoint name")
    return value


def positive_or_zero(value: str) -> int:
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}")
    return int(value)


def positive(value: str) -> int:
    number = positive_or_zero(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def port_number(value: str) -> int:
    if not (value.strip().isascii() and value.strip().isdigit()) or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve_local",
                                     description="Serve a model directory like a SageMaker endpoint, locally.")
    parser.add_argument("--model-dir", required=True, help="the unpacked model.tar.gz (model.pth, code/...)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8080, help="0 picks a free port (default 8080)")
    parser.add_argument("--endpoint-name", type=endpoint_name, default=DEFAULT_ENDPOINT_NAME)
    parser.add_argument("--variant", default=DEFAULT_VARIANT, help="the production variant name responses carry")
    parser.add_argument("--torch-threads", type=positive_or_zero, default=0,
                        help="intra-op threads for the forward pass (default: one per core)")
    parser.add_argument("--batch-size", type=positive, default=1,
                        help="batch up to this many requests into one predict_fn call, as TorchServe's batchSize "
                             "(SAGEMAKER_TS_BATCH_SIZE) does; predict_fn then takes and returns lists (default 1)")
    parser.add_argument("--max-batch-delay-ms", type=positive_or_zero, default=100,
                        help="how long a batch waits to fill, as SAGEMAKER_TS_MAX_BATCH_DELAY (default 100)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return parser


def bind(host: str, port: int, name: str, variant: str) -> LocalServer:
    try:
        return LocalServer((host, port), name, variant)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use") from None
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def configure_model_fn(threads: int, batch_size: int) -> None:
    """Tells model_fn (classifier/prepare.py) how many torch threads to use (one worker serves here, so all the
    cores unless --torch-threads says otherwise) and the largest batch to warm up for, and bounds how long torch's
    OpenMP threads spin once a parallel region ends. Called before the handlers import torch: libgomp reads its
    settings when it loads."""
    os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"] = "1"
    if threads > 0:
        os.environ["INFERENCE_TORCH_THREADS"] = str(threads)
    os.environ["INFERENCE_MAX_BATCH_SIZE"] = str(batch_size)
    # libgomp's default spin (300,000 iterations, milliseconds on current x86) outlasts the forward pass: the
    # team's other threads keep burning their cores while the next request's fetch, decode and preprocess run,
    # and those measured twice as slow (loopback fetch 3.1 ms against 1.5 ms). 10,000 still covers the short
    # gaps between the forward pass's own parallel regions (no slower forward pass measured), unlike
    # OMP_WAIT_POLICY=PASSIVE (17-35% slower at batch 1). A value the caller set wins.
    os.environ.setdefault("GOMP_SPINCOUNT", str(OPENMP_SPIN_COUNT))


def main(argv: Optional[list] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Plain flags, not threading.Event: a handler calling Event.set() while the main thread holds the event's
    # lock inside Event.wait() would deadlock.
    state = {"serving": False, "stop": False}

    def on_signal(_signum: int, _frame: Any) -> None:
        if not state["serving"]:
            raise KeyboardInterrupt  # still loading: abandon the load
        state["stop"] = True

    try:
        model_dir = os.path.abspath(args.model_dir)
        if not os.path.isdir(model_dir):
            raise StartupError(f"model directory {args.model_dir} does not exist")
        server = bind(args.host, args.port, args.endpoint_name, args.variant)
    except StartupError as error:
        print(f"serve_local: error: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # Serving while the model loads, so /ping says 503 until it is ready, as the container's health check sees it.
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), name="serve_local", daemon=True)
    thread.start()
    try:
        started = time.perf_counter()
        configure_model_fn(args.torch_threads, args.batch_size)
        server.model = load_model(model_dir, args.batch_size, args.max_batch_delay_ms / 1000)
        load_seconds = time.perf_counter() - started
    except (StartupError, KeyboardInterrupt) as error:
        server.shutdown()
        server.server_close()
        if isinstance(error, KeyboardInterrupt):
            # model_fn may still be running on the torch thread, and finalizing the interpreter under running
            # torch code aborts the process: leave without finalizing.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        print(f"serve_local: error: {error}", file=sys.stderr)
        return 2
    state["serving"] = True
    print(json.dumps({"event": "ready", "url": server.url, "endpointName": args.endpoint_name,
                      "modelDir": model_dir, "loadSeconds": round(load_seconds, 3)}), flush=True)
    while not state["stop"]:
        time.sleep(POLL_SECONDS)
    log.info("stopping: no new connections, waiting for requests in flight")
    server.stopping = True
    server.shutdown()
    # Closing the listening socket now makes new connections fail fast instead of queueing unanswered.
    server.socket.close()
    left = server.drain(SHUTDOWN_GRACE_SECONDS)
    if left:
        log.warning("%d requests still running after %.0f s; exiting anyway", left, SHUTDOWN_GRACE_SECONDS)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
