"""Serialising concurrent upserts of the same keys, so that "created" is what the database did.

An upsert (``bulk_create(update_conflicts=True)``) tells create from update with a SELECT of the keys
that exist, before the write: before receivers must know. Two transactions upserting the same new key
both saw it absent and both reported a create; the database's ``ON CONFLICT`` then turned the second
INSERT into an UPDATE, and ``after_create`` ran twice for one row. So before that SELECT, an upsert
takes :func:`lock_keys`, held to the end of its transaction, that any concurrent upsert of one of the
same keys waits for; the SELECT that follows then sees what the other transaction committed.

- PostgreSQL: transaction-scoped advisory locks (``pg_advisory_xact_lock``), one per *bucket* of keys:
  a 64-bit hash of the table and bucket, the bucket being a hash of the key modulo :data:`BUCKETS`.
  Bucketing bounds the locks one upsert holds (PostgreSQL's shared lock table is small) at the price
  of sometimes serialising two upserts of different keys. Taken in sorted order: two upserts never
  deadlock on them. The SELECT after runs in a new READ COMMITTED snapshot.
- SQLite: the database write lock, taken by a write statement that changes nothing. SQLite has one
  writer; taking it before the SELECT makes the SELECT see the previous writer's rows (where it used
  to fail with "database is locked" or read a stale snapshot).
- Other backends: nothing.

What it does not cover: a concurrent writer that does not take the lock (raw SQL, a plain Django
``bulk_create`` of a model without a ``BulkSignalQuerySet`` manager) inserting one of the keys between
our SELECT and our INSERT. docs/django.md says so.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, models

from .queries import _PLAIN_TYPES

__all__ = ["BUCKETS", "lock_ids", "lock_keys"]

BUCKETS = 256
"""Most advisory locks one upsert takes on PostgreSQL (per table)."""


def _hash64(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(
    model: type[models.Model], using: str, groups: Iterable[tuple[Sequence[Any], Iterable[Sequence[Any]]]]
) -> None:
    """Block until no other transaction holds the lock of any key of ``groups`` (pairs of unique fields and
    the values of those fields to be written), then hold them to the end of this transaction: one statement.
    Call inside a transaction, before reading which keys exist."""
    connection = connections[using]
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        locks = lock_ids(model, groups)
        if locks:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [locks])
    elif connection.vendor == "sqlite":
        pk = connection.ops.quote_name(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {connection.ops.quote_name(table)} SET {pk} = {pk} WHERE 0 = 1")


def _prepared(field: Any, value: Any) -> str:
    return str(field.get_prep_value(field.to_python(value)))


def lock_ids(model: type[models.Model], groups: Iterable[tuple[Sequence[Any], Iterable[Sequence[Any]]]]) -> list[int]:
    """The sorted PostgreSQL advisory lock ids of ``groups``' keys: one per bucket of keys and unique field set."""
    table = model._meta.db_table
    locks: set[int] = set()
    for fields, keys in groups:
        names = ",".join(f.column for f in fields)
        # The database's form of each value: "5" and 5 name the same key of an integer column. A bucket is
        # a CRC of it (stable across processes, unlike hash()); only the lock ids need the 64-bit hash.
        plain = [_PLAIN_TYPES.get(type(f)) for f in fields]
        buckets = {
            zlib.crc32(
                repr(
                    [str(v) if type(v) is t else _prepared(f, v) for f, t, v in zip(fields, plain, key, strict=True)]
                ).encode("utf-8", "surrogatepass")
            )
            % BUCKETS
            for key in keys
        }
        locks.update(_hash64(f"{table}({names})#{bucket}") for bucket in buckets)
    return sorted(locks)
