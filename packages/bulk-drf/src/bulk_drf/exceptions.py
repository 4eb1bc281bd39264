"""The errors, where 0.1 documented them.

The endpoints' HTTP errors live in ``bulk_drf.sync.exceptions`` (DRF ``APIException`` s); the job domain's
errors in ``bulk_drf.jobs.errors`` (plain exceptions the job views answer with 409/429/503/410).
"""

from __future__ import annotations

from .jobs.errors import (
    IllegalTransition,
    JobError,
    JobNotComplete,
    JobQueueUnavailable,
    ResultsPurged,
    TooManyOpenJobs,
)
from .sync.exceptions import (
    BulkValidationError,
    InvalidBulkPayload,
    NestedWritesNotSupported,
    PayloadTooLarge,
    WriteConflict,
    as_parse_error,
)

__all__ = [
    "BulkValidationError",
    "IllegalTransition",
    "InvalidBulkPayload",
    "JobError",
    "JobNotComplete",
    "JobQueueUnavailable",
    "NestedWritesNotSupported",
    "PayloadTooLarge",
    "ResultsPurged",
    "TooManyOpenJobs",
    "WriteConflict",
    "as_parse_error",
]
