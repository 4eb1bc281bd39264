"""``bulk_drf.signals``, kept from 0.1: it lives in ``bulk_drf.jobs.signals``."""

from __future__ import annotations

from .jobs.signals import (
    JobProgress,
    JobStateChanged,
    job_progress,
    job_state_changed,
)

__all__ = ["JobProgress", "JobStateChanged", "job_progress", "job_state_changed"]
