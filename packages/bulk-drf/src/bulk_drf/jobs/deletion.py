"""Deleting a job deletes every row that belongs to it, including the ones written while it was being deleted.

A job writes one result row per record (``BulkJobResult``), and a foreign key costs one check per row at commit:
about 6 µs a record, 5% of an insert chunk (docs/jobs.md, "Storage"), so result rows have no database foreign key
to their job. Django's ``on_delete=CASCADE`` still deletes a job's rows with it (the ORM's ``delete()``, the
admin's, a deleted owner's): it deletes the job's data chunks, chunks, results, export pages and dry-run claims,
then the job row. A writer (a chunk, an export page, an upload) that commits between the two left rows behind:
result rows without a job, or, for the tables that keep their deferred foreign key, a deletion failing at commit
(``IntegrityError``). Two rules close that gap:

- every writer locks the job row before it commits (a chunk in ``fanout.commit_chunk``, an export page with its
  counters' UPDATE, an upload with the job's) and rolls back when the job is gone;
- once the deletion has deleted the job row (waiting for a writer that holds it to commit), it deletes the job's
  rows of every related table once more (``delete_late_rows``, a ``post_delete`` receiver in the deletion's
  transaction): the rows a writer committed after Django deleted that table's. Usually each DELETE finds nothing.

The deletion takes no lock earlier than Django does, so it adds no lock-order conflict with chunks, the reaper or
the results purge (which deletes in Django's order). A job deleted with raw SQL leaves its results behind; delete
jobs through the ORM.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.signals import post_delete

from .models import BulkJob

__all__ = ["connect", "delete_late_rows"]


def delete_late_rows(sender: type[BulkJob], instance: BulkJob, using: str, **kwargs: Any) -> None:
    """``post_delete`` of ``BulkJob`` (and its proxies): delete what still points at the deleted job, table by table."""
    for relation in BulkJob._meta.related_objects:
        related = relation.related_model
        if relation.on_delete is models.CASCADE and isinstance(related, type):  # foreign keys (not many-to-many)
            related._base_manager.using(using).filter(**{relation.field.attname: instance.pk}).delete()


def connect() -> None:
    """Connect ``delete_late_rows`` for ``BulkJob`` and every proxy of it (Django sends ``post_delete`` with the class
    deleted through as the sender); called from the app's ``ready()``, once every model is loaded."""
    for model in apps.get_models():
        if model._meta.concrete_model is BulkJob:
            post_delete.connect(
                delete_late_rows, sender=model, dispatch_uid=f"bulk_drf.delete_late_rows.{model._meta.label}"
            )
