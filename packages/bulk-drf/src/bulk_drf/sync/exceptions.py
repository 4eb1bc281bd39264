"""Errors the synchronous endpoints raise; each is a DRF ``APIException`` with a status code (views build no
error bodies).

::

    rest_framework.exceptions.APIException
     ├── PayloadTooLarge           413  more items/records than the configured limit
     ├── BulkValidationError       400  items failed: {"errors": [{"index": 3, "errors": {...}}]}
     ├── InvalidBulkPayload        400  the body is neither an object nor an array, or an empty array
     ├── NestedWritesNotSupported  400  the serializer writes nested objects or many-to-many fields
     └── WriteConflict             409  the database refused the write (a constraint raced us)

Malformed ``?ids=`` and unknown ``?unique_fields=`` are DRF ``ValidationError`` s keyed by the
parameter (``{"ids": ["'x' is not a valid id."]}``), as DRF reports any other bad input. The job
domain's errors (``IllegalTransition``, ...) are plain exceptions in ``bulk_drf.jobs.errors``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

__all__ = [
    "BulkValidationError",
    "InvalidBulkPayload",
    "NestedWritesNotSupported",
    "PayloadTooLarge",
    "WriteConflict",
    "as_parse_error",
]


class PayloadTooLarge(APIException):
    """The request carries more items or records than the configured maximum."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Too many items in one request."
    default_code = "payload_too_large"


class BulkValidationError(APIException):
    """Some items failed validation (nothing was written); the body lists every failing item.

    The body is ``{"errors": [{"index": 3, "errors": {"field": [{"message": ..., "code": ...}]}}]}``,
    the same per-item shape background jobs store as their failed results.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Some items are invalid; nothing was written."
    default_code = "invalid"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        # Set ``detail`` directly: APIException would turn the integer indexes into strings.
        self.detail = {"errors": errors}  # type: ignore[dict-item]  # kept as they are (see above)


class InvalidBulkPayload(APIException):
    """The request body cannot be a bulk payload (not an array, an empty array, ...)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Expected an array of items."
    default_code = "invalid_payload"


class NestedWritesNotSupported(APIException):
    """The viewset's serializer writes nested serializers or many-to-many fields, which bulk writes refuse."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bulk writes do not support nested or many-to-many fields."
    default_code = "nested_writes_not_supported"


class WriteConflict(APIException):
    """The database refused the write (usually a unique constraint another request won); nothing was written."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The database refused the write because of a conflicting row; nothing was written."
    default_code = "write_conflict"


def as_parse_error(exc: Exception) -> Exception:
    """``exc``, or a 400 ``ParseError`` when it is the ``RecursionError`` of a JSON body nested too deeply.

    DRF's ``JSONParser`` turns a ``ValueError`` into a 400 but lets ``json``'s ``RecursionError`` (a body
    of ``[[[[...]]]]`` a hundred thousand deep) through: a 500 from input. The bulk viewsets' and the job
    resource's ``handle_exception`` pass every exception through here.
    """
    if isinstance(exc, RecursionError) and "JSON" in str(exc):
        return ParseError("JSON parse error: the body is nested too deeply.")
    return exc
