"""The DRF shortcuts of the bulk endpoints: DRF's own per-item work done once per batch, with DRF's results.

Contract. Every shortcut here gives exactly what DRF gives: the same validated data, the same errors (messages,
codes, order), the same rendered output key for key. Each one applies only where the classes involved keep
DRF's (or Django's) own method for the step it replaces, checked by identity of the class attribute, so a
subclass that overrides the step keeps its override; anything unexpected (another class, another type of
value, an exception inside a shortcut's test) falls back to DRF's own code for that serializer, field or
value. Property-based differential tests check them against DRF's ``is_valid()`` and
``Serializer(instance, many=True).data`` (tests/test_sync_shortcuts_properties.py).

Validation: ``prepare_serializer(serializer, items)`` prepares a batch's serializer once; then every item is
validated by ``serializer.run_validation(item)`` as usual.

- Unique validators: ``UniqueValidator`` and ``UniqueTogetherValidator`` are always removed; the batch's
  uniqueness is checked by ``validation.find_unique_conflicts`` (one query per batch, DRF's messages).
- Primary-key relations: a writable ``PrimaryKeyRelatedField`` without ``pk_field`` whose class keeps DRF's
  ``to_internal_value`` looks its values up in one query per field and batch (shared by an upsert's two
  serializers), with DRF's errors (``incorrect_type``, ``does_not_exist``) and the strict id syntax of
  ``ids``. Otherwise: DRF's SELECT per item.
- Value validators: a ``ProhibitSurrogateCharactersValidator`` (DRF's) or ``MaxLengthValidator``,
  ``MinLengthValidator``, ``MaxValueValidator``, ``MinValueValidator`` (Django's) of exactly that class, with
  a limit that is not callable, becomes a twin that runs the comparison first and the original code only for a
  value it refuses. Subclasses and callable limits: the validator itself.
- ``Field.run_validators``: where the field's class keeps DRF's, the validator list is read once
  (``requires_context`` too). When every validator is a twin above or Django's
  ``ProhibitNullCharactersValidator``, each class at most once, one combined test accepts a value none of
  them refuses; any other value (or a test that raises) runs the validators one by one, with their errors.
- Serializer validators: with none left (``validators`` empty, DRF's ``run_validators``) the per-item copy
  DRF makes to run no validator is skipped; ``validate()`` still runs.
- ``Serializer.to_internal_value``: where the serializer's class keeps DRF's ``to_internal_value``,
  ``_writable_fields`` and ``set_value``, a plain ``dict`` item is validated with the writable fields worked
  out once: DRF's order, ``dict.get(name, empty)`` unless a field overrides ``get_value``,
  ``validate_<field>`` looked up per item, errors collected per field. Any other item (a ``QueryDict``, a
  subclass of ``dict``, a list): DRF's method.
- ``Field.run_validation``: an exact ``CharField`` (DRF's ``run_validation``, ``to_internal_value`` and
  ``validate_empty_values``) given a ``str`` that is not blank once trimmed, and an ``IntegerField`` (DRF's
  ``to_internal_value`` and ``re_decimal``) given an ``int`` (not a ``bool``), return DRF's result directly,
  after the field's validators. So does a ``DecimalField`` (DRF's ``run_validation``, ``validate_empty_values``,
  ``to_internal_value``, ``validate_precision`` and ``quantize``; not localized) given a plain number: a
  ``str`` of ASCII digits with an optional sign and fraction (no exponent, no spaces, at most 40 digits a
  side) or an ``int`` below ``10**40`` in magnitude. ``Decimal`` reads it; DRF's ``validate_precision`` runs
  unless the digits counted in the string are within every limit; ``quantize``'s steps run as DRF's, in the
  thread's context of the moment. Any other value: DRF's ``run_validation``.

Rendering: ``use_render_plan(serializer, model)`` on a ``many=True`` response serializer of ``model`` rows.

- Applies when the serializer is a ``ListSerializer`` and neither it nor its child overrides
  ``to_representation`` (nor the child ``_readable_fields``), and ``model`` is not a ``Mapping``.
- Per field, decided once: a field reading one concrete column of ``model`` (a one-part ``source`` naming a
  non-many-to-many field whose class attribute is Django's ``DeferredAttribute``, DRF's ``get_attribute``) is
  read with one ``getattr``; ``CharField``/``IntegerField``/``FloatField``/``ReadOnlyField`` (and
  ``BigIntegerField`` when not coerced to a string) convert with the builtin DRF's method calls; a
  ``PrimaryKeyRelatedField`` on a foreign key (DRF's methods, no ``pk_field``) renders the ``<fk>_id`` column,
  as DRF's pk-only optimisation does. A value that is ``None`` renders ``None``; a value of a type other than
  the plain ones (``int``, ``str``, ``float``, ``bool``, ``Decimal``, date/time types, ``UUID``, by exact
  type) goes through the field's own ``to_representation``.
- Falls back per field to DRF's ``get_attribute`` + ``to_representation`` (``SerializerMethodField``, nested
  serializers, dotted or ``*`` sources, properties, overriding classes, an attribute that raises), and per
  row to DRF's whole row when a row is not exactly of ``model``'s class.
- A ``DecimalField`` (DRF's ``to_representation`` and ``quantize``, coercing to a string, not localized)
  converts with its quantum and context worked out once; otherwise the field's own ``to_representation``.

``column_plan(serializer, model)`` / ``column_json_plan(serializer, model, encode)``: the same rows from the
columns' values alone (``values_list``), as dicts or as DRF's JSON text, when every rendered field reads one
concrete column (export jobs); None otherwise. ``js_safe`` escapes U+2028/U+2029 as DRF's ``JSONRenderer`` does.

``use_plain_views(serializer)``: the serializer's ``fields`` (DRF's ``BindingDict``, exactly that class) get the
plain dict's ``keys``/``values``/``items`` views instead of ``MutableMapping``'s generic ones; same contents.

Not here: the new rows of a create or upsert are built by bulk-signals-django's ``new_record_factory``
(``operations.new_row_factory``), under that package's one rule for building without ``__init__``
(``can_build_without_init``; docs/django.md).
"""

from __future__ import annotations

import datetime
import decimal
import json.encoder as json_encoder
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard, cast

from django.core import validators as django_validators
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField, RelatedField
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.validators import ProhibitSurrogateCharactersValidator, UniqueTogetherValidator, UniqueValidator

from .ids import InvalidId, id_parser

__all__ = [
    "column_json_plan",
    "column_plan",
    "js_safe",
    "prepare_serializer",
    "use_plain_views",
    "use_render_plan",
]


# -- validation ------------------------------------------------------------------------------------


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


_QUICK: dict[type, Any] = {  # Any: mypy would read quick.__new__(quick) as type.__new__
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
    then the field's validators; a ``DecimalField``'s in ``_quick_decimal``. Any other value takes DRF's
    ``run_validation``."""
    run_validation = field.run_validation
    cls = type(field)
    if field.read_only:
        return run_validation
    if cls.to_internal_value is drf_fields.DecimalField.to_internal_value:
        return _quick_decimal(cast("drf_fields.DecimalField", field), run_validation)  # checked above
    if cls.validate_empty_values is not drf_fields.Field.validate_empty_values:
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


#: The plain numbers the decimal path takes: ASCII digits, an optional sign, an optional fraction; no exponent,
#: no spaces, at most 82 characters. ``Decimal`` reads each one exactly, finite, whatever the context.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]{1,40}(?:\.[0-9]{1,40})?").fullmatch
_PLAIN_DECIMAL_LENGTH = 82
_PLAIN_INT_BOUND = 10**40  # an int below it in magnitude is a plain number of at most 41 characters
_TENTH = decimal.Decimal(".1")  # read from the string exactly, in any context


def _quick_decimal(field: drf_fields.DecimalField, run_validation: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``run_validation`` of a ``DecimalField`` with DRF's methods (``Field.run_validation``, its own
    ``validate_empty_values``, ``to_internal_value``, ``validate_precision``, ``quantize``), not localized,
    with a direct path for a plain number given as a ``str`` (``_PLAIN_DECIMAL``) or an ``int`` below
    ``10**40`` in magnitude. What DRF's steps do to such a value: ``validate_empty_values`` passes it on,
    ``smart_str(...).strip()`` is the string itself (an int's ``str``), it is within ``MAX_STRING_LENGTH``,
    ``Decimal`` reads it as a finite number; ``validate_precision`` (skipped where the digits counted in the
    string are within every limit, DRF's own method otherwise), then ``quantize`` as DRF's: the quantum
    worked out in the thread's context and a copy of that context per value (either may change between
    values). Any other value: DRF's ``run_validation``."""
    cls = type(field)
    max_digits, places, max_whole = field.max_digits, field.decimal_places, field.max_whole_digits
    if (
        cls.run_validation is not drf_fields.Field.run_validation
        or cls.validate_empty_values is not drf_fields.DecimalField.validate_empty_values
        # DecimalField.validate_empty_values ends with super()'s: Field's, unless a mixin comes in between
        or super(drf_fields.DecimalField, field).validate_empty_values.__func__  # type: ignore[attr-defined]  # a bound method
        is not drf_fields.Field.validate_empty_values
        or cls.validate_precision is not drf_fields.DecimalField.validate_precision
        or cls.quantize is not drf_fields.DecimalField.quantize
        or field.localize
        or type(field.MAX_STRING_LENGTH) is not int
        or field.MAX_STRING_LENGTH < _PLAIN_DECIMAL_LENGTH
        or not all(limit is None or type(limit) is int for limit in (max_digits, places, max_whole))
        or (max_digits is not None and max_digits < 1)
        or (places is not None and places < 0)
    ):
        return run_validation
    # The strings whose digits alone show that validate_precision passes them: with w digits before the point
    # (leading zeros included) and f after, DRF counts f decimal places, at most w whole digits and at most
    # w + f digits in all. None where no such pattern fits the limits: validate_precision runs for every value.
    whole = 40 if max_whole is None else min(max_whole, 40)
    fraction = 40 if places is None else min(places, 40)
    within: Callable[[str], object] | None = None
    if whole >= 1 and (max_digits is None or whole + fraction <= max_digits):
        pattern = rf"[+-]?[0-9]{{1,{whole}}}" + (rf"(?:\.[0-9]{{1,{fraction}}})?" if fraction else "")
        within = re.compile(pattern).fullmatch
    validate_precision, run_validators = field.validate_precision, field.run_validators
    rounding, bound = field.rounding, _PLAIN_INT_BOUND
    Decimal, getcontext, plain = decimal.Decimal, decimal.getcontext, _PLAIN_DECIMAL

    def decimal_value(data: Any) -> Any:
        kind = type(data)
        if kind is str:
            text = data
        elif kind is int and -bound < data < bound:
            text = str(data)  # what smart_str gives DRF
        else:
            return run_validation(data)
        if within is not None and within(text) is not None:
            value = Decimal(text)
        elif plain(text) is not None:
            value = validate_precision(Decimal(text))  # DRF's own errors
        else:
            return run_validation(data)
        if places is not None:  # DecimalField.quantize, step by step
            context = getcontext().copy()
            if max_digits is not None:
                context.prec = max_digits
            value = value.quantize(_TENTH**places, rounding, context)  # positional: keywords cost on this C method
        run_validators(value)
        return value

    return decimal_value


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


# -- rendering -------------------------------------------------------------------------------------


#: Values DRF's attribute walk hands on unchanged: not callable (DRF would call them), no ``pk``
#: (a related field would take it). Any other value is rendered by DRF's own code.
_PLAIN_TYPES = frozenset(
    {
        int,
        str,
        float,
        bool,
        decimal.Decimal,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
    }
)
_BigIntegerField = getattr(drf_fields, "BigIntegerField", None)  # DRF >= 3.16
_json_text = json_encoder.encode_basestring  # a str as JSON text, non-ASCII kept (as DRF's UNICODE_JSON does)
_IDENTITY = object()


def use_render_plan(serializer: serializers.BaseSerializer[Any], model: type[models.Model]) -> None:
    """Make ``serializer`` (a ``many=True`` serializer of ``model`` rows) render them with a per-field plan.

    DRF's ``Serializer.to_representation`` runs, for every field of every row, ``field.get_attribute``
    (a generic attribute walk that calls callables and maps errors) and ``field.to_representation``.
    For a field reading one concrete column of ``model`` the walk is one ``getattr``, decided here
    once; a ``CharField``/``IntegerField``/``FloatField``/``ReadOnlyField`` conversion is the builtin
    DRF's method calls (``str``/``int``/``float``/none), and a ``PrimaryKeyRelatedField`` on a foreign
    key renders the ``<fk>_id`` column, as DRF's pk-only optimisation does. Every other field
    (``SerializerMethodField``, nested serializers, dotted or ``*`` sources, properties, classes that
    override ``get_attribute``/``to_representation``, values of any other type) goes through DRF's own
    code, and a serializer class that overrides ``to_representation`` is left alone: the output is
    DRF's, key for key.
    """
    if not _plannable(serializer, model):
        return
    child = cast("serializers.Serializer[Any]", serializer.child)  # a row serializer (_plannable checked it)
    plan = [_field_plan(field, model) for field in child.fields.values() if not field.write_only]
    drf_row = child.to_representation
    plain, identity = _PLAIN_TYPES, _IDENTITY

    def to_representation(data: Any) -> list[Any]:
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        rows = []
        for instance in iterable:
            if type(instance) is not model:
                rows.append(drf_row(instance))
                continue
            ret: dict[str, Any] = {}
            for name, attname, convert, field in plan:
                if attname is not None:
                    try:
                        value = getattr(instance, attname)
                    except Exception:  # DRF's own code below decides what that means
                        pass
                    else:
                        if value is None:
                            ret[name] = None
                            continue
                        if type(value) in plain:
                            ret[name] = value if convert is identity else convert(value)
                            continue
                _drf_field(ret, name, field, instance)
            rows.append(ret)
        return rows

    serializer.to_representation = to_representation  # type: ignore[method-assign]  # this instance's own plan


def column_plan(
    serializer: serializers.BaseSerializer[Any], model: type[models.Model]
) -> tuple[list[str], Callable[[Sequence[Any]], dict[str, Any]]] | None:
    """``(attnames, render)`` when every field ``serializer`` (a ``many=True`` serializer of ``model`` rows) renders
    reads one concrete column of ``model``: ``render(values)`` makes one row's output from the values of those
    columns (``queryset.values_list(*attnames)``, which Django converts as it converts a model's attributes),
    the very dict ``serializer`` would make of that row. None for anything ``use_render_plan`` hands to DRF's
    own code (a method field, a dotted source, a property, a serializer overriding its rendering, ...).

    Without model instances a row costs what ``values_list`` costs: an export of a million rows builds none.
    """
    entries = _column_entries(serializer, model)
    if entries is None:
        return None
    attnames, fields = entries
    return attnames, _row_renderer(fields, None)


def column_json_plan(
    serializer: serializers.BaseSerializer[Any], model: type[models.Model], encode: Callable[[Any], str]
) -> tuple[list[str], Callable[[Sequence[Any]], str]] | None:
    """``column_plan``, rendering each row straight to JSON text: ``render(values)`` is ``encode(row)`` of the row
    ``column_plan`` makes, with the text of plain values (strings, integers, None) written here and any other
    value (a float, a bool, a Decimal object, a date, a dict...) by ``encode``, which must be the encoder of the
    whole row (compact separators: DRF's ``JSONRenderer`` writes ``{"a":1,"b":"x"}``). U+2028 and U+2029 are
    escaped in the row's text, as ``JSONRenderer`` escapes them (``js_safe``)."""
    entries = _column_entries(serializer, model)
    if entries is None:
        return None
    attnames, fields = entries
    return attnames, _row_renderer(fields, encode)


_Entry = tuple[str, int, Any, drf_fields.Field[Any, Any, Any, Any], bool]


def _column_entries(
    serializer: serializers.BaseSerializer[Any], model: type[models.Model]
) -> tuple[list[str], list[_Entry]] | None:
    """The columns to read and, per rendered field: name, column index, conversion, field, whether related."""
    if not _plannable(serializer, model):
        return None
    child = cast("serializers.Serializer[Any]", serializer.child)  # a row serializer (_plannable checked it)
    plan = [_field_plan(field, model) for field in child.fields.values() if not field.write_only]
    if any(attname is None for _, attname, _, _ in plan):
        return None
    attnames = list(dict.fromkeys(attname for _, attname, _, _ in plan if attname is not None))
    position = {attname: i for i, attname in enumerate(attnames)}
    entries = [
        (name, position[attname], convert, field, isinstance(field, RelatedField))
        for name, attname, convert, field in plan
        if attname is not None
    ]
    return attnames, entries


def _row_renderer(entries: list[_Entry], encode: Callable[[Any], str] | None) -> Callable[[Sequence[Any]], Any]:
    """``render(values)`` for ``column_plan`` (a dict) or ``column_json_plan`` (JSON text, when ``encode`` is
    given), written out field by field as straight-line code (compiled once per plan, as ``dataclasses`` writes
    its methods): no loop, no tuple unpacking per field and row. Only indexes and generated names are put in
    the code; names, conversions, fields and key texts are bound as values.

    Each field: None stays None; a value of a plain type gets the field's builtin conversion (or none);
    anything else goes to the field's ``to_representation`` (a related field gets DRF's ``PKOnlyObject``).
    """
    namespace: dict[str, Any] = {
        "plain": _PLAIN_TYPES,
        "PKOnlyObject": PKOnlyObject,
        "encode": encode,
        "text": _json_text,
        "int_text": int.__repr__,
        "str_type": str,
        "int_type": int,
    }
    lines = ["def render(v):"]
    keys = []
    for k, (name, i, convert, field, related) in enumerate(entries):
        namespace[f"slow{k}"] = field.to_representation
        plain_value = "x"
        if convert is not _IDENTITY:
            namespace[f"convert{k}"] = convert
            plain_value = f"convert{k}(x)"
        slow = f"slow{k}(PKOnlyObject(pk=x))" if related else f"slow{k}(x)"
        lines += [
            f"    x = v[{int(i)}]",
            f"    r{k} = None if x is None else ({plain_value} if type(x) in plain else {slow})",
        ]
        if encode is not None:
            lines += [
                f"    t = type(r{k})",
                f"    r{k} = text(r{k}) if t is str_type else (int_text(r{k}) if t is int_type else"
                f" ('null' if r{k} is None else encode(r{k})))",
            ]
            namespace[f"key{k}"] = ("{" if k == 0 else ",") + _json_text(name) + ":"
            keys.append(f"key{k}, r{k}")
        else:
            namespace[f"name{k}"] = name
            keys.append(f"name{k}: r{k}")
    if encode is None:
        lines.append("    return {" + ", ".join(keys) + "}")
    elif keys:
        lines.append("    s = ''.join((" + ", ".join(keys) + ", '}'))")
        lines.append("    return s if line_separator not in s and paragraph_separator not in s else js_safe(s)")
        namespace.update(line_separator="\u2028", paragraph_separator="\u2029", js_safe=js_safe)
    else:
        lines.append("    return '{}'")
    exec("\n".join(lines), namespace)  # generated from indexes and generated names only (see above)
    return namespace["render"]  # type: ignore[no-any-return]  # the function exec defined above


def js_safe(text: str) -> str:
    """JSON text as DRF's ``JSONRenderer`` finishes it: U+2028 and U+2029 escaped (JavaScript and line-splitting
    readers take them for line ends)."""
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _plannable(
    serializer: serializers.BaseSerializer[Any], model: type[models.Model]
) -> TypeGuard[serializers.ListSerializer[Any]]:
    """Whether a per-field plan can stand for ``serializer``'s rendering (DRF's own methods, model rows)."""
    if not isinstance(serializer, serializers.ListSerializer):
        return False
    child = cast("serializers.Serializer[Any]", serializer.child)  # a row serializer's methods, checked next
    return not (
        type(serializer).to_representation is not serializers.ListSerializer.to_representation
        or type(child).to_representation is not serializers.Serializer.to_representation
        or type(child)._readable_fields is not serializers.Serializer._readable_fields
        or issubclass(model, Mapping)  # DRF would read its items, not its attributes
    )


def _drf_field(ret: dict[str, Any], name: str, field: drf_fields.Field[Any, Any, Any, Any], instance: Any) -> None:
    """One field of one row, as ``Serializer.to_representation`` renders it."""
    try:
        attribute = field.get_attribute(instance)
    except drf_fields.SkipField:
        return
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    ret[name] = None if check_for_none is None else field.to_representation(attribute)


def _field_plan(
    field: drf_fields.Field[Any, Any, Any, Any], model: type[models.Model]
) -> tuple[str, str | None, Any, drf_fields.Field[Any, Any, Any, Any]]:
    """``(key, column attribute to read or None for DRF's own code, conversion, field)``."""
    name = cast(str, field.field_name)  # a bound field: it has its name
    drf = (name, None, None, field)
    if len(field.source_attrs) != 1:  # "*" or a dotted source
        return drf
    source = field.source_attrs[0]
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return drf
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return drf
    attname: str = model_field.attname  # type: ignore[union-attr]  # concrete: a model Field
    if not isinstance(getattr(model, attname, None), DeferredAttribute):  # a property or descriptor of the model's
        return drf
    cls = type(field)
    if model_field.is_relation and source == model_field.name:
        if (
            model_field.many_to_one
            and cls.get_attribute is RelatedField.get_attribute
            and cls.use_pk_only_optimization is PrimaryKeyRelatedField.use_pk_only_optimization  # type: ignore[attr-defined]  # a RelatedField
            and cls.to_representation is PrimaryKeyRelatedField.to_representation
            and field.pk_field is None  # type: ignore[attr-defined]  # a PrimaryKeyRelatedField
        ):
            return (name, attname, _IDENTITY, field)  # DRF: PKOnlyObject(row.<fk>_id).pk
        return drf
    if source != attname or cls.get_attribute is not drf_fields.Field.get_attribute:
        return drf
    return (name, attname, _conversion(field), field)


def _conversion(field: drf_fields.Field[Any, Any, Any, Any]) -> Callable[[Any], Any] | object:
    """What ``field.to_representation`` does to a non-None value, as a builtin where DRF's is one."""
    method = type(field).to_representation
    if method is drf_fields.ReadOnlyField.to_representation:
        return _IDENTITY
    if method is drf_fields.CharField.to_representation:
        return str
    if method is drf_fields.IntegerField.to_representation:
        return int
    if method is drf_fields.FloatField.to_representation:
        return float
    if (
        _BigIntegerField is not None
        and method is _BigIntegerField.to_representation  # str when coerced, else IntegerField's int()
        and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    ):
        return int
    if method is drf_fields.DecimalField.to_representation and type(field).quantize is drf_fields.DecimalField.quantize:  # type: ignore[attr-defined]  # DecimalField's method: checked first
        return _decimal_conversion(cast("drf_fields.DecimalField", field))  # DecimalField's methods (checked above)
    return field.to_representation


def _decimal_conversion(field: drf_fields.DecimalField) -> Callable[[Any], Any]:
    """``DecimalField.to_representation`` of a non-None value with its constants worked out once (the quantum,
    the context with ``max_digits`` as precision: DRF builds both per value); DRF's own method when it localizes
    or returns ``Decimal`` objects."""
    if field.localize or not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
        return field.to_representation
    quantum = None if field.decimal_places is None else decimal.Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding, normalize, Decimal = field.rounding, getattr(field, "normalize_output", False), decimal.Decimal

    def convert(value: Any) -> str:
        if type(value) is not Decimal and not isinstance(value, Decimal):
            value = Decimal(str(value).strip())
        if quantum is not None:
            value = value.quantize(quantum, rounding, context)  # positional: keywords cost 2x on this C method
        if normalize:
            value = value.normalize()
        return f"{value:f}"

    return convert
