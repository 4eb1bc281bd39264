"""Change detection: which writable fields differ between new records and old rows (or stored values)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from django.db import models

__all__ = ["changed_against", "changed_by_receivers", "changed_fields", "pk_is_set", "writable_fields"]


_WRITABLE: dict[type, tuple[models.Field[Any, Any], ...]] = {}


def pk_is_set(obj: Any) -> bool:
    """Whether ``obj`` has a primary key value (Django 4.2 has no ``Model._is_pk_set``)."""
    return obj.pk is not None


def writable_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """Concrete, non-generated fields an UPDATE can write: every table's, except primary keys and parent links."""
    fields = _WRITABLE.get(model)
    if fields is None:
        opts = model._meta
        pks = {opts.pk} | {parent._meta.pk for parent in opts.get_parent_list()}
        fields = tuple(
            f
            for f in opts.concrete_fields
            if f not in pks and not getattr(f, "generated", False) and not getattr(f, "primary_key", False)
        )
        _WRITABLE[model] = fields
    return fields


def changed_fields(model: type[models.Model], pairs: Iterable[tuple[Any, Any]]) -> list[str]:
    """Names of the writable fields whose value differs in at least one ``(new, old)`` pair, in model order."""
    remaining = list(writable_fields(model))
    changed: set[str] = set()
    for new, old in pairs:
        if not remaining:
            break
        loaded = new.__dict__
        for field in list(remaining):
            attname = field.attname
            if attname in loaded and loaded[attname] != getattr(old, attname):
                changed.add(field.name)
                remaining.remove(field)
    return [f.name for f in writable_fields(model) if f.name in changed]


def changed_against(model: type[models.Model], pairs: Iterable[tuple[Any, tuple[Any, ...]]]) -> list[str]:
    """Names of the writable fields (model order) whose loaded value on an object differs from the
    stored one in at least one ``(obj, stored_values(...)[pk])`` pair."""
    fields = writable_fields(model)
    remaining = list(enumerate(f.attname for f in fields))
    changed: set[int] = set()
    for obj, values in pairs:
        if not remaining:
            break
        loaded = obj.__dict__
        for index, attname in list(remaining):
            if attname in loaded and loaded[attname] != values[index]:
                changed.add(index)
                remaining.remove((index, attname))
    return [f.name for i, f in enumerate(fields) if i in changed]


def changed_by_receivers(
    model: type[models.Model],
    new: Sequence[Any],
    old: Sequence[Any],
    update_attnames: Sequence[str],
    snapshot: Sequence[Any],
    built: bool = False,
) -> list[str]:
    """The writable fields a before receiver changed on the ``new`` records of a ``QuerySet.update()``:
    the updated fields against ``snapshot`` (their pending values, taken before the receivers), every
    other field against the old row (the new record started as its copy). In model order.

    ``built``: the records come from :func:`record_loop` (whole rows, plain field descriptors), so their
    values are read as attributes, which leaves their compact storage as it is."""
    fields = writable_fields(model)
    updated = set(update_attnames)
    first = vars(old[0]) if old else {}
    others = [f.attname for f in fields if f.attname not in updated and f.attname in first]
    deferred = [f.attname for f in fields if f.attname not in updated and f.attname not in first]
    if built:
        pending: Callable[[Any], Any] = attrgetter(*update_attnames)
        stored: Callable[[Any], Any] | None = attrgetter(*others) if others else None
    else:
        values_of = itemgetter(*update_attnames)
        pending = lambda record: values_of(record.__dict__)  # noqa: E731
        stored_of = itemgetter(*others) if others else None
        stored = (lambda record: stored_of(record.__dict__)) if stored_of is not None else None
    changed: set[str] = set()
    for record, row, before in zip(new, old, snapshot, strict=True):
        if pending(record) != before:
            data = vars(record)
            values_before = before if len(update_attnames) > 1 else (before,)
            changed.update(a for a, b in zip(update_attnames, values_before, strict=True) if data[a] != b)
        if stored is not None and stored(record) != stored(row):
            data, values = vars(record), vars(row)
            changed.update(a for a in others if data[a] != values[a])
        if deferred:
            changed.update(a for a in deferred if a in vars(record))
    return [f.name for f in fields if f.attname in changed]
