"""Core signals sent by the job layer: every state change and every progress write.

Connect with ``bulk_signals_core`` as usual::

    from bulk_drf.jobs.signals import job_state_changed

    @job_state_changed.connect
    def notify(sender, payload): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bulk_signals_core import Signal

__all__ = ["JobProgress", "JobStateChanged", "job_progress", "job_state_changed"]


@dataclass(frozen=True)
class JobStateChanged:
    """A job moved from ``from_state`` to ``to_state`` at ``at`` (``error_message`` set when Failed)."""

    job_id: Any
    from_state: str
    to_state: str
    at: datetime
    error_message: str = ""


@dataclass(frozen=True)
class JobProgress:
    """A job's counters after a chunk committed."""

    job_id: Any
    total: int
    processed: int
    succeeded: int
    failed: int


job_state_changed: Signal[JobStateChanged] = Signal("bulk_drf.job_state_changed")
"""Sent (sender: the ``BulkJob`` class) after every state transition, once its transaction has COMMITTED.

A transition that is rolled back sends nothing, so a receiver may send an email or call another
service. A receiver's exception is logged (logger ``bulk_signals_core``), never raised into the request
or worker: the move is already committed.
"""

job_progress: Signal[JobProgress] = Signal("bulk_drf.job_progress")
"""Sent (sender: the ``BulkJob`` class) after a chunk COMMITTED, at most every ``BULK_DRF_PROGRESS_UPDATE_INTERVAL``
records (and after the last chunk), when the progress was written to the cache. Errors are logged, as above."""
