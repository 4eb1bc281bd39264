"""Dry runs: an ingest job (insert, update, upsert, delete) with ``dry_run`` validates every record and writes none.

Each chunk runs ``execute_batch(..., dry_run=True)``: the serializer's whole validation, uniqueness against the
table and within the chunk (one query), object permissions, and for a delete the foreign keys that protect a
row; no INSERT, UPDATE or DELETE reaches the target table, so no write hook or receiver runs. Its results are
stored as a real job's are (``succeeded``: would be written, a new row with an empty ``pk``; ``failed``: the
same errors), in the same format.

A real job's later chunks see what its earlier chunks wrote; a dry run's do not, since nothing is written. So
each chunk also notes, per record that would succeed, which row it would give which value of each unique key
(``BulkJobKeyClaim``: a digest of the value as the database stores it), in the chunk's own transaction.
``finish`` (run once, when every chunk is done) replays those notes in record order, as a real job meets the
records: a record whose value another, earlier record gives a different row fails with the error the real job
would give it (the table's uniqueness message; ``Not found.`` for a row an earlier record deletes); an upsert
record whose key an earlier record would create becomes an update (``created`` false). The notes hold no data,
only digests, and are deleted by ``finish``. Chunks may run in any order (or in parallel): only the record
order decides.

What a dry run cannot see: a database constraint no serializer checks (a ``CHECK``, an expression index), a
value a concurrent writer takes before the real job runs, and a record whose outcome depends on a value an
earlier record of the same job frees (an update moving a key away); the real job reports those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Count, F

from ..sync import operations
from ..sync.validation import NON_FIELD_ERRORS, UniqueKey, field_error, key_error, unique_keys
from .models import BulkJob, BulkJobKeyClaim, BulkJobResult
from .states import JobOperation, ResultKind

__all__ = ["finish", "validate_chunk"]

_DELETED = "pk"  # the "key" a delete claims: the row itself


def validate_chunk(
    job: BulkJob, viewset: Any, items: list[Any], offset: int
) -> tuple[list[operations.ItemSuccess], list[operations.ItemError]]:
    """Validate one chunk of a dry-run job without writing, and note its records' claims (same transaction)."""
    batch = operations.execute_batch(
        viewset,
        job.operation,  # type: ignore[arg-type]
        items,
        unique_fields=list(job.unique_fields) or None,
        partial=job.partial,
        all_or_nothing=False,
        index_offset=offset,
        dry_run=True,
    )
    if batch.succeeded:
        BulkJobKeyClaim.objects.bulk_create(_claims(job, batch), batch_size=1000)
    return batch.succeeded, batch.failed


def _claims(job: BulkJob, batch: operations.BatchResult) -> list[BulkJobKeyClaim]:
    model = type(batch.instances[0])
    connection = connections[router.db_for_write(model)]
    if job.operation == JobOperation.DELETE:
        pk_field = model._meta.pk
        return [
            BulkJobKeyClaim(
                job_id=job.pk,
                index=s.index,
                key=_DELETED,
                value=_digest([pk_field], obj, connection),
                row=f"del:{s.index}",
            )
            for s, obj in zip(batch.succeeded, batch.instances, strict=True)
        ]
    keys = unique_keys(model)
    upsert_key = _key_named(keys, job.unique_fields) if job.operation == JobOperation.UPSERT else None
    claims = []
    for success, obj in zip(batch.succeeded, batch.instances, strict=True):
        if job.operation == JobOperation.INSERT:
            row = f"new:{success.index}"
        elif success.created and upsert_key is not None:
            row = f"new:{_digest(upsert_key.fields, obj, connection)}"  # the row its key would create
        else:
            row = f"pk:{success.pk}"
        for key in keys:
            if key.value(obj) is None or (key.condition is not None and not key.applies(obj)):
                continue
            claims.append(
                BulkJobKeyClaim(
                    job_id=job.pk,
                    index=success.index,
                    key=",".join(key.names),
                    value=_digest(key.fields, obj, connection),
                    row=row,
                )
            )
    return claims


def _key_named(keys: list[UniqueKey], names: Sequence[str]) -> UniqueKey | None:
    wanted = set(names)
    return next((key for key in keys if set(key.names) == wanted and key.condition is None), None)


def _digest(fields: Sequence[Any], obj: Any, connection: Any) -> str:
    parts = []
    for field in fields:
        value = field.get_db_prep_save(getattr(obj, field.attname), connection)
        if isinstance(value, Decimal):
            value = value.normalize()  # 1.5 and 1.50 are one value to the database
        parts.append(f"{type(value).__name__}:{value}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def finish(job: BulkJob, viewset: Any) -> int:
    """Settle a dry run's claims once every chunk is done (see the module); returns the records it failed.

    One transaction: the results, the counters and the deletion of the claims commit together, so a rerun
    after a crash finds either everything settled (no claims left) or nothing.
    """
    with transaction.atomic():
        BulkJob.objects.select_for_update().filter(pk=job.pk).values_list("pk").first()
        claims = BulkJobKeyClaim.objects.filter(job_id=job.pk)
        shared = list(claims.values("key", "value").annotate(n=Count("id")).filter(n__gt=1).values_list("key", "value"))
        failed: dict[int, dict[str, Any]] = {}
        updated: set[int] = set()
        if shared:
            failed, updated = _settle(job, viewset, claims, set(shared))
        if failed or updated:
            _apply(job, failed, updated)
        claims.delete()
    return len(failed)


def _settle(
    job: BulkJob, viewset: Any, claims: Any, shared: set[tuple[str, str]]
) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """Replay the claims on shared values in record order: who fails, which upserts become updates."""
    rows = [
        c
        for c in claims.filter(key__in={k for k, _ in shared}, value__in={v for _, v in shared})
        .order_by("index", "id")
        .values_list("index", "key", "value", "row")
        if (c[1], c[2]) in shared
    ]
    model = viewset.get_queryset().model
    keys = {",".join(key.names): key for key in unique_keys(model)}
    fields = viewset.get_serializer().fields
    id_key = getattr(viewset, "bulk_id_field", None) or model._meta.pk.name
    owner: dict[tuple[str, str], str] = {}
    created: set[str] = set()
    failed: dict[int, dict[str, Any]] = {}
    updated: set[int] = set()
    for index, record in groupby(rows, key=lambda c: c[0]):
        mine = list(record)
        clashes = [key for _, key, value, row in mine if owner.get((key, value), row) != row]
        if clashes:
            errors: dict[str, Any] = {}
            for name in dict.fromkeys(clashes):
                if name == _DELETED:
                    error = {id_key: field_error("Not found.", "not_found")}
                elif name in keys:
                    error = key_error(model, keys[name], fields, "")
                else:
                    error = {NON_FIELD_ERRORS: field_error(f"Another record of this job takes this {name}.", "unique")}
                for field, messages in error.items():
                    errors.setdefault(field, []).extend(messages)
            failed[index] = errors
            continue
        for _, key, value, row in mine:
            owner.setdefault((key, value), row)
        row = mine[0][3]
        if row.startswith("new:") and job.operation == JobOperation.UPSERT:
            if row in created:
                updated.add(index)  # an earlier record creates the row this one would then update
            created.add(row)
    return failed, updated


def _apply(job: BulkJob, failed: dict[int, dict[str, Any]], updated: set[int]) -> None:
    results = list(BulkJobResult.objects.filter(job_id=job.pk, index__in=[*failed, *updated]))
    for result in results:
        if result.index in failed:
            result.kind, result.errors = str(ResultKind.FAILED), failed[result.index]
            result.object_pk, result.created = "", False
        else:
            result.created = False
    BulkJobResult.objects.bulk_update(results, ["kind", "errors", "object_pk", "created"], batch_size=1000)
    newly_failed = sum(1 for r in results if r.index in failed)
    BulkJob.objects.filter(pk=job.pk).update(
        succeeded_records=F("succeeded_records") - newly_failed, failed_records=F("failed_records") + newly_failed
    )
    job.succeeded_records -= newly_failed
    job.failed_records += newly_failed
