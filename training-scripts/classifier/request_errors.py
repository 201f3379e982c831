"""Client errors of the inference handlers: the request is at fault, and each error carries the HTTP status to
answer with.

Errors subclass `InvalidRequestError` (a ValueError) and carry the HTTP status in `status_code`: 400, or 415
(`UnsupportedContentTypeError`), 406 (`UnsupportedAcceptError`), 413 (`ImageTooLargeError`). In the SageMaker
container they also derive from the toolkit's BaseInferenceToolkitError, so the endpoint answers with that status;
anything else is a server error (500).
"""
from __future__ import annotations

from .redact import scrub_secrets

try:
    # Inside the SageMaker inference container: the toolkit answers with the status code of errors
    # derived from this class, and with 500 for anything else.
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:
    _ToolkitError = Exception


class InvalidRequestError(ValueError, _ToolkitError):
    """The request is at fault (client error); `status_code` is the HTTP status to answer with."""

    status_code = 400
    phrase = "Bad Request"

    def __init__(self, message: str) -> None:
        # Messages quote the caller's URL and the errors it met; the caller and the logs see neither its query
        # string nor any signature in it.
        message = scrub_secrets(message)
        ValueError.__init__(self, message)
        self.message = message


class UnsupportedContentTypeError(InvalidRequestError):
    status_code = 415
    phrase = "Unsupported Media Type"


class UnsupportedAcceptError(InvalidRequestError):
    status_code = 406
    phrase = "Not Acceptable"


class ImageFetchError(InvalidRequestError):
    """The image URL was refused or could not be fetched."""


class BlockedAddressError(ImageFetchError):
    pass


class ImageTooLargeError(InvalidRequestError):
    status_code = 413
    phrase = "Payload Too Large"


class InvalidImageError(InvalidRequestError):
    pass
