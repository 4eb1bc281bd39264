"""Errors bulk-drf raises; each is a DRF ``APIException`` with a status code, so views never build error bodies.

::

    rest_framework.exceptions.APIException
     ├── PayloadTooLarge           413  more items/records than the configured limit
     ├── BulkValidationError       400  items failed: {"errors": [{"index": 3, "errors": {...}}]}
     ├── InvalidBulkPayload        400  the body is neither an object nor an array, or an empty array
     ├── NestedWritesNotSupported  400  the serializer writes nested objects or many-to-many fields
     ├── WriteConflict             409  the database refused the write (a constraint raced us)
     ├── IllegalTransition         409  a job state change the state machine does not allow
     ├── JobNotComplete            409  aggregates asked of a job that is not JobComplete
     └── TooManyOpenJobs           429  the user has BULK_DRF_MAX_OPEN_JOBS unfinished jobs already

Malformed ``?ids=`` and unknown ``?unique_fields=`` are DRF ``ValidationError`` s keyed by the
parameter (``{"ids": ["'x' is not a valid id."]}``), as DRF reports any other bad input.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

__all__ = [
    "BulkValidationError",
    "IllegalTransition",
    "InvalidBulkPayload",
    "JobNotComplete",
    "NestedWritesNotSupported",
    "PayloadTooLarge",
    "TooManyOpenJobs",
    "WriteConflict",
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
        self.detail = {"errors": errors}  # type: ignore[assignment]


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


class IllegalTransition(APIException):
    """A job cannot move from ``from_state`` to ``to_state``; the message names both."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "illegal_transition"

    def __init__(self, from_state: str, to_state: str, detail: Any = None) -> None:
        self.from_state = from_state
        self.to_state = to_state
        super().__init__(detail or f"a job cannot move from {from_state} to {to_state}", self.default_code)


class JobNotComplete(APIException):
    """The job has not reached ``JobComplete`` yet (aggregates are only computed then)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "job_not_complete"

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"aggregates are available once the job is JobComplete; it is {state}", self.default_code)


class TooManyOpenJobs(APIException):
    """The user already has ``BULK_DRF_MAX_OPEN_JOBS`` jobs that are not finished (Open, queued or running)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_open_jobs"

    def __init__(self, unfinished: int, limit: int) -> None:
        self.unfinished = unfinished
        self.limit = limit
        super().__init__(
            f"you have {unfinished} unfinished bulk jobs; BULK_DRF_MAX_OPEN_JOBS is {limit}. Close or abort an "
            "Open job (PATCH /api/bulk-jobs/{id}/ {\"state\": \"Aborted\"}) or wait for one to finish",
            self.default_code,
        )


class JobQueueUnavailable(APIException):
    """No Celery app is configured (and tasks do not run eagerly): a submitted job could never run."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "job_queue_unavailable"
    default_detail = (
        "background jobs are not available: no Celery app is configured on the server (system check "
        "bulk_drf.W003), so no worker would run this job; it was left Open"
    )
