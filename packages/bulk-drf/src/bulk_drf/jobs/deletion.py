"""Deleting a job deletes its result rows, which have no database foreign key to it (``BulkJobResult.job``).

A job writes one result row per record, and a foreign key costs one check per row at commit: about 6 µs a record,
5% of an insert chunk (docs/jobs.md, "Storage"). Django's ``on_delete=CASCADE`` still deletes a job's results
with it (the ORM's ``delete()``, the admin's, a deleted owner's), and two rules keep a result row from ever
outliving its job:

- a chunk's transaction writes its results, then locks the job row (``fanout.commit_chunk``) and rolls back when
  the job is gone;
- once a deletion has deleted the job row (waiting, if a chunk holds that row, for the chunk's commit), it deletes
  the job's result rows once more (``delete_late_results``, a ``post_delete`` receiver in the deletion's
  transaction): the rows a chunk committed after Django collected or deleted the job's results.

The deletion takes its locks in Django's own order (the related rows, then the job row), as before: no lock is
taken earlier than Django takes it, so no new lock-order conflict with chunks, dispatches or purges. Before,
with the foreign key, the same race made the deletion itself fail (``IntegrityError``). A job deleted with raw SQL
leaves its results behind; delete jobs through the ORM.
"""

from __future__ import annotations

from typing import Any

from .models import BulkJob, BulkJobResult

__all__ = ["delete_late_results"]


def delete_late_results(sender: type[BulkJob], instance: BulkJob, using: str, **kwargs: Any) -> None:
    """``post_delete`` of ``BulkJob``: delete the result rows of the deleted job that are still there (one query)."""
    BulkJobResult._base_manager.using(using).filter(job_id=instance.pk).delete()
