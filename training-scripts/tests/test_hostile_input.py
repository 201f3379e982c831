"""Hostile input to the endpoint's handlers (the deployed code/inference.py): formats the API does not promise,
decoder work, PNG text chunks, digits from other scripts, deep JSON, secrets in messages, and input_fn over
generated bodies and content types, which may only ever raise a client error."""
from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from conftest import colour_image, image_bytes
from test_inference import inference  # noqa: F401  (the fixture: the model directory's own code/inference.py)

REDACTION_CASES = json.loads((Path(__file__).parent / "redaction_cases.json").read_text(encoding="utf-8"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_text(compressed_bytes: int) -> bytes:
    """A valid 8x8 PNG whose zTXt chunk inflates to `compressed_bytes` bytes of text (a text bomb when large)."""
    png = image_bytes(colour_image((200, 10, 10), 1, 8), "PNG")
    ztxt = _png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * compressed_bytes, 9))
    # After IHDR (8-byte signature + 25-byte IHDR chunk).
    return png[:33] + ztxt + png[33:]


@pytest.mark.parametrize("kind", ["BMP", "GIF", "WEBP", "TIFF", "ICO"])
def test_only_jpeg_and_png_are_decoded(inference: ModuleType, kind: str) -> None:
    body = image_bytes(colour_image((10, 200, 10), 2, 16), kind)
    for content_type in ("image/png", "image/jpeg"):
        with pytest.raises(inference.InvalidImageError, match="not a readable JPEG or PNG"):
            inference.input_fn(body, content_type)


def test_run_length_encoded_bmp_is_refused_unread(inference: ModuleType) -> None:
    # BI_RLE8 with a 4000x4000 canvas: cheap to send, seconds of CPU to expand if it were decoded.
    header = b"BM" + struct.pack("<IHHI", 0, 0, 0, 1078) + struct.pack("<IiiHHIIiiII", 40, 4000, 4000, 1, 8, 1, 0, 0, 0, 256, 0)
    body = header + b"\0" * 1024 + b"\xff\x00" * 4000
    with pytest.raises(inference.InvalidImageError, match="not a readable JPEG or PNG"):
        inference.input_fn(body, "image/png")


def test_png_text_chunks_are_bounded(inference: ModuleType) -> None:
    assert inference.input_fn(png_with_text(1000), "image/png").image.size == (8, 8)
    with pytest.raises(inference.InvalidImageError, match="bytes per PNG text chunk"):
        inference.input_fn(png_with_text(8 * 1024 * 1024), "image/png")


def test_a_jpeg_with_too_many_scans_is_refused_before_decoding(inference: ModuleType) -> None:
    jpeg = image_bytes(colour_image((10, 10, 200), 3, 16), "JPEG")
    assert inference.input_fn(jpeg, "image/jpeg").image.size == (16, 16)
    # Each start-of-scan marker is a pass over the whole image; a comment segment can stand in for real scans.
    comment = b"\xff\xda" * (inference.MAX_JPEG_SCANS + 1)
    many_scans = jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]
    with pytest.raises(inference.InvalidImageError, match="scans"):
        inference.input_fn(many_scans, "image/jpeg")


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(inference: ModuleType) -> None:
    big = io.BytesIO()
    Image.new("RGB", (4000, 3000), (120, 60, 30)).save(big, "JPEG", quality=80)
    image = inference.input_fn(big.getvalue(), "image/jpeg").image
    assert image.size == (2000, 1500)  # libjpeg's 1/2 scale: the smallest at least JPEG_DRAFT_SIZE


@pytest.mark.parametrize("accept", ["application/json; topk=\u00b2", "application/json; topk=\u0663", "application/json; topk=\uff13"])
def test_digits_of_other_scripts_in_accept_are_a_client_error(inference: ModuleType, model, accept: str) -> None:
    prediction = inference.predict_fn(inference.input_fn(image_bytes(colour_image((1, 2, 3), 4, 16), "PNG"), "image/png"), model)
    with pytest.raises(inference.InvalidRequestError, match="topk"):
        inference.output_fn(prediction, accept)


@pytest.fixture(scope="module")
def model(inference: ModuleType, trained_model):  # noqa: F811
    return inference.model_fn(str(trained_model.model_dir))


@pytest.mark.parametrize("top_k", ["\u00b2", "\u0663", "\uff13"])
def test_digits_of_other_scripts_in_top_k_are_a_client_error(inference: ModuleType, top_k: str) -> None:
    with pytest.raises(inference.InvalidRequestError, match='"topK"'):
        inference.input_fn(json.dumps({"url": "https://example.com/a.jpg", "topK": top_k}), "application/json")


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_json_is_a_client_error(inference: ModuleType, body: str) -> None:
    with pytest.raises(inference.InvalidRequestError, match="nested too deeply") as raised:
        inference.input_fn(body, "application/json")
    assert raised.value.status_code == 400


@pytest.mark.parametrize("case", REDACTION_CASES["cases"], ids=lambda case: case["name"])
def test_no_secret_survives_in_an_error_message(inference: ModuleType, case: Dict[str, Any]) -> None:
    error = inference.ImageFetchError(f"fetching {case['text']} failed")
    for secret in case["secrets"]:
        assert secret not in error.message and secret not in str(error)
    for kept in case.get("keeps", []):
        assert kept in error.message


def test_a_refused_presigned_url_names_its_host_but_not_its_signature(inference: ModuleType) -> None:
    url = ("https://169.254.169.254/bucket/dog.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261201"
           "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature=0123456789abcdef")
    with pytest.raises(inference.BlockedAddressError) as raised:
        inference.input_fn(json.dumps({"url": url}), "application/json")
    assert "169.254.169.254/bucket/dog.jpg" in raised.value.message
    for secret in ("AKIAEXAMPLE", "IQoJb3JpZ2luX2VjEXAMPLE", "0123456789abcdef"):
        assert secret not in raised.value.message


# --- input_fn over generated requests --------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries({"url": st.text(max_size=40)}, optional={"topK": json_values}),
    st.fixed_dictionaries({"url": st.just("https://images.test/dog.jpg")},
                          optional={"topK": st.one_of(st.integers(), st.text(alphabet="0123456789\u00b2\u0663\uff13 -+", max_size=6))}),
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    payloads.map(lambda value: json.dumps(value)),
    payloads.map(lambda value: json.dumps(value).encode("utf-8")),
    st.sampled_from(["PNG", "JPEG", "GIF", "BMP"]).map(lambda kind: image_bytes(colour_image((9, 9, 9), 5, 8), kind)),
    st.tuples(st.sampled_from(["PNG", "JPEG"]), st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=8)).map(
        lambda spec: _corrupt(image_bytes(colour_image((9, 9, 9), 6, 16), spec[0]), spec[1], spec[2])),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "image/png", "image/jpeg", "APPLICATION/JSON; charset=utf-8", "image/png;x=1,text/html",
                     "text/plain", "", ";", "image/gif", "application/json; topk=3"]),
    st.text(max_size=30),
)


def _corrupt(data: bytes, at: int, junk: bytes) -> bytes:
    at = min(at, len(data))
    return data[:at] + junk + data[at + len(junk):]


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=bodies, content_type=content_types)
def test_input_fn_raises_only_client_errors(inference: ModuleType, monkeypatch: pytest.MonkeyPatch, body: Any,
                                            content_type: Any) -> None:
    fetched: List[str] = []

    def fetch_nothing(url: str) -> bytes:
        # The fetcher has its own tests; here the URL is only recorded and the answer is a real, small PNG.
        fetched.append(url)
        return image_bytes(colour_image((3, 3, 3), 7, 8), "PNG")

    monkeypatch.setattr(inference, "fetch_image", fetch_nothing)
    try:
        request = inference.input_fn(body, content_type)
    except inference.InvalidRequestError as error:
        assert 400 <= error.status_code < 500 and error.message
        return
    assert request.image.mode == "RGB"
    assert request.top_k is None or (isinstance(request.top_k, int) and request.top_k >= 1)
