"""The job state machine (modelled on Salesforce Bulk API 2.0): states, operations and legal moves.

This module is the one place that says which transition is allowed; ``lifecycle.transition`` is the one
place that performs it (a conditional UPDATE, a timestamp, a ``job_state_changed`` signal)::

    Open ──► UploadComplete ──► InProgress ──► JobComplete
      │            │                 │     └──► Failed
      └────────────┴─────────────────┴────────► Aborted
"""

from __future__ import annotations

from django.db import models

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "ChunkState",
    "JobOperation",
    "JobState",
    "ResultKind",
    "can_transition",
]


class JobState(models.TextChoices):
    """Where a job is in its life; the values are what the API shows (Salesforce's spelling)."""

    OPEN = "Open"
    UPLOAD_COMPLETE = "UploadComplete"
    IN_PROGRESS = "InProgress"
    JOB_COMPLETE = "JobComplete"
    FAILED = "Failed"
    ABORTED = "Aborted"


class JobOperation(models.TextChoices):
    """What a job does with each record."""

    INSERT = "insert"
    UPDATE = "update"
    UPSERT = "upsert"
    DELETE = "delete"
    READ = "read"
    QUERY = "query"


class ResultKind(models.TextChoices):
    """The three result lists of a job (``?kind=``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNPROCESSED = "unprocessed"


FINAL_STATES: frozenset[str] = frozenset({JobState.JOB_COMPLETE, JobState.FAILED, JobState.ABORTED})

TRANSITIONS: dict[str, frozenset[str]] = {
    JobState.OPEN: frozenset({JobState.UPLOAD_COMPLETE, JobState.ABORTED}),
    JobState.UPLOAD_COMPLETE: frozenset({JobState.IN_PROGRESS, JobState.ABORTED, JobState.FAILED}),
    JobState.IN_PROGRESS: frozenset({JobState.JOB_COMPLETE, JobState.FAILED, JobState.ABORTED}),
    JobState.JOB_COMPLETE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.ABORTED: frozenset(),
}
"""Legal moves: ``TRANSITIONS[from_state]`` is the set of states a job may go to next.

``UploadComplete -> Failed`` exists for a job the worker cannot even start (target viewset gone,
owner lost the permission, no data).
"""

# The timestamp field each state stamps when a job enters it.
STATE_TIMESTAMPS: dict[str, str] = {
    JobState.OPEN: "created_at",
    JobState.UPLOAD_COMPLETE: "upload_complete_at",
    JobState.IN_PROGRESS: "started_at",
    JobState.JOB_COMPLETE: "completed_at",
    JobState.FAILED: "failed_at",
    JobState.ABORTED: "aborted_at",
}


def can_transition(from_state: str, to_state: str) -> bool:
    """Whether a job in ``from_state`` may move to ``to_state``."""
    return to_state in TRANSITIONS.get(from_state, frozenset())


class ChunkState(models.TextChoices):
    """Where one processing chunk of a job is (``BulkJobChunk.state``; see ``bulk_drf.jobs.fanout``).

    ``pending`` (planned) -> ``queued`` (its message sent) -> ``running`` (a worker claimed it) -> ``done``
    (committed, in the same transaction as its rows and results). A chunk is never un-done; a run that rolls
    back leaves it ``running`` for the next delivery to take over.
    """

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
