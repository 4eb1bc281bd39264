"""Batched validation: the uniqueness of a batch checked with one query, and the per-item error shapes.

A ``ModelSerializer`` validating 1000 items runs a ``UniqueValidator`` SELECT per unique field, for every item.
``shortcuts.prepare_serializer`` (re-exported here) removes those validators, and ``find_unique_conflicts``
checks every unique key of the model (``unique=True``, ``unique_together``, ``UniqueConstraint``) for the whole
batch in one query, and within the batch itself. A conditional ``UniqueConstraint`` (``condition=Q(...)``)
is checked the same way when its condition is made of plain field lookups (``exact``, ``in``, ``isnull``,
combined with ``&``, ``|``, ``~``): the items are tested in Python, the stored rows by the database in the
same query. The other per-item shortcuts (validators, relations, the field loop) are in ``shortcuts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from bulk_signals_django.queries import column_in
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, models
from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.sql.where import AND
from django.utils.text import capfirst
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField
from rest_framework.settings import api_settings
from rest_framework.validators import UniqueTogetherValidator

from .exceptions import NestedWritesNotSupported
from .shortcuts import prepare_serializer, use_plain_views

__all__ = [
    "UniqueKey",
    "error_details",
    "filter_by_key",
    "find_unique_conflicts",
    "key_error",
    "key_matching",
    "prepare_serializer",
    "refuse_nested_writes",
    "unique_keys",
    "use_plain_views",
]

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


def error_details(detail: Any) -> Any:
    """DRF error detail (``ErrorDetail`` strings in dicts and lists) as ``{"message", "code"}`` dicts."""
    if isinstance(detail, dict):
        return {str(key): error_details(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [error_details(value) for value in detail]
    return {"message": str(detail), "code": getattr(detail, "code", None) or "invalid"}


def field_error(message: str, code: str) -> list[dict[str, str]]:
    """One error for one field, in the per-item error shape."""
    return [{"message": message, "code": code}]


def refuse_nested_writes(serializer: serializers.Serializer[Any], items: Sequence[Any]) -> None:
    """Raise ``NestedWritesNotSupported`` if ``serializer`` would write nested objects or many-to-many rows.

    Writable nested serializers are refused outright (their ``create()`` logic cannot run in bulk);
    writable many-to-many fields only when an item actually sends them.
    """
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.BaseSerializer):
            raise NestedWritesNotSupported(
                f"Bulk writes do not support the nested serializer field '{name}'. "
                "Send such items one by one to the single-object endpoint, or make the field read-only."
            )
        if isinstance(field, ManyRelatedField) and any(isinstance(item, dict) and name in item for item in items):
            raise NestedWritesNotSupported(
                f"Bulk writes do not support the many-to-many field '{name}'. "
                "Leave it out of bulk items and set it through the single-object endpoint."
            )


@dataclass(frozen=True)
class UniqueKey:
    """A set of model fields whose values must be unique together (one field for ``unique=True``).

    ``condition`` is a conditional ``UniqueConstraint``'s ``Q``: the key binds only the rows matching
    it, and ``applies(obj)`` tells whether an instance's values match it.
    """

    fields: tuple[models.Field[Any, Any], ...]
    condition: Q | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def value(self, obj: models.Model) -> tuple[Any, ...] | None:
        """The key's value for ``obj``; ``None`` when a part is NULL (NULLs never collide in SQL)."""
        if len(self.fields) == 1:  # the common case, without the generic tuple building
            part = getattr(obj, self.fields[0].attname)
            return None if part is None else (part,)
        value = tuple(getattr(obj, f.attname) for f in self.fields)
        return None if any(part is None for part in value) else value

    def involves(self, names: set[str]) -> bool:
        """Whether writing the fields ``names`` can make a row clash on this key (its fields, or its condition's)."""
        if names.intersection(self.names):
            return True
        return self.condition is not None and bool(names.intersection(_condition_fields(self.condition)))

    def applies(self, obj: models.Model) -> bool:
        """Whether the key binds ``obj`` (always, unless its condition does not match obj's values)."""
        test = self._test
        return test is None or test(obj)

    @cached_property
    def _test(self) -> Callable[[Any], bool] | None:
        # Compiled once per key: applies() runs for every item of a batch.
        if self.condition is None:
            return None
        return _condition_test(self.fields[0].model, self.condition)


def unique_keys(model: type[models.Model], *, conditional: bool = True) -> list[UniqueKey]:
    """Every unique key of ``model`` except its primary key, each once.

    With ``conditional``, also the conditional ``UniqueConstraint``s whose condition can be tested on an
    instance (plain field lookups); other conditions, and expression constraints, are left to the
    database. An upsert matches rows only on unconditional keys (``conditional=False``).
    """
    opts = model._meta
    names: list[tuple[str, ...]] = [(f.name,) for f in opts.concrete_fields if f.unique and not f.primary_key]
    names += [tuple(fields) for fields in opts.unique_together]
    names += [tuple(c.fields) for c in opts.total_unique_constraints]
    keys: dict[Any, UniqueKey] = {}
    for key in names:
        keys.setdefault(frozenset(key), UniqueKey(tuple(opts.get_field(name) for name in key)))  # type: ignore[misc]  # concrete fields
    if conditional:
        for constraint in opts.constraints:
            if (
                isinstance(constraint, models.UniqueConstraint)
                and constraint.condition is not None
                and constraint.fields
                and not constraint.expressions
                and _condition_test(model, constraint.condition) is not None
            ):
                fields = tuple(opts.get_field(name) for name in constraint.fields)  # concrete fields
                condition = constraint.condition
                keys.setdefault((frozenset(constraint.fields), condition), UniqueKey(fields, condition))  # type: ignore[arg-type]  # see above
    return list(keys.values())


_CONDITION_TESTS: dict[tuple[type, Q], Callable[[Any], bool] | None] = {}


def _condition_test(model: type[models.Model], condition: Q) -> Callable[[Any], bool] | None:
    """``test(obj) -> bool``: ``condition`` evaluated on an instance's values, or ``None`` when it holds a
    lookup other than ``exact``/``in``/``isnull`` on a concrete field of ``model``, or an expression."""
    try:
        return _CONDITION_TESTS[(model, condition)]
    except KeyError:
        test = _CONDITION_TESTS[(model, condition)] = _compile_condition(model, condition)
        return test


def _compile_condition(model: type[models.Model], q: Q) -> Callable[[Any], bool] | None:
    if q.connector not in (Q.AND, Q.OR):  # XOR
        return None
    tests: list[Callable[[Any], bool]] = []
    for child in q.children:
        test = _compile_condition(model, child) if isinstance(child, Q) else _lookup_test(model, *child)  # type: ignore[misc]  # a leaf: (lookup, value)
        if test is None:
            return None
        tests.append(test)
    combine = all if q.connector == Q.AND else any
    negated = q.negated

    def evaluate(obj: Any) -> bool:
        # Django guards negated lookups on nullable columns (``IS NOT NULL``), so SQL agrees with Python here.
        return combine(test(obj) for test in tests) is not negated

    return evaluate


def _lookup_test(model: type[models.Model], lookup: str, value: Any) -> Callable[[Any], bool] | None:
    name, _, operator = lookup.partition("__")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or field.many_to_many or operator not in ("", "exact", "in", "isnull"):
        return None
    attname = field.attname  # type: ignore[union-attr]  # concrete: a model Field
    target: Any = getattr(field, "target_field", field)  # the field, or the one a foreign key points at

    def python(v: Any) -> Any:
        if hasattr(v, "resolve_expression"):
            raise TypeError("an expression")
        return target.to_python(v.pk if isinstance(v, models.Model) else v)

    try:
        if operator == "isnull" or (operator in ("", "exact") and value is None):
            is_null = True if operator != "isnull" else bool(value)
            return lambda obj: (getattr(obj, attname) is None) is is_null
        if operator == "in":
            choices = [python(v) for v in value]
            return lambda obj: getattr(obj, attname) in choices
        expected = python(value)
    except (TypeError, ValueError, DjangoValidationError):
        return None
    return lambda obj: getattr(obj, attname) == expected


def _condition_fields(q: Q) -> set[str]:
    names: set[str] = set()
    for child in q.children:
        names |= _condition_fields(child) if isinstance(child, Q) else {child[0].split("__", 1)[0]}  # type: ignore[index]  # a leaf: (lookup, value)
    return names


def key_matching(key: UniqueKey, values: Iterable[tuple[Any, ...]]) -> Q:
    """A filter matching (a superset of) the rows whose ``key`` takes one of ``values``.

    A multi-field key is filtered field by field (``a IN (...) AND b IN (...)``), exact matches are
    picked in Python: portable, and no OR chain SQLite's expression depth limit would refuse.
    """
    values = list(values)
    return Q(**{f"{field.attname}__in": {v[i] for v in values} for i, field in enumerate(key.fields)})


_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def filter_by_key(
    queryset: models.QuerySet[Any], key: UniqueKey, values: Iterable[tuple[Any, ...]]
) -> models.QuerySet[Any]:
    """``queryset.filter(key_matching(key, values))``, with a one-field key of the model's own table as one
    ``= ANY(%s)`` array parameter on PostgreSQL (bulk-signals-django's ``column_in``): Django's ``__in`` builds,
    prepares and binds a placeholder per value, about 10 µs each for a thousand-value batch. The same rows."""
    field = key.fields[0]
    model = queryset.model
    values = list(values)
    wanted = {value[0] for value in values}
    if (
        len(key.fields) > 1
        or field.model._meta.db_table != model._meta.db_table  # a parent table's column (multi-table)
        or any(type(v) is int and not _BIGINT_MIN <= v <= _BIGINT_MAX for v in wanted)  # the array is bigint[]
    ):
        return queryset.filter(key_matching(key, values))
    narrowed = queryset.all()
    narrowed.query.where.add(column_in(model, field, connections[narrowed.db], wanted), AND)
    return narrowed


def find_unique_conflicts(
    model: type[models.Model],
    candidates: Sequence[tuple[int, models.Model]],
    keys: Sequence[UniqueKey],
    serializer_fields: Mapping[str, Any],
    index_offset: int = 0,
) -> dict[int, dict[str, Any]]:
    """Check ``keys`` for ``candidates`` (``(index, instance)`` pairs) with one query.

    A candidate conflicts with a stored row (other than itself) or with an earlier candidate. Returns
    per-item errors in DRF's shapes: a one-field key on that field, a multi-field key under
    ``non_field_errors``.
    """
    if not keys or not candidates:
        return {}
    errors: dict[int, dict[str, Any]] = {}
    pk_attname = model._meta.pk.attname
    # Per key: each candidate's (index, pk, value), computed once (the stored-row pass below reuses them),
    # and the first candidate holding each value.
    per_key: list[tuple[UniqueKey, list[tuple[int, Any, tuple[Any, ...]]], dict[tuple[Any, ...], int]]] = []
    for key in keys:
        entries: list[tuple[int, Any, tuple[Any, ...]]] = []
        seen: dict[tuple[Any, ...], int] = {}
        single = key.fields[0].attname if len(key.fields) == 1 else None
        for index, obj in candidates:
            if single is not None:  # key.value(obj), inlined for the common one-field key
                part = getattr(obj, single)
                value = None if part is None else (part,)
            else:
                value = key.value(obj)
            if value is None or (key.condition is not None and not key.applies(obj)):
                continue
            entries.append((index, getattr(obj, pk_attname), value))
            first = seen.setdefault(value, index)
            if first != index:
                where = f" (item {index_offset + first} of this request)"
                _add(errors, index, key_error(model, key, serializer_fields, where))
        per_key.append((key, entries, seen))
    attnames = sorted({f.attname for key in keys for f in key.fields})
    pk_name = model._meta.pk.attname
    with_values = [(key, values) for key, _, values in per_key if values]
    if len(with_values) == 1 and with_values[0][0].condition is None:  # the common case: one key to look up
        key, values = with_values[0]
        found = filter_by_key(model._base_manager.all(), key, values)
        return _stored_conflicts(model, per_key, list(found.values(pk_name, *attnames)), serializer_fields, errors)
    query = Q()
    flags: dict[str, Case] = {}  # per conditional key: does a stored row match its condition
    for n, (key, _, values) in enumerate(per_key):
        if values:
            matching = key_matching(key, values)
            if key.condition is not None:
                matching &= key.condition
                flags[f"_bulk_drf_key{n}"] = Case(
                    When(key.condition, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
            query |= matching
    if not query:
        return errors
    rows = list(model._base_manager.filter(query).values(pk_name, *attnames, **flags))
    return _stored_conflicts(model, per_key, rows, serializer_fields, errors)


def _stored_conflicts(
    model: type[models.Model],
    per_key: list[tuple[UniqueKey, list[tuple[int, Any, tuple[Any, ...]]], dict[tuple[Any, ...], int]]],
    rows: list[dict[str, Any]],
    serializer_fields: Mapping[str, Any],
    errors: dict[int, dict[str, Any]],
) -> dict[int, dict[str, Any]]:
    """``errors`` plus a clash for each candidate whose key value a stored row (another one) holds."""
    pk_name = model._meta.pk.attname
    for n, (key, entries, _) in enumerate(per_key):
        flag = f"_bulk_drf_key{n}" if key.condition is not None else None
        stored = {tuple(row[f.attname] for f in key.fields): row[pk_name] for row in rows if flag is None or row[flag]}
        if not stored:
            continue
        for index, pk, value in entries:
            owner = stored.get(value)
            if owner is not None and owner != pk:
                _add(errors, index, key_error(model, key, serializer_fields, ""))
    return errors


def _add(errors: dict[int, dict[str, Any]], index: int, error: dict[str, Any]) -> None:
    item = errors.setdefault(index, {})
    for name, messages in error.items():
        item.setdefault(name, []).extend(messages)


def key_error(
    model: type[models.Model], key: UniqueKey, serializer_fields: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """DRF's own uniqueness messages, naming where the clash is."""
    by_source = {getattr(f, "source", name): name for name, f in serializer_fields.items()}
    if len(key.fields) == 1:
        field = key.fields[0]
        message = field.error_messages["unique"] % {
            "model_name": capfirst(model._meta.verbose_name),
            "field_label": field.verbose_name,
        }
        return {by_source.get(field.name, field.name): field_error(message.rstrip(".") + where + ".", "unique")}
    names = ", ".join(by_source.get(name, name) for name in key.names)
    message = UniqueTogetherValidator.message.format(field_names=names)
    return {NON_FIELD_ERRORS: field_error(str(message).rstrip(".") + where + ".", "unique")}


def as_item_errors(exc: serializers.ValidationError) -> dict[str, Any]:
    """A serializer's ``ValidationError`` as per-item errors (``{"field": [{"message", "code"}]}``)."""
    detail = exc.detail
    if not isinstance(detail, dict):
        detail = {NON_FIELD_ERRORS: detail if isinstance(detail, list) else [detail]}
    return cast("dict[str, Any]", error_details(detail))  # a dict in, a dict out
