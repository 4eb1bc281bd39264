"""Splitting an upsert (``bulk_create(update_conflicts=True)``) into rows that exist and rows that don't.

One set-based SELECT per chunk of rows: ``WHERE a IN (...) [AND b IN (...)]`` (never an OR per row,
which SQLite rejects past 1000 terms); for composite keys the superset it returns is narrowed in
Python to the exact key tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from .records import chunks

__all__ = ["classify"]


def _key_fields(model: type[models.Model], unique_fields: Sequence[str]) -> list[models.Field[Any, Any]]:
    opts = model._meta
    return [opts.get_field(opts.pk.name if name == "pk" else name) for name in unique_fields]  # type: ignore[misc]


def classify(
    model: type[models.Model], using: str, objs: Sequence[Any], unique_fields: Sequence[str]
) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Return ``(new_objs, [(obj, existing_row), ...])``, both in the caller's order."""
    fields = _key_fields(model, unique_fields)

    def key_of(obj: Any) -> tuple[Any, ...]:
        return tuple(field.to_python(getattr(obj, field.attname)) for field in fields)

    keys = [key_of(obj) for obj in objs]
    existing: dict[tuple[Any, ...], Any] = {}
    manager = model._base_manager.db_manager(using)
    for chunk in chunks(keys):
        wanted = set(chunk)
        lookup = {f"{field.attname}__in": {key[i] for key in wanted} for i, field in enumerate(fields)}
        for row in manager.filter(**lookup):
            row_key = key_of(row)
            if row_key in wanted:
                existing[row_key] = row
    new_objs: list[Any] = []
    matched: list[tuple[Any, Any]] = []
    for obj, key in zip(objs, keys, strict=True):
        row = existing.get(key)
        if row is None:
            new_objs.append(obj)
        else:
            matched.append((obj, row))
    return new_objs, matched
