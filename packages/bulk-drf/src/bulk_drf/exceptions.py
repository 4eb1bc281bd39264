"""Errors bulk-drf raises; each is a DRF ``APIException`` with a status code, so views never build error bodies.

::

    rest_framework.exceptions.APIException
     ├── PayloadTooLarge      413  more items/records than the configured limit
     ├── IllegalTransition    409  a job state change the state machine does not allow
     └── JobNotComplete       409  aggregates asked of a job that is not JobComplete
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

__all__ = ["IllegalTransition", "JobNotComplete", "PayloadTooLarge"]


class PayloadTooLarge(APIException):
    """The request carries more items or records than the configured maximum."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Too many items in one request."
    default_code = "payload_too_large"


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
