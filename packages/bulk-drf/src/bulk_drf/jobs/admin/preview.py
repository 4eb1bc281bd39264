"""The import preview: which records of an Open job would succeed and which would fail, written nowhere.

``preview_job`` is the job's own dry run (``dry_run``, ``jobs.dryrun``) run here, in the web process, inside one
transaction that is rolled back: every chunk through ``execute_batch(..., dry_run=True)`` as the worker would
run it (the owner's viewset, scope and permissions, the serializer's whole validation, the unique keys against
the stored rows and within the chunk, the rows to update or delete looked up), its results stored and its key
claims settled across chunks (``dryrun.finish``: a duplicate key in another chunk fails the later record as the
job will), then read back. Nothing is left written and no bulk signal is sent.

What it cannot see is what a dry run cannot see: what only the database refuses (a ``CHECK`` constraint, an
expression index, a value out of a column's range), a ``validate`` receiver of the model, a value a concurrent
writer takes before the job runs. The job reports those per record when it runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import router, transaction
from rest_framework.exceptions import ValidationError

from ...conf import bulk_settings
from .. import dryrun, lifecycle
from ..models import BulkJob, BulkJobResult
from ..processing import build_viewset, store_results, write_rows
from ..states import JobOperation, JobState, ResultKind

__all__ = ["Preview", "RowPreview", "preview_job"]

SHOWN_FAILURES = 100
"""Failed records a preview keeps for display (all are counted)."""

SHOWN_SUCCESSES = 10
"""Records that would succeed kept for display."""


@dataclass(frozen=True)
class RowPreview:
    """One record: its index, the record as uploaded, and its errors (None when it would succeed)."""

    index: int
    record: Any
    errors: dict[str, Any] | None = None
    created: bool | None = None  # an upsert: would create (True) or update (False) a row


@dataclass
class Preview:
    """What a run of the job would do: counts, plus the first failures and successes."""

    total: int = 0
    would_succeed: int = 0
    would_fail: int = 0
    would_create: int = 0
    would_update: int = 0
    failures: list[RowPreview] = field(default_factory=list)
    successes: list[RowPreview] = field(default_factory=list)


def preview_job(job: BulkJob) -> Preview:
    """Dry-run every record of ``job`` (insert, update, upsert or delete), writing nothing (see the module).

    Raises what ``build_viewset`` raises when the owner may not use the viewset (DRF's ``PermissionDenied``),
    the synchronous layer's whole-batch errors (``NestedWritesNotSupported``, a bad ``unique_fields``), and DRF's
    ``ValidationError`` when the job is no longer Open (confirmed or cancelled meanwhile).
    """
    viewset = build_viewset(job)
    preview = Preview(total=job.total_records)
    size = max(1, bulk_settings.CHUNK_SIZE)
    using = router.db_for_write(BulkJob)
    with transaction.atomic(using=using):
        try:
            # The dry run moves its counters: a copy, rolled back. Locked: a Confirm or Cancel in another tab waits
            # for the preview (a worker's chunk would otherwise store results beside the preview's).
            probe = BulkJob.objects.select_for_update().get(pk=job.pk)
            if probe.state != JobState.OPEN:
                raise ValidationError(f"This job is {probe.state} now, no longer Open: there is nothing to preview.")
            probe.dry_run = True
            succeeded = failed = 0
            for start in range(0, job.total_records, size):
                records = lifecycle.load_records(job, start, min(start + size, job.total_records))
                rows = write_rows(probe, viewset, records, start)
                store_results(probe, rows)
                ok = sum(1 for row in rows if row.kind == ResultKind.SUCCEEDED)
                succeeded, failed = succeeded + ok, failed + len(rows) - ok
            # The counters the chunks would have committed: settling moves records from one to the other.
            BulkJob.objects.filter(pk=probe.pk).update(succeeded_records=succeeded, failed_records=failed)
            dryrun.finish(probe, viewset)
            _read_back(job, probe, preview, size)
        finally:
            transaction.set_rollback(True, using=using)  # results, claims, counters: nothing stays
    return preview


def _read_back(job: BulkJob, probe: BulkJob, preview: Preview, size: int) -> None:
    results = BulkJobResult.objects.filter(job_id=probe.pk)
    counts = Counter(results.values_list("kind", "created"))
    preview.would_fail = sum(n for (kind, _), n in counts.items() if kind == ResultKind.FAILED)
    preview.would_succeed = sum(n for (kind, _), n in counts.items() if kind == ResultKind.SUCCEEDED)
    preview.would_create = counts.get((str(ResultKind.SUCCEEDED), True), 0)
    preview.would_update = preview.would_succeed - preview.would_create
    failed = list(
        results.filter(kind=ResultKind.FAILED).order_by("index").values_list("index", "errors")[:SHOWN_FAILURES]
    )
    succeeded = list(
        results.filter(kind=ResultKind.SUCCEEDED).order_by("index").values_list("index", "created")[:SHOWN_SUCCESSES]
    )
    chunks: dict[int, list[Any]] = {}  # the uploaded records of the shown ones, a stored chunk read once

    def record(index: int) -> Any:
        first = index - index % size
        if first not in chunks:
            chunks[first] = list(lifecycle.load_records(job, first, min(first + size, job.total_records)))
        return chunks[first][index - first]

    preview.failures = [RowPreview(index, record(index), errors) for index, errors in failed]
    upsert = job.operation == JobOperation.UPSERT
    preview.successes = [
        RowPreview(index, record(index), created=created if upsert else None) for index, created in succeeded
    ]
