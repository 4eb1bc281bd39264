"""Django loads an app's models from ``<app>.models``: the job models live in ``bulk_drf.jobs.models``."""

from __future__ import annotations

from .jobs.models import (
    BulkJob,
    BulkJobChunk,
    BulkJobDataChunk,
    BulkJobKeyClaim,
    BulkJobResult,
    BulkJobResultPage,
)

__all__ = ["BulkJob", "BulkJobChunk", "BulkJobDataChunk", "BulkJobKeyClaim", "BulkJobResult", "BulkJobResultPage"]
