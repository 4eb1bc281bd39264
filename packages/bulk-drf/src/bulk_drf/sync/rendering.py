"""``use_render_plan``: render the rows of a bulk response with DRF's output at less cost (a per-field plan);
``column_plan``: the same output from the columns' values alone, with no model instance at all."""

from __future__ import annotations

import datetime
import decimal
import json.encoder as json_encoder
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject, PrimaryKeyRelatedField, RelatedField
from rest_framework.settings import api_settings

__all__ = ["column_json_plan", "column_plan", "js_safe", "use_render_plan"]


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


def use_render_plan(serializer: serializers.BaseSerializer, model: type[models.Model]) -> None:
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
    child = serializer.child  # type: ignore[attr-defined]
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

    serializer.to_representation = to_representation  # type: ignore[method-assign]


def column_plan(
    serializer: serializers.BaseSerializer, model: type[models.Model]
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
    serializer: serializers.BaseSerializer, model: type[models.Model], encode: Callable[[Any], str]
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


_Entry = tuple[str, int, Any, drf_fields.Field, bool]


def _column_entries(
    serializer: serializers.BaseSerializer, model: type[models.Model]
) -> tuple[list[str], list[_Entry]] | None:
    """The columns to read and, per rendered field: name, column index, conversion, field, whether related."""
    if not _plannable(serializer, model):
        return None
    child = serializer.child  # type: ignore[attr-defined]
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
    return namespace["render"]  # type: ignore[no-any-return]


def js_safe(text: str) -> str:
    """JSON text as DRF's ``JSONRenderer`` finishes it: U+2028 and U+2029 escaped (JavaScript and line-splitting
    readers take them for line ends)."""
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _plannable(serializer: serializers.BaseSerializer, model: type[models.Model]) -> bool:
    """Whether a per-field plan can stand for ``serializer``'s rendering (DRF's own methods, model rows)."""
    if not isinstance(serializer, serializers.ListSerializer):
        return False
    child = serializer.child
    return not (
        type(serializer).to_representation is not serializers.ListSerializer.to_representation
        or type(child).to_representation is not serializers.Serializer.to_representation
        or type(child)._readable_fields is not serializers.Serializer._readable_fields
        or issubclass(model, Mapping)  # DRF would read its items, not its attributes
    )


def _drf_field(ret: dict[str, Any], name: str, field: drf_fields.Field, instance: Any) -> None:
    """One field of one row, as ``Serializer.to_representation`` renders it."""
    try:
        attribute = field.get_attribute(instance)
    except drf_fields.SkipField:
        return
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    ret[name] = None if check_for_none is None else field.to_representation(attribute)


def _field_plan(field: drf_fields.Field, model: type[models.Model]) -> tuple[str, str | None, Any, drf_fields.Field]:
    """``(key, column attribute to read or None for DRF's own code, conversion, field)``."""
    drf = (field.field_name, None, None, field)
    if len(field.source_attrs) != 1:  # "*" or a dotted source
        return drf
    source = field.source_attrs[0]
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return drf
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return drf
    attname = model_field.attname
    if not isinstance(getattr(model, attname, None), DeferredAttribute):  # a property or descriptor of the model's
        return drf
    cls = type(field)
    if model_field.is_relation and source == model_field.name:
        if (
            model_field.many_to_one
            and cls.get_attribute is RelatedField.get_attribute
            and cls.use_pk_only_optimization is PrimaryKeyRelatedField.use_pk_only_optimization
            and cls.to_representation is PrimaryKeyRelatedField.to_representation
            and field.pk_field is None  # type: ignore[attr-defined]
        ):
            return (field.field_name, attname, _IDENTITY, field)  # DRF: PKOnlyObject(row.<fk>_id).pk
        return drf
    if source != attname or cls.get_attribute is not drf_fields.Field.get_attribute:
        return drf
    return (field.field_name, attname, _conversion(field), field)


def _conversion(field: drf_fields.Field) -> Callable[[Any], Any] | object:
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
    if method is drf_fields.DecimalField.to_representation and type(field).quantize is drf_fields.DecimalField.quantize:
        return _decimal_conversion(field)  # type: ignore[arg-type]
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
