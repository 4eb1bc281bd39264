"""The job domain's errors as HTTP answers: the one place that gives ``jobs.errors`` their status codes."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException

from ..sync.exceptions import as_parse_error
from .errors import IllegalTransition, JobError, JobNotComplete, JobQueueUnavailable, ResultsPurged, TooManyOpenJobs

__all__ = ["JOB_ERROR_STATUS", "as_api_exception"]

#: The status each job error is answered with.
JOB_ERROR_STATUS: dict[type[JobError], int] = {
    IllegalTransition: status.HTTP_409_CONFLICT,
    JobNotComplete: status.HTTP_409_CONFLICT,
    TooManyOpenJobs: status.HTTP_429_TOO_MANY_REQUESTS,
    JobQueueUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    ResultsPurged: status.HTTP_410_GONE,
}


def as_api_exception(exc: Exception) -> Exception:
    """A DRF ``APIException`` for a job error (its status, ``{"detail": ...}`` body and code); ``exc`` otherwise.

    Too deeply nested JSON bodies become a 400 too (``sync.exceptions.as_parse_error``). The job views'
    ``handle_exception`` pass every exception through here before DRF's handler.
    """
    if isinstance(exc, JobError):
        answer = APIException(exc.detail, exc.code)
        answer.status_code = next(
            (code for kind, code in JOB_ERROR_STATUS.items() if isinstance(exc, kind)),
            status.HTTP_400_BAD_REQUEST,
        )
        return answer
    return as_parse_error(exc)
