"""Splitting an upsert (``bulk_create(update_conflicts=True)``) into rows that exist and rows that don't.

One set-based SELECT per chunk of rows: ``WHERE a IN (...) [AND b IN (...)]`` (never an OR per row,
which SQLite rejects past 1000 terms); for composite keys the superset it returns is narrowed in
Python to the exact key tuples.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.db import connections, models
from django.db.models.sql.where import AND

from .keylocks import lock_keys
from .records import chunk_size, chunks, column_in, fetch_rows, share_equal_values

__all__ = ["classify", "forget_known", "rows_known", "split_ignored"]


def _key_fields(model: type[models.Model], unique_fields: Sequence[str]) -> list[models.Field[Any, Any]]:
    opts = model._meta
    return [opts.get_field(opts.pk.name if name == "pk" else name) for name in unique_fields]  # type: ignore[misc]  # unique keys name concrete fields: get_field gives Fields


@dataclass(frozen=True)
class _Known:
    model: type[models.Model]
    using: str
    unique_fields: tuple[str, ...]
    looked_up: Collection[tuple[Any, ...]]
    rows: Sequence[Any]


_KNOWN: ContextVar[_Known | None] = ContextVar("bulk_signals_django_upsert_rows_known", default=None)


@contextmanager
def rows_known(
    model: type[models.Model],
    using: str,
    unique_fields: Sequence[str],
    looked_up: Collection[tuple[Any, ...]],
    rows: Sequence[Any],
) -> Iterator[None]:
    """Within the block, the next upsert (``bulk_create(update_conflicts=True)``) of ``model`` on ``using`` with
    these ``unique_fields`` takes ``rows`` as the stored rows of the keys ``looked_up`` instead of locking and
    selecting them again: for a caller that has just read them itself.

    The caller's promise: in the current transaction it took :func:`~bulk_signals_django.keylocks.lock_keys`
    for every key of ``looked_up`` (values as ``field.to_python`` gives them, in ``unique_fields`` order), then
    read every row holding one of them; ``rows`` are those rows as read (unchanged instances: they become the
    events' ``old_records``). Keys of the upsert outside ``looked_up`` are locked and selected as usual. Used
    once: an upsert inside the block after the first (a receiver's) selects as usual.
    """
    token = _KNOWN.set(_Known(model, using, tuple(unique_fields), looked_up, rows))
    try:
        yield
    finally:
        _KNOWN.reset(token)


def _take_known(model: type[models.Model], using: str, unique_fields: Sequence[str]) -> _Known | None:
    known = _KNOWN.get()
    if known is None or known.model is not model or known.using != using:
        return None
    if known.unique_fields != tuple(unique_fields):
        return None
    _KNOWN.set(None)
    return known


def forget_known(model: type[models.Model]) -> None:
    """Drop a :func:`rows_known` hand-over for ``model``: an upsert that does not classify (no receivers,
    ``bypass_signals``) still is "the next upsert" the hand-over was for."""
    known = _KNOWN.get()
    if known is not None and known.model is model:
        _KNOWN.set(None)


def classify(
    model: type[models.Model], using: str, objs: Sequence[Any], unique_fields: Sequence[str]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Return ``(new_objs, [(obj, existing_row), ...])``, both in the caller's order."""
    fields = _key_fields(model, unique_fields)

    def key_of(obj: Any) -> tuple[Any, ...]:
        return tuple(field.to_python(getattr(obj, field.attname)) for field in fields)

    keys = [key_of(obj) for obj in objs]
    # Rows come from the database already converted: their key needs no to_python().
    stored_key = attrgetter(*(field.attname for field in fields))
    single = len(fields) == 1
    existing: dict[tuple[Any, ...], Any] = {}
    wanted_keys = keys
    known = _take_known(model, using, unique_fields)
    if known is not None:  # the caller read these keys' rows under their lock (rows_known)
        for row in known.rows:
            existing[(stored_key(row),) if single else stored_key(row)] = row
        wanted_keys = [key for key in keys if key not in known.looked_up]
    if not wanted_keys:
        return _split(model, objs, keys, existing)
    # Classified under the keys' lock: a concurrent upsert of one of them waits for this transaction.
    lock_keys(model, using, [(fields, wanted_keys)])
    manager = model._base_manager.db_manager(using)
    connection = connections[using]
    for chunk in chunks(wanted_keys):
        wanted = set(chunk)
        rows = manager.all()
        for i, field in enumerate(fields):
            rows.query.where.add(column_in(model, field, connection, {key[i] for key in wanted}), AND)
        for row in fetch_rows(rows):
            row_key = (stored_key(row),) if single else stored_key(row)
            if row_key in wanted:
                existing[row_key] = row
    return _split(model, objs, keys, existing)


def _split(
    model: type[models.Model], objs: Sequence[Any], keys: list[tuple[Any, ...]], existing: dict[tuple[Any, ...], Any]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    new_objs: list[Any] = []
    matched: list[tuple[Any, Any]] = []
    for obj, key in zip(objs, keys, strict=True):
        row = existing.get(key)
        if row is None:
            new_objs.append(obj)
        else:
            matched.append((obj, row))
    share_equal_values(model, matched)
    return new_objs, matched


def _unique_keys(model: type[models.Model]) -> list[list[models.Field[Any, Any]]]:
    """The column sets a plain ``INSERT ... ON CONFLICT DO NOTHING`` can conflict on: the primary key,
    ``unique=True`` fields, ``unique_together`` and unconditional field-only ``UniqueConstraint``\\ s."""
    opts = model._meta
    keys: list[list[models.Field[Any, Any]]] = [[opts.pk]]
    keys += [[f] for f in opts.local_concrete_fields if f.unique and not f.primary_key]
    names = [list(together) for together in opts.unique_together]
    names += [
        list(c.fields)
        for c in opts.total_unique_constraints  # unconditional ones only
        if c.fields and not getattr(c, "expressions", ())
    ]
    keys += [[opts.get_field(name) for name in group] for group in names]  # type: ignore[misc]  # unique keys name concrete fields: get_field gives Fields
    return list({tuple(k): k for k in keys}.values())


def split_ignored(model: type[models.Model], using: str, objs: Sequence[Any]) -> list[Any]:
    """The ``objs`` a ``bulk_create(ignore_conflicts=True)`` inserts, in the caller's order: not those whose
    key (any unique column set) exists, nor those repeating a key of an earlier object (the database keeps
    the first). One SELECT per chunk of objects, none when no object carries a key value."""
    keys = _unique_keys(model)

    def values_of(obj: Any) -> list[tuple[Any, ...] | None]:
        # None: a NULL in the key never conflicts (or the key is unset, like a pk to be generated).
        found: list[tuple[Any, ...] | None] = []
        for fields in keys:
            value = tuple(field.to_python(getattr(obj, field.attname)) for field in fields)
            found.append(None if any(v is None for v in value) else value)
        return found

    per_obj = [values_of(obj) for obj in objs]
    lock_keys(
        model, using, [(fields, [key for v in per_obj if (key := v[i]) is not None]) for i, fields in enumerate(keys)]
    )
    taken: list[set[tuple[Any, ...]]] = [set() for _ in keys]
    manager = model._base_manager.db_manager(using)
    width = sum(len(fields) for fields in keys)
    size = max(1, chunk_size() // width)
    for start in range(0, len(objs), size):
        chunk = per_obj[start : start + size]
        where = models.Q()
        for i, fields in enumerate(keys):
            wanted = [key for v in chunk if (key := v[i]) is not None]
            if wanted:
                where |= models.Q(**{f"{f.attname}__in": {w[j] for w in wanted} for j, f in enumerate(fields)})
        if not where:
            continue
        for row in manager.filter(where):
            for i, value in enumerate(values_of(row)):
                if value is not None:
                    taken[i].add(value)
    inserted: list[Any] = []
    for obj, values in zip(objs, per_obj, strict=True):
        if any(v is not None and v in taken[i] for i, v in enumerate(values)):
            continue
        for i, v in enumerate(values):
            if v is not None:
                taken[i].add(v)
        inserted.append(obj)
    return inserted
