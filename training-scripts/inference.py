"""Inference handlers for the SageMaker PyTorch inference toolkit (model_fn, input_fn, predict_fn, output_fn).

Requests:
    application/json   {"url": "https://...", "topK": 3}   the image is fetched from the URL
    image/jpeg, image/png                                   the body is the image
Response (application/json):
    {"predictions": [{"label": "Beagle", "index": 15, "probability": 0.93}, ...]}, most probable first.
    Top-k comes from the request's "topK", else an Accept parameter (`application/json; topk=3`), else 5
    (capped at the number of classes).

The URL is fetched by `classifier.image_fetch` (its docstring has the rules: https only, every address checked,
redirects re-checked, one deadline, a size limit). Only JPEG and PNG are decoded, within MAX_IMAGE_PIXELS and
MAX_JPEG_SCANS (both checked from the headers, before decoding) and Pillow's PNG text chunk limits.

Client errors are the `classifier.request_errors` classes, carrying the HTTP status to answer with; anything
else is a server error (500).
"""
from __future__ import annotations

import io
import json
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union

import torch
from PIL import Image, ImageFile, PngImagePlugin, UnidentifiedImageError

# The toolkit imports this file from model_dir/code; make the bundled `classifier` package importable
# whatever the working directory and PYTHONPATH.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from classifier.artifacts import load_model_dir  # noqa: E402
from classifier.contract import DEFAULT_TOP_K  # noqa: E402
from classifier.data import eval_transform  # noqa: E402
from classifier.image_fetch import MAX_IMAGE_BYTES, fetch_image  # noqa: E402
from classifier.request_errors import (  # noqa: E402,F401  (the error classes are part of this module's interface)
    BlockedAddressError, ImageFetchError, ImageTooLargeError, InvalidImageError, InvalidRequestError,
    UnsupportedAcceptError, UnsupportedContentTypeError,
)
from classifier.prepare import (  # noqa: E402
    ServingModel, max_batch_size, optimiser_from_env, prepare_model, serving_threads, set_threads,
)
from classifier.quantize import serving_precision  # noqa: E402

log = logging.getLogger(__name__)

MAX_IMAGE_PIXELS = 40_000_000
# A normal progressive JPEG has about 10 scans; each one costs a pass over all the image's coefficients.
MAX_JPEG_SCANS = 32
JPEG_DRAFT_SIZE = (1024, 1024)
MAX_PNG_TEXT_CHUNK_BYTES = 64 * 1024
MAX_PNG_TEXT_BYTES = 256 * 1024

JSON_TYPE = "application/json"
# "false" refuses {"url"} requests (415): the stack sets it from endpoint.urlInput; unset, URLs are fetched as before.
URL_INPUT_ENV = "IMAGE_URL_INPUT"
RAW_IMAGE_TYPES = ("image/jpeg", "image/png")
# Only what the API promises: every other decoder Pillow has is attack surface and some (RLE BMP) cost seconds.
DECODABLE_FORMATS = ("JPEG", "PNG")


@dataclass
class ImageRequest:
    image: Image.Image
    top_k: Optional[int]


@dataclass
class Prediction:
    probabilities: List[float]
    class_names: List[str]
    top_k: Optional[int]


def _limit_decoder() -> None:
    """Pillow's own limits, set to this API's: pixel bombs, truncated data, and the compressed text chunks of PNG
    (zTXt/iTXt inflate up to MAX_TEXT_CHUNK each, MAX_TEXT_MEMORY in all), which the pixel limit does not cover."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    PngImagePlugin.MAX_TEXT_CHUNK = MAX_PNG_TEXT_CHUNK_BYTES
    PngImagePlugin.MAX_TEXT_MEMORY = MAX_PNG_TEXT_BYTES


_limit_decoder()


def _check_decode_work(image: Image.Image, data: bytes) -> None:
    """Refuses images whose decoding would cost more than the pixel limit allows for, before any pixel is decoded.

    A baseline JPEG or a PNG costs in proportion to its pixels; a progressive JPEG pays again for every scan,
    and a few bytes make a scan, so a small file can hold thousands. SOS markers cannot occur inside
    entropy-coded data (0xFF is always stuffed there), so counting them counts the scans (an embedded thumbnail
    counts too, erring towards refusal).
    """
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLargeError(f"image is {width}x{height} pixels; the limit is {MAX_IMAGE_PIXELS} pixels")
    if image.format in ("JPEG", "MPO"):
        scans = data.count(b"\xff\xda")
        if scans > MAX_JPEG_SCANS:
            raise InvalidImageError(f"the JPEG has {scans} scans; at most {MAX_JPEG_SCANS} are decoded")


def decode_image(data: bytes) -> Image.Image:
    """Decodes a JPEG or PNG to RGB within the byte, pixel and work limits, all checked before the pixels are."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLargeError(f"image is {len(data)} bytes; the limit is {MAX_IMAGE_BYTES}")
    if not data:
        raise InvalidImageError("the image is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=DECODABLE_FORMATS)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(f"image has too many pixels: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise InvalidImageError(f"the body is not a readable JPEG or PNG image: {error}") from None
    except ValueError as error:
        # Pillow's text chunk limits, met while the chunks before the pixel data are read.
        raise InvalidImageError(
            f"the image's metadata is over the limits ({MAX_PNG_TEXT_CHUNK_BYTES} bytes per PNG text chunk, "
            f"{MAX_PNG_TEXT_BYTES} in all): {error}"
        ) from None
    _check_decode_work(image, data)
    try:
        # libjpeg scales by 1/2 to 1/8 while decoding: a large photo is decoded at no less than JPEG_DRAFT_SIZE,
        # plenty for the model's input (224 px), at a fraction of the work. Not a JPEG: a no-op.
        image.draft("RGB", JPEG_DRAFT_SIZE)
        image.load()
        return image.convert("RGB")
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(f"image has too many pixels: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageError(f"the image data is corrupt or truncated: {error}") from None


def _media_type(header: Optional[str]) -> Tuple[str, dict]:
    """'application/json; topk=3' -> ('application/json', {'topk': '3'})."""
    if not header:
        return "", {}
    first = header.split(",")[0]
    kind, *params = first.split(";")
    parsed = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parsed


def _parse_top_k(value: Any, source: str) -> int:
    if isinstance(value, bool):
        raise InvalidRequestError(f"{source} must be a positive integer, got {value!r}")
    # isdigit() alone admits other scripts' digits and superscripts, which int() then takes or rejects.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{source} must be a positive integer, got {value!r}")
    return value


def model_fn(model_dir: str) -> ServingModel:
    """Loads the model directory and prepares it for serving (classifier/prepare.py): the int8 model where the
    directory's quantization report allows it (classifier/quantize.py), else fp32; TorchScript, torch threads for
    this worker's share of the vCPUs, and a warm-up at every batch size up to INFERENCE_MAX_BATCH_SIZE (1 unless
    set), or the eager model if preparing it fails (or if INFERENCE_MODEL_PREPARATION=eager)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loaded = load_model_dir(model_dir, device)
    log.info("loaded %s with %d classes from %s", loaded.config.model_name, loaded.config.num_classes, model_dir)
    threads = serving_threads()
    # Quantized kernels run on the CPU only; the rebuild runs on this worker's threads, as serving will.
    precision = None
    if device.type == "cpu":
        set_threads(threads)
        precision = serving_precision(model_dir, loaded.model, loaded.config.image_size)
    return prepare_model(loaded, threads=threads, optimise=optimiser_from_env(), precision=precision,
                         warmup_batch_sizes=range(1, max_batch_size() + 1))


def input_fn(request_body: Union[bytes, bytearray, str], content_type: Optional[str] = JSON_TYPE) -> ImageRequest:
    kind, _ = _media_type(content_type)
    if kind in RAW_IMAGE_TYPES:
        if isinstance(request_body, str):
            raise InvalidRequestError(f"a {kind} body must be bytes")
        return ImageRequest(image=decode_image(bytes(request_body)), top_k=None)
    if kind == JSON_TYPE:
        if os.environ.get(URL_INPUT_ENV, "true").strip().lower() != "true":
            raise UnsupportedContentTypeError(
                f"this endpoint does not fetch image URLs ({URL_INPUT_ENV} is off: stack config endpoint.urlInput); "
                f"send the image itself as {' or '.join(RAW_IMAGE_TYPES)}"
            )
        try:
            payload = json.loads(request_body)
        except (ValueError, TypeError) as error:
            raise InvalidRequestError(f"request body is not valid JSON: {error}") from None
        except RecursionError:
            raise InvalidRequestError("request JSON is nested too deeply; send a flat object like {\"url\": \"https://...\"}") from None
        if not isinstance(payload, dict):
            raise InvalidRequestError('request JSON must be an object like {"url": "https://..."}')
        url = payload.get("url")
        if not isinstance(url, str) or not url.strip():
            raise InvalidRequestError('request JSON needs a "url" string')
        top_k = _parse_top_k(payload["topK"], '"topK"') if payload.get("topK") is not None else None
        return ImageRequest(image=decode_image(fetch_image(url.strip())), top_k=top_k)
    raise UnsupportedContentTypeError(
        f"unsupported content type {content_type!r}; send {JSON_TYPE} with a URL or {' / '.join(RAW_IMAGE_TYPES)} bytes"
    )


def predict_fn(input_data: Union[ImageRequest, List[ImageRequest]],
               model: ServingModel) -> Union[Prediction, List[Prediction]]:
    """One request, or a list of them in one forward pass (a batch gets a list of predictions, in order)."""
    requests = input_data if isinstance(input_data, list) else [input_data]
    if not requests:
        return []
    config = model.config
    transform = eval_transform(config.image_size, config.mean, config.std)
    batch = torch.stack([transform(request.image) for request in requests])
    batch = batch.to(model.device).contiguous(memory_format=model.memory_format)
    with torch.inference_mode():
        probabilities = torch.softmax(model.forward(batch).float(), dim=1).cpu().tolist()
    predictions = [Prediction(probabilities=row, class_names=model.class_names, top_k=request.top_k)
                   for row, request in zip(probabilities, requests)]
    return predictions if isinstance(input_data, list) else predictions[0]


def output_fn(prediction: Prediction, accept: Optional[str] = JSON_TYPE) -> str:
    kind, params = _media_type(accept)
    if kind not in ("", JSON_TYPE, "*/*", "application/*"):
        raise UnsupportedAcceptError(f"unsupported Accept {accept!r}; responses are {JSON_TYPE}")
    num_classes = len(prediction.probabilities)
    if prediction.top_k is not None:
        top_k = prediction.top_k
    elif "topk" in params:
        top_k = _parse_top_k(params["topk"], "Accept parameter topk")
    else:
        top_k = min(DEFAULT_TOP_K, num_classes)
    if top_k > num_classes:
        raise InvalidRequestError(f"topK {top_k} exceeds the number of classes ({num_classes})")
    ranked = sorted(range(num_classes), key=lambda index: prediction.probabilities[index], reverse=True)[:top_k]
    return json.dumps(
        {
            "predictions": [
                {"label": prediction.class_names[index], "index": index, "probability": prediction.probabilities[index]}
                for index in ranked
            ]
        }
    )
