"""The import preview: which records of an Open job would succeed and which would fail, written nowhere.

``preview_job`` runs the job's records through the synchronous layer's ``execute_batch`` exactly as the worker
will -- the owner's viewset, scope and permissions, the serializer's whole validation, the unique keys
against the stored rows and within each chunk, the rows to update looked up -- with the viewset's
``perform_bulk_*`` write hooks replaced by no-ops, inside a transaction that is rolled back. Nothing is
written and no bulk signal is sent.

What it cannot see: what only the database refuses (a ``CHECK`` constraint, an expression index, a value out
of a column's range), a ``validate`` receiver of the model, and a duplicate key between two different chunks.
The job reports those per record when it runs. (When ingest jobs learn a ``dry_run`` mode that runs in the
worker, this function is the one place to point at it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import router, transaction

from ...conf import bulk_settings
from ...sync import operations
from .. import lifecycle
from ..models import BulkJob
from ..processing import build_viewset

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


def _skip_write(*args: Any, **kwargs: Any) -> None:
    """A ``perform_bulk_*`` hook that writes nothing."""


_WRITE_HOOKS = ("perform_bulk_create", "perform_bulk_update", "perform_bulk_upsert", "perform_bulk_destroy")


def preview_job(job: BulkJob) -> Preview:
    """Validate every record of ``job`` (insert, update or upsert) chunk by chunk, writing nothing.

    Raises what ``build_viewset`` raises when the owner may not use the viewset (DRF's ``PermissionDenied``),
    and the synchronous layer's whole-batch errors (``NestedWritesNotSupported``, a bad ``unique_fields``).
    """
    viewset = build_viewset(job)
    for name in _WRITE_HOOKS:
        setattr(viewset, name, _skip_write)  # on this instance only
    model = viewset.get_queryset().model
    preview = Preview(total=job.total_records)
    size = max(1, bulk_settings.CHUNK_SIZE)
    for start in range(0, job.total_records, size):
        records = lifecycle.load_records(job, start, min(start + size, job.total_records))
        with transaction.atomic(using=router.db_for_write(model)):
            result = operations.execute_batch(
                viewset,
                job.operation,  # type: ignore[arg-type]  # insert, update or upsert: a preview never reads
                list(records),
                unique_fields=list(job.unique_fields) or None,
                partial=job.partial,
                all_or_nothing=False,
                index_offset=start,
            )
            transaction.set_rollback(True)  # the hooks wrote nothing; a lock or a receiver's write goes too
        preview.would_succeed += len(result.succeeded)
        preview.would_fail += len(result.failed)
        preview.would_create += sum(1 for s in result.succeeded if s.created)
        for failure in result.failed:
            if len(preview.failures) < SHOWN_FAILURES:
                preview.failures.append(RowPreview(failure.index, records[failure.index - start], failure.errors))
        for success in result.succeeded:
            if len(preview.successes) < SHOWN_SUCCESSES:
                created = success.created if job.operation == "upsert" else None
                preview.successes.append(RowPreview(success.index, records[success.index - start], created=created))
    preview.would_update = preview.would_succeed - preview.would_create
    return preview
