"""The TorchServe handler the endpoint runs: the model's own handlers (inference.py), with one forward pass per
batch and one status per request.

The SageMaker PyTorch inference container (sagemaker-pytorch-inference 2.0.25, TorchServe 0.12) starts TorchServe
with `enable_envvars_config=true` and the model's code/ directory on PYTHONPATH, so the Model's environment
variable TS_DEFAULT_SERVICE_HANDLER=serving_handler:handle replaces the toolkit's stock handler with this one.
The environment route is used rather than a MAR-INF/MANIFEST.json in the model archive: it is visible on the
Model in the console and in the stack config, it changes with the stack, and an archive without it still serves
through the stock handler.

What the stock handler does, and this one does instead:
- it calls input_fn, predict_fn and output_fn once per request even when TorchServe hands it a batch; here
  input_fn and output_fn run per request and predict_fn once, on the list of every request that decoded;
- it reads the first request's headers for the whole batch; here each request's own Content-Type and Accept count;
- one failing request fails the batch (TorchServe answers 503 to all); here a bad request fails alone with its
  own status, and the others are answered;
- its error bodies are the message plus a Python traceback, labelled with the request's Accept; here they are
  `{"message": ...}` as application/json, client errors (InvalidRequestError) with their message and status, and
  anything else a 500 with a fixed message, the traceback going to the endpoint's log only;
- it decodes an application/json body as UTF-8 before input_fn and answers 500 when that fails; here that is a 400.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, List, Mapping, Optional, Tuple

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import inference  # noqa: E402
from classifier.prepare import MAX_BATCH_SIZE_ENV  # noqa: E402
from classifier.request_errors import InvalidRequestError  # noqa: E402

log = logging.getLogger(__name__)

# The value of TS_DEFAULT_SERVICE_HANDLER that selects this handler (infra/components/endpoint.ts sets it).
HANDLER = "serving_handler:handle"
JSON_TYPE = "application/json"
SERVER_ERROR_MESSAGE = "the model failed to classify the image; the endpoint's log has the details"


class _Worker:
    """The one model a TorchServe worker process serves."""

    model: Any = None


def _initialise(context: Any) -> None:
    properties = context.system_properties
    batch_size = int(properties.get("batch_size") or 1)
    # model_fn warms the model up at every batch size TorchServe can hand this worker.
    os.environ.setdefault(MAX_BATCH_SIZE_ENV, str(batch_size))
    _Worker.model = inference.model_fn(properties.get("model_dir"))
    log.info("serving_handler: model loaded; TorchServe batches up to %d requests per forward pass", batch_size)


def _header(context: Any, index: int, name: str) -> Optional[str]:
    """A request's header, whatever the case TorchServe passes it in."""
    wanted = name.lower()
    for key, value in context.get_all_request_header(index).items():
        key = key.decode("utf-8", "replace") if isinstance(key, (bytes, bytearray)) else str(key)
        if key.lower() == wanted:
            return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)
    return None


def _body(row: Mapping[str, Any], content_type: Optional[str]) -> Any:
    body = row.get("body")
    if body is None:
        body = row.get("data")
    if body is None:
        body = b""
    if isinstance(body, str):
        return body
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == JSON_TYPE:
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRequestError(f"the {JSON_TYPE} body is not UTF-8: {error}") from None
    return bytes(body)


def _error(context: Any, index: int, error: BaseException) -> str:
    if isinstance(error, InvalidRequestError):
        status, phrase, message = error.status_code, error.phrase, error.message
        log.info("request %d of the batch refused with %d: %s", index, status, message)
    else:
        status, phrase, message = 500, "Internal Server Error", SERVER_ERROR_MESSAGE
        log.error("request %d of the batch failed", index, exc_info=(type(error), error, error.__traceback__))
    context.set_response_status(status, phrase, index)
    context.set_response_content_type(index, JSON_TYPE)
    return json.dumps({"message": message})


def handle(data: Optional[List[Mapping[str, Any]]], context: Any) -> Optional[List[str]]:
    """TorchServe's entry point: called with no data once when the worker loads the model, then with each batch
    of requests; answers one body per request, in order."""
    if _Worker.model is None:
        _initialise(context)
    if data is None:
        return None
    responses: List[Optional[str]] = [None] * len(data)
    decoded: List[Tuple[int, Any, Optional[str]]] = []
    for index, row in enumerate(data):
        try:
            content_type = _header(context, index, "Content-Type")
            request = inference.input_fn(_body(row, content_type), content_type)
            decoded.append((index, request, _header(context, index, "Accept")))
        except Exception as error:  # noqa: BLE001 - each request is answered, whatever it raised
            responses[index] = _error(context, index, error)
    if decoded:
        try:
            predictions = inference.predict_fn([request for _, request, _ in decoded], _Worker.model)
        except Exception as error:  # noqa: BLE001
            for index, _, _ in decoded:
                responses[index] = _error(context, index, error)
        else:
            log.info("one forward pass for %d request(s) of a batch of %d", len(decoded), len(data))
            for (index, _, accept), prediction in zip(decoded, predictions):
                try:
                    responses[index] = inference.output_fn(prediction, accept)
                    context.set_response_content_type(index, JSON_TYPE)
                except Exception as error:  # noqa: BLE001
                    responses[index] = _error(context, index, error)
    return responses
