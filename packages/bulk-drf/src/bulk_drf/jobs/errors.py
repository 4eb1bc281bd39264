"""The job domain's errors: plain exceptions, no HTTP in them.

::

    JobError
     ├── IllegalTransition    a job state change the state machine does not allow
     ├── JobNotComplete       aggregates asked of a job that is not JobComplete
     ├── TooManyOpenJobs      the user has BULK_DRF_MAX_OPEN_JOBS unfinished jobs already
     ├── JobQueueUnavailable  no Celery app is configured: a submitted job could never run
     │    └── BrokerUnreachable    the Celery broker did not answer when the job was to be queued
     └── ResultsPurged        the job's per-record results were deleted after BULK_DRF_RESULTS_TTL

The job views (``BulkJobViewSet``, ``BulkJobsMixin``) answer them with the status of
``jobs.http.JOB_ERROR_STATUS`` (409, 409, 429, 503, 410); the worker catches them as what they are.
Each carries ``detail`` (the message) and ``code`` (the error code of the response body).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..conf import bulk_settings

if TYPE_CHECKING:
    from .models import BulkJob

__all__ = [
    "BrokerUnreachable",
    "IllegalTransition",
    "JobError",
    "JobNotComplete",
    "JobQueueUnavailable",
    "ResultsPurged",
    "TooManyOpenJobs",
]

JOB_STAYS_OPEN = "the job was not queued and stays Open: close it again once this is fixed"
"""What a refused close leaves behind (``PATCH /api/bulk-jobs/{id}/ {"state": "UploadComplete"}``)."""

NOTHING_STORED = "nothing was stored: send the request again once this is fixed"
"""What a refused one-shot ``bulk/`` request leaves behind (its job is rolled back with its data)."""


class JobError(Exception):
    """A job operation refused by the job's rules; ``detail`` says why, ``code`` names the rule."""

    code = "job_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IllegalTransition(JobError):
    """A job cannot move from ``from_state`` to ``to_state``; the message names both."""

    code = "illegal_transition"

    def __init__(self, from_state: str, to_state: str, detail: str | None = None) -> None:
        self.from_state = from_state
        self.to_state = to_state
        super().__init__(detail or f"a job cannot move from {from_state} to {to_state}")


class JobNotComplete(JobError):
    """The job has not reached ``JobComplete`` yet (aggregates are only computed then), or a query job has not
    finished yet (its rows are read then)."""

    code = "job_not_complete"

    def __init__(self, state: str, what: str = "aggregates are") -> None:
        self.state = state
        final = "JobComplete" if what.startswith("aggregates") else "finished (JobComplete, Failed or Aborted)"
        super().__init__(f"{what} available once the job is {final}; it is {state}")


class TooManyOpenJobs(JobError):
    """The user already has ``BULK_DRF_MAX_OPEN_JOBS`` jobs that are not finished (Open, queued or running)."""

    code = "too_many_open_jobs"

    def __init__(self, unfinished: int, limit: int) -> None:
        self.unfinished = unfinished
        self.limit = limit
        super().__init__(
            f"you have {unfinished} unfinished bulk jobs; BULK_DRF_MAX_OPEN_JOBS is {limit}. Close or abort an "
            'Open job (PATCH /api/bulk-jobs/{id}/ {"state": "Aborted"}) or wait for one to finish'
        )


class JobQueueUnavailable(JobError):
    """No Celery app is configured (and tasks do not run eagerly): a submitted job could never run.

    ``outcome`` says what became of the job (``JOB_STAYS_OPEN`` or ``NOTHING_STORED``).
    """

    code = "job_queue_unavailable"

    def __init__(self, outcome: str = JOB_STAYS_OPEN, detail: str | None = None) -> None:
        self.outcome = outcome
        super().__init__(
            detail
            or (
                "background jobs are not available: no Celery app is configured on the server (system check "
                f"bulk_drf.W003), so no worker would run this job; {outcome}"
            )
        )


class BrokerUnreachable(JobQueueUnavailable):
    """The Celery broker did not answer when a job was to be queued; ``broker`` is its URL, password masked.

    Same code (``job_queue_unavailable``) and status (503) as a missing Celery app: either way no worker can
    get the job now, and the client's remedy is the same (try again later).
    """

    def __init__(self, broker: str, reason: str, outcome: str = JOB_STAYS_OPEN) -> None:
        self.broker = broker
        self.reason = reason
        super().__init__(outcome, f"the Celery broker {broker} could not be reached ({reason}); {outcome}")


class ResultsPurged(JobError):
    """The job's per-record results were deleted after ``BULK_DRF_RESULTS_TTL``."""

    code = "results_purged"

    def __init__(self, job: BulkJob) -> None:
        super().__init__(
            f"the results of this job were deleted on {job.results_purged_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(BULK_DRF_RESULTS_TTL is {bulk_settings.RESULTS_TTL}s)"
        )
