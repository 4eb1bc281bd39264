"""Copy semantics of field values: which values records may share, and how a record gets its own copy.

Old and new records of a write must not share a mutable value (a JSON dict, a list): a before receiver's
in-place edit would change both, or the caller's arguments. Values of immutable types are shared; others
are copied (:func:`own_value`).
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

__all__ = ["holds_immutable_values", "is_immutable", "own_value", "share_equal_values"]


# Values of exactly these types can be shared between records: nothing can change them in place.
_IMMUTABLE: frozenset[type] = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        Decimal,
        uuid.UUID,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
    }
)


# Exactly these field classes read values of those types (or None) from the database.
_IMMUTABLE_FIELDS: frozenset[type] = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.CharField,
        models.TextField,
        models.SlugField,
        models.EmailField,
        models.URLField,
        models.FilePathField,
        models.GenericIPAddressField,
        models.BooleanField,
        models.DecimalField,
        models.FloatField,
        models.DateField,
        models.DateTimeField,
        models.TimeField,
        models.DurationField,
        models.UUIDField,
    }
)


def is_immutable(value: Any) -> bool:
    """Whether ``value`` is of an immutable type, checked by exact type (a subclass may add state):
    None, bool, int, float, str, bytes, Decimal, date/datetime/time/timedelta, UUID, or a tuple/frozenset
    of such."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return True
    return (kind is tuple or kind is frozenset) and all(map(is_immutable, value))


def own_value(value: Any) -> Any:
    """A value a record can own: ``value`` itself when :func:`is_immutable`, else a copy (``copy.deepcopy``;
    a tree of exact ``dict``/``list`` such as a decoded JSON value is copied container by container, its
    immutable leaves shared, several times faster than ``deepcopy``; a ``FieldFile`` is copied shallowly, its
    descriptor points it at the record that reads it). A value ``deepcopy`` refuses is shared, as it is."""
    kind = type(value)
    if kind is dict or kind is list:
        return _copy_tree(value)
    if is_immutable(value):
        return value
    if isinstance(value, FieldFile):
        return copy.copy(value)
    try:
        return copy.deepcopy(value)
    except (TypeError, copy.Error):
        return value


def _copy_tree(value: Any) -> Any:
    """:func:`own_value` of an exact ``dict`` (with keys of immutable types) or ``list``."""
    immutable = _IMMUTABLE
    if type(value) is list:
        return [v if type(v) in immutable else own_value(v) for v in value]
    if all(type(k) in immutable for k in value):
        return {k: v if type(v) in immutable else own_value(v) for k, v in value.items()}
    try:
        return copy.deepcopy(value)
    except (TypeError, copy.Error):
        return value


def holds_immutable_values(field: models.Field[Any, Any]) -> bool:
    """Whether every value ``field`` reads from the database is immutable: Django's own scalar field
    classes (exactly), and foreign keys to them. Their values are shared between old and new records
    without a check."""
    kind = type(field)
    if kind is models.ForeignKey or kind is models.OneToOneField:
        return holds_immutable_values(field.target_field)  # type: ignore[attr-defined]  # a ForeignKey's
    return kind in _IMMUTABLE_FIELDS


_IMMUTABLE_EQUALS = (str, int, bytes)  # equal values of these exact types are interchangeable


def share_equal_values(model: type[models.Model], pairs: Iterable[tuple[Any, Any]]) -> None:
    """For each ``(obj, stored_row)``, point the row's unchanged ``str``/``int``/``bytes`` values at the
    object's equal ones: the old rows then cost their instances, not a second copy of every value
    (a ``Decimal``, float or datetime may be equal and still differ, so those are kept)."""
    attnames = [f.attname for f in model._meta.concrete_fields]
    for obj, row in pairs:
        mine, stored = obj.__dict__, row.__dict__
        for attname in attnames:
            value = stored.get(attname)
            if type(value) in _IMMUTABLE_EQUALS:
                other = mine.get(attname)
                if type(other) is type(value) and other == value:
                    stored[attname] = other
