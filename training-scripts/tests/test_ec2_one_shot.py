"""ec2_train.py --model-uri, as the EC2 user data runs it, against a loopback S3 through the real boto3: a finished
run is never trained again and its model.tar.gz is never overwritten."""
from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import metric_values, run_script

BUCKET = "clf-artifacts-1a2b3c"
KEY = "output/ec2/0123456789ab/model.tar.gz"
MODEL_URI = f"s3://{BUCKET}/{KEY}"


def decode_aws_chunked(body: bytes) -> bytes:
    """The payload of an aws-chunked body (what botocore sends with a trailing checksum)."""
    out, rest = b"", body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, rest = out + rest[:size], rest[size + 2:]


class FakeS3:
    """Path-style HEAD and PUT on one bucket, honouring If-None-Match: * as S3 does (412 when the key exists)."""

    def __init__(self) -> None:
        self.objects: Dict[str, bytes] = {}
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.head_status: Optional[int] = None  # force an answer to HEAD, e.g. 403
        self.appear_before_put: Optional[bytes] = None  # another instance uploads while this one trains
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def key(self) -> str:
                prefix = f"/{BUCKET}/"
                return self.path.split("?")[0][len(prefix):] if self.path.startswith(prefix) else ""

            def reply(self, status: int, body: bytes = b"", headers: Optional[Dict[str, str]] = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def error(self, status: int, code: str) -> None:
                self.reply(status, f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode(),
                           {"Content-Type": "application/xml"})

            def do_HEAD(self) -> None:
                fake.requests.append(("HEAD", self.key(), dict(self.headers)))
                if fake.head_status is not None:
                    return self.reply(fake.head_status)
                if self.key() not in fake.objects:
                    return self.reply(404)
                self.reply(200, headers={"ETag": '"etag"', "Content-Length": str(len(fake.objects[self.key()]))})

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if "aws-chunked" in self.headers.get("Content-Encoding", ""):
                    body = decode_aws_chunked(body)
                fake.requests.append(("PUT", self.key(), dict(self.headers)))
                if fake.appear_before_put is not None:
                    fake.objects[self.key()] = fake.appear_before_put
                if self.headers.get("If-None-Match") == "*" and self.key() in fake.objects:
                    return self.error(412, "PreconditionFailed")
                fake.objects[self.key()] = body
                self.reply(200, headers={"ETag": '"etag"'})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls(self, method: str) -> List[Tuple[str, str, Dict[str, str]]]:
        return [request for request in self.requests if request[0] == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    fake = FakeS3()
    yield fake
    fake.close()


def instance_env(s3: FakeS3, tmp_path: Path) -> Dict[str, str]:
    """What the instance has: a region and credentials (here fake ones), S3 at the loopback endpoint."""
    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SM_", "AWS_"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
               AWS_ENDPOINT_URL_S3=s3.url, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def write_config(tmp_path: Path, data_dir: Path) -> Path:
    # The user data's config.json, with the run's model URI.
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "data-dir": str(data_dir), "model-dir": str(tmp_path / "model"), "output-data-dir": str(tmp_path / "output"),
        "epochs": 1, "lr": 0.01, "batch-size": 8, "model-name": "tiny-cnn", "pretrained": False,
        "image-size": 32, "num-workers": 0, "model-uri": MODEL_URI,
    }))
    return config


def test_trains_uploads_once_and_a_second_run_of_the_same_inputs_does_not_train(
        s3: FakeS3, dataset_dir: Path, tmp_path: Path, metric_regexes) -> None:
    env = instance_env(s3, tmp_path)
    config = write_config(tmp_path, dataset_dir)

    first = run_script("ec2_train.py", ["--config", str(config)], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(metric_values(first.stdout, metric_regexes["test:loss"])) == 1
    assert f"uploaded the model to {MODEL_URI}" in first.stdout
    (put,) = s3.calls("PUT")
    assert put[1] == KEY and put[2].get("If-None-Match") == "*", put
    with tarfile.open(fileobj=io.BytesIO(s3.objects[KEY]), mode="r:gz") as tar:
        names = tar.getnames()
    assert {"model.pth", "model_config.json", "class_names.json", "code/inference.py"} <= set(names), names
    uploaded = s3.objects[KEY]

    # The instance was replaced with the same inputs (or the run relaunched): it must find its model and stop.
    second = run_script("ec2_train.py", ["--config", str(config)], env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{MODEL_URI} already exists: this run finished before; not training it again" in second.stdout
    assert metric_values(second.stdout, metric_regexes["test:loss"]) == [], "it trained again"
    assert len(s3.calls("PUT")) == 1 and s3.objects[KEY] == uploaded


def test_an_existing_model_skips_the_run_before_it_touches_the_data(s3: FakeS3, tmp_path: Path) -> None:
    s3.objects[KEY] = b"the finished run's model"
    config = write_config(tmp_path, tmp_path / "no-data-synced")
    result = run_script("ec2_train.py", ["--config", str(config)], instance_env(s3, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not training it again" in result.stdout
    assert s3.calls("PUT") == [] and s3.objects[KEY] == b"the finished run's model"
    assert not (tmp_path / "model").exists()


def test_a_model_uploaded_meanwhile_by_another_instance_is_kept(s3: FakeS3, dataset_dir: Path, tmp_path: Path) -> None:
    s3.appear_before_put = b"the other instance's model"
    result = run_script("ec2_train.py", ["--config", str(write_config(tmp_path, dataset_dir))], instance_env(s3, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{MODEL_URI} appeared while this run trained; kept it" in result.stdout
    assert s3.objects[KEY] == b"the other instance's model"


def test_access_denied_on_the_check_is_an_error_that_names_the_permission(s3: FakeS3, dataset_dir: Path, tmp_path: Path) -> None:
    s3.head_status = 403
    result = run_script("ec2_train.py", ["--config", str(write_config(tmp_path, dataset_dir))], instance_env(s3, tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot tell whether {MODEL_URI} exists: access denied" in result.stderr and "s3:ListBucket" in result.stderr
    assert "Traceback" not in result.stderr
    assert s3.calls("PUT") == [] and not (tmp_path / "model").exists(), "it trained without being able to check"


def test_model_uri_must_be_an_s3_object(tmp_path: Path) -> None:
    for bad in ("model.tar.gz", "s3://bucket-only", "s3://bucket/prefix/"):
        result = run_script("ec2_train.py", ["--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "m"), "--model-uri", bad],
                            {k: v for k, v in os.environ.items() if not k.startswith("SM_")})
        assert result.returncode == 2, (bad, result.stderr)
        assert "--model-uri" in result.stderr and repr(bad) in result.stderr and "Traceback" not in result.stderr
