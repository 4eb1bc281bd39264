"""Batched validation: what DRF checks with one query per item, checked here with one query per batch.

A ``ModelSerializer`` validating 1000 items runs a ``UniqueValidator`` SELECT per unique field and a
``PrimaryKeyRelatedField`` SELECT per foreign key, for every item. ``prepare_serializer`` removes the
unique validators and resolves primary-key relations from one prefetch; ``find_unique_conflicts``
then checks every unique key of the model (``unique=True``, ``unique_together``, ``UniqueConstraint``)
for the whole batch in one query, and within the batch itself. A conditional ``UniqueConstraint``
(``condition=Q(...)``) is checked the same way when its condition is made of plain field lookups
(``exact``, ``in``, ``isnull``, combined with ``&``, ``|``, ``~``): the items are tested in Python, the
stored rows by the database in the same query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from django.core import validators as django_validators
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.text import capfirst
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.validators import ProhibitSurrogateCharactersValidator, UniqueTogetherValidator, UniqueValidator

from .exceptions import NestedWritesNotSupported
from .ids import InvalidId, id_parser

__all__ = [
    "UniqueKey",
    "error_details",
    "find_unique_conflicts",
    "key_error",
    "key_matching",
    "prepare_serializer",
    "refuse_nested_writes",
    "unique_keys",
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


def prepare_serializer(
    serializer: serializers.Serializer[Any], items: Sequence[Any], prefetched: dict[str, dict[Any, Any]] | None = None
) -> None:
    """Make ``serializer`` validate ``items`` without a query per item.

    Removes ``UniqueValidator``/``UniqueTogetherValidator`` (``find_unique_conflicts`` replaces them)
    and answers plain ``PrimaryKeyRelatedField`` lookups from one query per field. ``prefetched``
    (field name -> rows by pk) is filled on first use and reused, so two serializers of one batch
    (an upsert's create and update serializers) share the lookups.
    """
    prefetched = {} if prefetched is None else prefetched
    use_plain_views(serializer)
    for field in serializer.fields.values():
        field.validators = [_quick(v) for v in field.validators if not isinstance(v, UniqueValidator)]
        _fixed_validators(field)
    serializer.validators = [v for v in serializer.validators if not isinstance(v, UniqueTogetherValidator)]
    if not serializer.validators and type(serializer).run_validators is serializers.Serializer.run_validators:
        # DRF's own run_validators would copy every item into a dict of read-only defaults only to run
        # no validator on it; nothing to run, nothing to copy (validate() and field validators still run).
        serializer.run_validators = _no_validators  # type: ignore[method-assign]  # this instance's own
    for name, field in serializer.fields.items():
        if (
            not field.read_only
            and isinstance(field, PrimaryKeyRelatedField)
            and field.pk_field is None
            and type(field).to_internal_value is PrimaryKeyRelatedField.to_internal_value
        ):
            if name not in prefetched:
                raw = [item[name] for item in items if isinstance(item, dict) and name in item]
                prefetched[name] = _fetch_related(field, raw)
            _answer_from(field, prefetched[name])
    _field_loop(serializer)


class _PlainViewsBindingDict(BindingDict):
    """DRF's ``BindingDict`` whose ``keys``/``values``/``items`` are the plain dict's views.

    ``MutableMapping``'s generic views call ``__getitem__`` per key; DRF iterates ``fields.values()``
    for every item it validates or renders, so on a batch of 1000 that Python-level iteration shows up.
    Same contents, same live views, same binding on ``__setitem__``.
    """

    def keys(self) -> Any:
        return self.fields.keys()

    def values(self) -> Any:
        return self.fields.values()

    def items(self) -> Any:
        return self.fields.items()


def use_plain_views(serializer: serializers.Serializer[Any]) -> None:
    """Give ``serializer`` (already built) fields with fast views; a no-op for anything unexpected."""
    fields = serializer.fields
    if type(fields) is BindingDict:
        fast = _PlainViewsBindingDict(serializer)
        fast.fields = fields.fields  # already bound to ``serializer``
        serializer.fields = fast


# -- per-item shortcuts that leave DRF's semantics as they are ------------------------------------
#
# A batch validates every item with one serializer instance whose fields and validators are fixed
# once prepared (the unique validators are already removed above). What DRF recomputes per item
# and per field from those fixed parts is computed once here; every check, hook and error still
# runs, in DRF's order, with DRF's messages. Subclasses that override the methods concerned keep
# theirs (checked by identity of the class attribute), and anything unexpected goes through DRF.

_SURROGATE = re.compile("[\ud800-\udfff]")


class _QuickSurrogates(ProhibitSurrogateCharactersValidator):
    """DRF's check with the scan in C (``re``); on a hit DRF's own code raises its error."""

    def __call__(self, value: Any) -> None:
        if _SURROGATE.search(str(value)) is not None:
            super().__call__(value)


class _QuickMaxLength(django_validators.MaxLengthValidator):
    """Django's check (``len(value) > limit``) without building the error parameters for a valid value."""

    def __call__(self, value: Any) -> None:
        if len(value) > self.limit_value:
            super().__call__(value)


class _QuickMinLength(django_validators.MinLengthValidator):
    def __call__(self, value: Any) -> None:
        if len(value) < self.limit_value:
            super().__call__(value)


class _QuickMaxValue(django_validators.MaxValueValidator):
    def __call__(self, value: Any) -> None:
        if value > self.limit_value:
            super().__call__(value)


class _QuickMinValue(django_validators.MinValueValidator):
    def __call__(self, value: Any) -> None:
        if value < self.limit_value:
            super().__call__(value)


_QUICK: dict[type, Any] = {
    ProhibitSurrogateCharactersValidator: _QuickSurrogates,
    django_validators.MaxLengthValidator: _QuickMaxLength,
    django_validators.MinLengthValidator: _QuickMinLength,
    django_validators.MaxValueValidator: _QuickMaxValue,
    django_validators.MinValueValidator: _QuickMinValue,
}


def _quick(validator: Any) -> Any:
    """``validator`` as its quick twin (same state, same errors) when it is exactly one of the classes above."""
    quick = _QUICK.get(type(validator))
    if quick is None or callable(getattr(validator, "limit_value", None)):  # a callable limit: Django's own code
        return validator
    twin = quick.__new__(quick)
    twin.__dict__.update(vars(validator))
    return twin


def _fixed_validators(field: drf_fields.Field[Any, Any, Any, Any]) -> None:
    """DRF's ``Field.run_validators`` over the field's (now fixed) validators, ``requires_context`` read once."""
    if type(field).run_validators is not drf_fields.Field.run_validators:
        return
    plan: tuple[tuple[Any, bool], ...] = tuple(
        (v, bool(getattr(v, "requires_context", False))) for v in field.validators
    )
    if not plan:
        field.run_validators = _no_validators  # type: ignore[method-assign]  # this field's own
        return

    def run_validators(value: Any) -> None:
        errors: list[Any] = []
        for validator, requires_context in plan:
            try:
                if requires_context:
                    validator(value, field)
                else:
                    validator(value)
            except ValidationError as exc:
                if isinstance(exc.detail, dict):
                    raise
                errors.extend(exc.detail)
            except DjangoValidationError as exc:
                errors.extend(drf_fields.get_error_detail(exc))
        if errors:
            raise ValidationError(errors)

    field.run_validators = _accepting(field.validators, run_validators)  # type: ignore[method-assign, assignment]  # this field's own


def _accepting(validators: list[Any], run_validators: Callable[[Any], None]) -> Callable[[Any], None]:
    """``run_validators``, preceded by one combined test when every validator is a quick twin above or
    Django's null-character check: a value that none of them would refuse returns at once; any other
    value (or a test that raises) runs ``run_validators``, whose errors are the validators' own."""
    limits: dict[type, Any] = {}
    for v in validators:
        kind = type(v)
        if kind is not django_validators.ProhibitNullCharactersValidator and kind not in _QUICK.values():
            return run_validators
        if kind in limits:  # the same check twice: keep the general path
            return run_validators
        limits[kind] = getattr(v, "limit_value", None)
    max_len: Any = limits.get(_QuickMaxLength)
    min_len: Any = limits.get(_QuickMinLength)
    max_value = limits.get(_QuickMaxValue)
    min_value = limits.get(_QuickMinValue)
    has_max_len, has_min_len = _QuickMaxLength in limits, _QuickMinLength in limits
    has_max_value, has_min_value = _QuickMaxValue in limits, _QuickMinValue in limits
    nulls = django_validators.ProhibitNullCharactersValidator in limits
    surrogates = _QuickSurrogates in limits

    def accepted_or_run(value: Any) -> None:
        try:
            # each test is "this validator would not raise", written as the validator's own comparison
            if (
                (not has_max_len or not len(value) > max_len)
                and (not has_min_len or not len(value) < min_len)
                and (not has_max_value or not value > max_value)
                and (not has_min_value or not value < min_value)
                and (not nulls or "\x00" not in str(value))
                and (not surrogates or _SURROGATE.search(str(value)) is None)
            ):
                return
        except Exception:  # the validators themselves decide
            pass
        run_validators(value)

    return accepted_or_run


def _field_loop(serializer: serializers.Serializer[Any]) -> None:
    """DRF's ``Serializer.to_internal_value`` for plain-dict items, with the writable fields, their
    ``validate_<field>`` names and their ``get_value``/``set_value`` steps worked out once.

    Per item and per writable field, in DRF's order: the value (``dict.get(name, empty)``, which is
    what ``Field.get_value`` does for a dict that is not an HTML form), ``field.run_validation``,
    the serializer's ``validate_<field>`` (looked up per item, as DRF does), errors collected per
    field. Anything but a plain ``dict`` item goes through DRF's own method.
    """
    cls = type(serializer)
    if (
        cls.to_internal_value is not serializers.Serializer.to_internal_value
        or cls._writable_fields is not serializers.Serializer._writable_fields
        or cls.set_value is not serializers.Serializer.set_value
    ):
        return
    drf_to_internal_value = serializer.to_internal_value
    set_value = serializer.set_value
    empty, skip = drf_fields.empty, drf_fields.SkipField
    get_error_detail = drf_fields.get_error_detail
    plan: list[tuple[str, str, Callable[[Any], Any] | None, Callable[[Any], Any], str | None, list[str]]] = []
    for field in serializer.fields.values():
        if field.read_only:
            continue
        name = cast(str, field.field_name)  # a bound field: it has its name
        get_value = None if type(field).get_value is drf_fields.Field.get_value else field.get_value
        keys = field.source_attrs
        plan.append(
            (
                name,
                "validate_" + name,
                get_value,
                _quick_run_validation(field),
                keys[0] if len(keys) == 1 else None,
                keys,
            )
        )

    def to_internal_value(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            return drf_to_internal_value(data)  # type: ignore[no-any-return]  # DRF's dict
        ret: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for name, validate_name, get_value, run_validation, key, keys in plan:
            validate_method = getattr(serializer, validate_name, None)
            primitive_value = data.get(name, empty) if get_value is None else get_value(data)
            try:
                validated_value = run_validation(primitive_value)
                if validate_method is not None:
                    validated_value = validate_method(validated_value)
            except ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
            except skip:
                pass
            else:
                if key is not None:
                    ret[key] = validated_value
                else:
                    set_value(ret, keys, validated_value)
        if errors:
            raise ValidationError(errors)
        return ret

    serializer.to_internal_value = to_internal_value  # type: ignore[method-assign]  # this instance's own


def _quick_run_validation(field: drf_fields.Field[Any, Any, Any, Any]) -> Callable[[Any], Any]:
    """``field.run_validation``, with a direct path for the common valid value of an exact ``CharField``
    (a non-blank ``str``) or ``IntegerField`` (an ``int``): the value DRF's steps would return for it
    (``validate_empty_values`` passes it through, ``to_internal_value`` is the identity or ``strip()``),
    then the field's validators. Any other value takes DRF's ``run_validation``."""
    run_validation = field.run_validation
    cls = type(field)
    if field.read_only or cls.validate_empty_values is not drf_fields.Field.validate_empty_values:
        return run_validation
    run_validators = field.run_validators
    if (
        cls.run_validation is drf_fields.CharField.run_validation
        and cls.to_internal_value is drf_fields.CharField.to_internal_value
    ):
        trim = field.trim_whitespace  # type: ignore[attr-defined]  # a CharField's (checked above)

        def char(data: Any) -> Any:
            if type(data) is str:
                value = data.strip() if trim else data
                if value:  # DRF: not '' and not blank once stripped, so Field.run_validation -> str(data)[.strip()]
                    run_validators(value)
                    return value
            return run_validation(data)

        return char
    if (
        cls.run_validation is drf_fields.Field.run_validation
        and cls.to_internal_value is drf_fields.IntegerField.to_internal_value
        and field.re_decimal is drf_fields.IntegerField.re_decimal  # type: ignore[attr-defined]  # IntegerField's method
    ):

        def integer(data: Any) -> Any:
            if type(data) is int:  # DRF: int(re_decimal.sub("", str(data))), the same int
                run_validators(data)
                return data
            return run_validation(data)

        return integer
    return run_validation


def _no_validators(value: Any) -> None:
    """``run_validators`` with nothing to run (no serializer-level validators, or a field without validators)."""


def _fetch_related(field: PrimaryKeyRelatedField[Any], raw_values: list[Any]) -> dict[Any, Any]:
    """The rows ``raw_values`` name in ``field``'s queryset, by pk, with one query."""
    parse = id_parser(field.get_queryset().model._meta.pk)  # type: ignore[union-attr]  # a writable field's queryset
    wanted = set()
    for value in raw_values:
        if value is None or isinstance(value, bool):
            continue
        try:
            wanted.add(parse(value))
        except InvalidId:
            continue
    return {obj.pk: obj for obj in field.get_queryset().filter(pk__in=wanted)} if wanted else {}  # type: ignore[union-attr]  # see above


def _answer_from(field: PrimaryKeyRelatedField[Any], found: dict[Any, Any]) -> None:
    """Make ``field`` look values up in ``found``; same errors as DRF's own lookup."""
    parse = id_parser(field.get_queryset().model._meta.pk)  # type: ignore[union-attr]  # a writable field's queryset

    def to_internal_value(data: Any) -> Any:
        if isinstance(data, bool):
            field.fail("incorrect_type", data_type=type(data).__name__)
        try:
            key = parse(data)  # the id syntax (ids.py): 2.9 is not row 2
        except InvalidId as exc:
            if exc.code == "out_of_range":
                field.fail("does_not_exist", pk_value=data)
            field.fail("incorrect_type", data_type=type(data).__name__)
        obj = found.get(key)
        if obj is None:
            field.fail("does_not_exist", pk_value=data)
        return obj

    field.to_internal_value = to_internal_value  # type: ignore[method-assign]  # this instance's own


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
    attnames = sorted({f.attname for key in keys for f in key.fields})
    pk_name = model._meta.pk.attname
    rows = list(model._base_manager.filter(query).values(pk_name, *attnames, **flags))
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
