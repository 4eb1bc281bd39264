"""The one entry point of a worker for any job: a query job is exported (``export``), any other processed
chunk by chunk (``processing``)."""

from __future__ import annotations

from typing import Any

from . import export, processing
from .models import BulkJob
from .states import JobOperation

__all__ = ["run_job"]


def run_job(job_id: Any, *, retry: bool = False, fan_out: bool = False, worker: str = "") -> BulkJob | None:
    """Run the job ``job_id`` (see ``processing.run_job`` and ``export.run_export``, which share their contract).

    ``fan_out`` and ``worker`` go to ``processing.run_job`` (an export runs in one task: its pages are ordered).
    """
    operation = BulkJob.objects.filter(pk=job_id).values_list("operation", flat=True).first()
    if operation == JobOperation.QUERY:
        return export.run_export(job_id, retry=retry)
    return processing.run_job(job_id, retry=retry, fan_out=fan_out, worker=worker)
