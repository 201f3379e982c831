"""inference.py end to end on the model train.py produced, loaded from the model directory's own code/
copy the way the SageMaker PyTorch inference container loads it, with real loopback HTTP(S) servers."""
from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, Iterator, Tuple

import pytest
from PIL import Image

from classifier.image_fetch import PRIVATE_NETWORKS
from conftest import CLASS_COLOURS, TrainedModel, colour_image, image_bytes

RED, GREEN, BLUE = CLASS_COLOURS.values()
BIG = 11 * 1024 * 1024  # just over MAX_IMAGE_BYTES


@pytest.fixture(scope="module")
def inference(trained_model: TrainedModel) -> Iterator[ModuleType]:
    """Imports model_dir/code/inference.py, which must find its bundled classifier package by itself."""
    code_dir = trained_model.model_dir / "code"
    saved_path = list(sys.path)
    shadowed = {name: sys.modules.pop(name) for name in list(sys.modules)
                if name == "classifier" or name.startswith("classifier.")}
    spec = importlib.util.spec_from_file_location("deployed_inference", code_dir / "inference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert Path(sys.modules["classifier"].__file__).resolve().parent == (code_dir / "classifier").resolve()
    yield module
    sys.path[:] = saved_path
    for name in [name for name in sys.modules if name == "classifier" or name.startswith("classifier.")]:
        del sys.modules[name]
    del sys.modules[spec.name]
    sys.modules.update(shadowed)


@pytest.fixture(scope="module")
def model(inference: ModuleType, trained_model: TrainedModel):
    return inference.model_fn(str(trained_model.model_dir))


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_FETCH_ALLOW_PRIVATE", "true")


def bomb_png() -> bytes:
    """8000x8000 pixels (over MAX_IMAGE_PIXELS) in a few kilobytes: a decompression bomb."""
    return image_bytes(Image.new("1", (8000, 8000)), "PNG")


Route = Tuple[int, Dict[str, str], bytes]


def routes() -> Dict[str, Callable[[], Route]]:
    red_jpeg = image_bytes(colour_image(RED, 101, 48), "JPEG")
    blue_png = image_bytes(colour_image(BLUE, 102, 48), "PNG")
    bomb = bomb_png()
    return {
        "/red.jpg": lambda: (200, {"Content-Type": "image/jpeg"}, red_jpeg),
        "/blue.png": lambda: (200, {"Content-Type": "image/png; charset=binary"}, blue_png),
        "/redirect-to-blue": lambda: (302, {"Location": "/blue.png"}, b""),
        "/redirect-private": lambda: (302, {"Location": "http://10.0.0.5/blue.png"}, b""),
        "/redirect-metadata": lambda: (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/redirect-file": lambda: (302, {"Location": "file:///etc/passwd"}, b""),
        "/redirect-loop": lambda: (302, {"Location": "/redirect-loop"}, b""),
        "/slow-redirect": lambda: (302, {"Location": "/slow-redirect"}, b""),
        "/declared-big": lambda: (200, {"Content-Type": "image/jpeg", "Content-Length": str(BIG)}, b""),
        "/streamed-big": lambda: (200, {"Content-Type": "image/png"}, b"\0" * BIG),
        "/bomb.png": lambda: (200, {"Content-Type": "image/png"}, bomb),
        "/page.html": lambda: (200, {"Content-Type": "text/html"}, b"<html>not an image</html>"),
        "/fake.jpg": lambda: (200, {"Content-Type": "image/jpeg"}, b"<html>not an image</html>"),
    }


class Handler(BaseHTTPRequestHandler):
    table: Dict[str, Callable[[], Route]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/slow":
            time.sleep(2)  # longer than the test's fetch timeout
        elif self.path == "/slow-redirect":
            time.sleep(0.3)
        route = self.table.get(self.path)
        if route is None:
            self.send_error(404)
            return
        status, headers, body = route()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its byte limit, as it should

    def log_message(self, *args: object) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> Iterator[int]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    Handler.table = routes()
    yield from serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Path]:
    """A self-signed certificate for the name "localhost" (and no IP address)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_port(tls_files: Tuple[Path, Path], http_port: int) -> Iterator[int]:
    cert_path, key_path = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from serve(server)


def predict(inference: ModuleType, model, body, content_type: str, accept: str = "application/json") -> dict:
    return json.loads(inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept))


# --- predictions ---------------------------------------------------------------------------------

def test_jpeg_bytes(inference: ModuleType, model) -> None:
    response = predict(inference, model, image_bytes(colour_image(RED, 7, 40), "JPEG"), "image/jpeg")
    predictions = response["predictions"]
    assert [p["label"] for p in predictions][0] == "red"
    assert predictions[0]["index"] == 0
    assert len(predictions) == 3  # default 5, capped at the number of classes
    probabilities = [p["probability"] for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert abs(sum(probabilities) - 1) < 1e-4
    assert {p["label"] for p in predictions} == {"red", "green", "blue"}


def test_png_bytes_with_accept_top_k(inference: ModuleType, model) -> None:
    body = bytearray(image_bytes(colour_image(GREEN, 8, 40), "PNG"))  # the toolkit hands over a bytearray
    response = predict(inference, model, body, "image/png", "application/json; topk=2")
    assert [p["label"] for p in response["predictions"]][0] == "green"
    assert len(response["predictions"]) == 2
    assert isinstance(response["predictions"][0]["index"], int)


def test_url_from_loopback_server(inference: ModuleType, model, http_port: int, allow_private: None) -> None:
    body = json.dumps({"url": f"http://127.0.0.1:{http_port}/red.jpg", "topK": 1})
    response = predict(inference, model, body, "application/json")
    assert response == {"predictions": [response["predictions"][0]]}
    assert response["predictions"][0]["label"] == "red"


def test_url_redirect_within_allowed_hosts(inference: ModuleType, model, http_port: int, allow_private: None) -> None:
    body = json.dumps({"url": f"http://localhost:{http_port}/redirect-to-blue"}).encode()
    response = predict(inference, model, body, "application/json; charset=utf-8")
    assert response["predictions"][0]["label"] == "blue"


def test_https_verifies_the_url_host_name(inference: ModuleType, model, https_port: int, tls_files,
                                          allow_private: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))  # trust the test certificate, as a CA bundle would
    body = json.dumps({"url": f"https://localhost:{https_port}/red.jpg"})
    assert predict(inference, model, body, "application/json")["predictions"][0]["label"] == "red"
    # Same server, but the certificate does not name 127.0.0.1.
    with pytest.raises(inference.ImageFetchError, match="TLS error"):
        inference.fetch_image(f"https://127.0.0.1:{https_port}/red.jpg")


def test_untrusted_certificate_is_refused(inference: ModuleType, https_port: int, allow_private: None) -> None:
    with pytest.raises(inference.ImageFetchError, match="certificate verify failed"):
        inference.fetch_image(f"https://localhost:{https_port}/red.jpg")


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[::ffff:169.254.169.254]/",
    "https://2852039166/",  # 169.254.169.254 as one decimal number
    "https://169.254.170.2/v2/credentials",
])
def test_metadata_address_is_refused_even_with_the_opt_in(inference: ModuleType, url: str, allow_private: None) -> None:
    with pytest.raises(inference.BlockedAddressError, match="metadata"):
        inference.input_fn(json.dumps({"url": url}), "application/json")


@pytest.mark.parametrize("url", ["https://10.1.2.3/dog.jpg", "https://192.168.0.10/dog.jpg", "https://172.16.5.4/dog.jpg",
                                 "https://[fc00::1]/dog.jpg", "https://0.0.0.0/dog.jpg", "https://169.254.1.1/dog.jpg"])
def test_private_addresses_are_refused(inference: ModuleType, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_FETCH_ALLOW_PRIVATE", raising=False)
    with pytest.raises(inference.BlockedAddressError, match="refusing to fetch"):
        inference.input_fn(json.dumps({"url": url}), "application/json")


def test_loopback_is_refused_without_the_opt_in(inference: ModuleType, http_port: int, https_port: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_FETCH_ALLOW_PRIVATE", raising=False)
    for url in (f"https://localhost:{https_port}/red.jpg", f"https://127.0.0.1:{https_port}/red.jpg",
                f"https://[::1]:{https_port}/red.jpg"):
        with pytest.raises(inference.BlockedAddressError, match="loopback"):
            inference.fetch_image(url)
    with pytest.raises(inference.ImageFetchError, match="only https"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/red.jpg")


def test_redirect_to_private_address_is_refused(inference: ModuleType, http_port: int) -> None:
    only_loopback = [ipaddress.ip_network("127.0.0.0/8")]
    with pytest.raises(inference.BlockedAddressError, match="10.0.0.5 is a private"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/redirect-private", allowed_networks=only_loopback)


def test_redirect_to_metadata_and_file_are_refused(inference: ModuleType, http_port: int, allow_private: None) -> None:
    with pytest.raises(inference.BlockedAddressError, match="metadata"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/redirect-metadata")
    with pytest.raises(inference.ImageFetchError, match="only https"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/redirect-file")
    with pytest.raises(inference.ImageFetchError, match="redirected more than 3 times"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/redirect-loop")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/dog.jpg", "gopher://example.com/",
                                 "http://example.com/dog.jpg"])
def test_other_schemes_and_plain_http_are_refused(inference: ModuleType, url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE_FETCH_ALLOW_PRIVATE", raising=False)
    with pytest.raises(inference.ImageFetchError, match="only https"):
        inference.input_fn(json.dumps({"url": url}), "application/json")


def test_the_opt_in_allows_http_only_to_local_networks(inference: ModuleType, allow_private: None) -> None:
    # A public address literal: checked and refused before any connection is attempted.
    with pytest.raises(inference.ImageFetchError, match="only https"):
        inference.fetch_image("http://93.184.216.34/dog.jpg")
    with pytest.raises(inference.ImageFetchError, match="only https"):
        inference.fetch_image("file:///etc/passwd")


@pytest.mark.parametrize("url, message", [("https://user:pw@example.com/dog.jpg", "credentials"),
                                          ("not a url", "only https"),
                                          ("https:///dog.jpg", "no host"),
                                          ("https://example.com:99999/dog.jpg", "invalid image URL"),
                                          ("https://example.com/" + "a" * 3000, "longer than")])
def test_malformed_urls_are_refused(inference: ModuleType, url: str, message: str) -> None:
    with pytest.raises(inference.ImageFetchError, match=message):
        inference.fetch_image(url)


def test_oversize_bodies_are_refused(inference: ModuleType, http_port: int, allow_private: None) -> None:
    with pytest.raises(inference.ImageTooLargeError, match="limit"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/declared-big")
    with pytest.raises(inference.ImageTooLargeError, match="limit"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/streamed-big")
    with pytest.raises(inference.ImageTooLargeError) as raised:
        inference.input_fn(b"\xff\xd8" + b"\0" * BIG, "image/jpeg")
    assert raised.value.status_code == 413


def test_decompression_bomb_is_refused(inference: ModuleType, http_port: int, allow_private: None) -> None:
    with pytest.raises(inference.ImageTooLargeError, match="8000x8000 pixels"):
        inference.input_fn(bomb_png(), "image/png")
    with pytest.raises(inference.ImageTooLargeError, match="8000x8000 pixels"):
        inference.input_fn(json.dumps({"url": f"http://127.0.0.1:{http_port}/bomb.png"}), "application/json")


def test_non_image_content_is_refused(inference: ModuleType, http_port: int, allow_private: None) -> None:
    with pytest.raises(inference.ImageFetchError, match="content type 'text/html'"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/page.html")
    with pytest.raises(inference.InvalidImageError, match="not a readable"):
        inference.input_fn(json.dumps({"url": f"http://127.0.0.1:{http_port}/fake.jpg"}), "application/json")
    with pytest.raises(inference.InvalidImageError, match="not a readable"):
        inference.input_fn(b"GIF89a but not really", "image/png")
    with pytest.raises(inference.ImageFetchError, match="HTTP 404"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/missing.jpg")


def test_slow_server_times_out(inference: ModuleType, http_port: int, allow_private: None) -> None:
    started = time.monotonic()
    with pytest.raises(inference.ImageFetchError, match="timed out"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/slow", timeout=0.5)
    assert time.monotonic() - started < 1.9


DRIBBLE_SECONDS = 0.1
DRIBBLE_BYTES = 80  # 8 s of dribbling: far past the fetch deadline, and every byte well inside a per-read timeout


@pytest.fixture
def dribbling_server() -> Iterator[Callable[[bytes, bytes], int]]:
    """A raw TCP server that answers one connection with `prefix` at once, then `dribble` a byte at a time.

    Each byte arrives well within any per-read socket timeout, so only a deadline on the whole fetch stops it.
    """
    listeners: list = []
    threads: list = []

    def start(prefix: bytes, dribble: bytes) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def answer() -> None:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed by the teardown
            with connection:
                connection.recv(65536)  # the request, or the TLS ClientHello
                try:
                    connection.sendall(prefix)
                    for byte in dribble:
                        connection.sendall(bytes([byte]))
                        time.sleep(DRIBBLE_SECONDS)
                except OSError:
                    pass  # the client gave up, as it should

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        threads.append(thread)
        return listener.getsockname()[1]

    yield start
    for listener in listeners:
        listener.close()


IMAGE_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"


@pytest.mark.parametrize("scheme, prefix, dribble", [
    # The status line and then one header byte at a time: the reviewer's case, held a 1 s fetch for 13 s.
    ("http", b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a" * DRIBBLE_BYTES),
    # Complete headers, then a body without Content-Length: a socket shut down at the deadline reads as end of
    # stream, so this also checks the cut-short body is not returned as the image.
    ("http", IMAGE_HEADERS + b"Connection: close\r\n\r\n\xff\xd8", b"\0" * DRIBBLE_BYTES),
    # A TLS record header announcing a 16 KiB handshake message, then its bytes one at a time.
    ("https", b"\x16\x03\x03\x40\x00", b"\0" * DRIBBLE_BYTES),
], ids=["headers", "body", "tls-handshake"])
def test_one_deadline_covers_a_dribbling_server(inference: ModuleType, dribbling_server, scheme: str, prefix: bytes,
                                                dribble: bytes) -> None:
    port = dribbling_server(prefix, dribble)
    url = f"{scheme}://127.0.0.1:{port}/dog.jpg"
    started = time.monotonic()
    with pytest.raises(inference.ImageFetchError, match=r"timed out: no complete response within 0.4 s"):
        inference.fetch_image(url, allowed_networks=PRIVATE_NETWORKS, timeout=0.4)
    # The server would keep going for DRIBBLE_BYTES * DRIBBLE_SECONDS = 8 s.
    assert time.monotonic() - started < 1.5


def test_the_deadline_spans_redirect_hops(inference: ModuleType, http_port: int, allow_private: None) -> None:
    # Each hop answers in 0.3 s, inside a per-hop budget of 0.5 s, but the second hop ends past the deadline.
    started = time.monotonic()
    with pytest.raises(inference.ImageFetchError, match="timed out"):
        inference.fetch_image(f"http://127.0.0.1:{http_port}/slow-redirect", timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_url_input_can_be_turned_off(inference: ModuleType, model, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_URL_INPUT", "false")
    with pytest.raises(inference.UnsupportedContentTypeError, match="does not fetch image URLs") as raised:
        inference.input_fn(json.dumps({"url": "https://example.com/dog.jpg"}), "application/json")
    assert raised.value.status_code == 415
    assert "endpoint.urlInput" in str(raised.value) and "image/jpeg" in str(raised.value)
    # Image bytes are still served.
    assert predict(inference, model, image_bytes(colour_image(RED, 7, 40), "JPEG"), "image/jpeg")["predictions"]
    monkeypatch.setenv("IMAGE_URL_INPUT", "true")
    with pytest.raises(inference.InvalidRequestError, match='"url"'):
        inference.input_fn(json.dumps({"image": "x"}), "application/json")


def test_unsupported_content_type(inference: ModuleType) -> None:
    with pytest.raises(inference.UnsupportedContentTypeError, match="text/csv") as raised:
        inference.input_fn(b"1,2,3", "text/csv")
    assert isinstance(raised.value, ValueError) and raised.value.status_code == 415


@pytest.mark.parametrize("body, message", [
    ("{not json", "not valid JSON"),
    ('["https://example.com/a.jpg"]', "must be an object"),
    ('{"image": "https://example.com/a.jpg"}', '"url"'),
    ('{"url": "https://example.com/a.jpg", "topK": 0}', '"topK"'),
    ('{"url": "https://example.com/a.jpg", "topK": "many"}', '"topK"'),
])
def test_bad_json_requests(inference: ModuleType, body: str, message: str) -> None:
    with pytest.raises(inference.InvalidRequestError, match=message) as raised:
        inference.input_fn(body, "application/json")
    assert raised.value.status_code == 400


def test_top_k_bounds_and_accept(inference: ModuleType, model) -> None:
    request = inference.input_fn(image_bytes(colour_image(BLUE, 9, 40), "PNG"), "image/png")
    prediction = inference.predict_fn(request, model)
    with pytest.raises(inference.InvalidRequestError, match="exceeds the number of classes"):
        inference.output_fn(prediction, "application/json; topk=4")
    with pytest.raises(inference.InvalidRequestError, match="topk"):
        inference.output_fn(prediction, "application/json; topk=zero")
    with pytest.raises(inference.UnsupportedAcceptError, match="text/csv") as raised:
        inference.output_fn(prediction, "text/csv")
    assert raised.value.status_code == 406
    assert len(json.loads(inference.output_fn(prediction, "*/*"))["predictions"]) == 3
