"""``bulk_drf.retention``, kept from 0.1: it lives in ``bulk_drf.jobs.retention``."""

from __future__ import annotations

from .jobs.retention import (
    PurgeReport,
    ResultsPurged,
    abandoned_jobs,
    expired_jobs,
    purge_abandoned_jobs,
    purge_expired_results,
)

__all__ = [
    "PurgeReport",
    "ResultsPurged",
    "abandoned_jobs",
    "expired_jobs",
    "purge_abandoned_jobs",
    "purge_expired_results",
]
