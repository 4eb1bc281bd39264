"""Deleting a job deletes its result rows, which have no database foreign key to it (``BulkJobResult.job``).

A job writes one result row per record, and a foreign key costs one check per row at commit: about 6 µs a record,
5% of an insert chunk (docs/jobs.md, "Storage"). Django's ``on_delete=CASCADE`` still deletes a job's results
with it (the ORM's ``delete()``, the admin's, a deleted owner's), and two rules keep a result row from ever
outliving its job:

- a chunk's transaction writes its results, then locks the job row (``fanout.commit_chunk``) and rolls back when
  the job is gone;
- deleting a job first locks its chunk rows, then its row (``lock_before_delete``, a ``pre_delete`` receiver:
  Django sends it inside the deletion's transaction, before it deletes the related rows). A chunk in work holds
  its chunk row (``fanout.hold``) until it commits, so the deletion waits for it and then deletes the results it
  committed; a chunk not yet started finds its row locked (``SKIP LOCKED``) or the job gone. The locks are taken
  in the chunks' own order (chunk row, then job row): the two never deadlock.

With a foreign key, the same race made the deletion itself fail (``IntegrityError``). A job deleted with raw SQL
leaves its results behind (``purge_expired_results`` does not see them); delete jobs through the ORM.
"""

from __future__ import annotations

from typing import Any

from .models import BulkJob, BulkJobChunk

__all__ = ["lock_before_delete"]


def lock_before_delete(sender: type[BulkJob], instance: BulkJob, using: str, **kwargs: Any) -> None:
    """``pre_delete`` of ``BulkJob``: lock the job's chunk rows, then its row (``SELECT ... FOR UPDATE``), for the
    rest of the deletion."""
    chunks = BulkJobChunk.objects.using(using).filter(job_id=instance.pk).order_by("number")
    list(chunks.select_for_update().values_list("pk", flat=True))
    list(BulkJob.objects.using(using).select_for_update().filter(pk=instance.pk).values_list("pk", flat=True))
