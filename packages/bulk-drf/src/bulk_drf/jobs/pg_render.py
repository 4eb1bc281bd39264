"""PostgreSQL renders an export's keyset pages: each row's JSON text written by ``row_to_json``, joined in Python.

Contract. Where it applies, a page's stored text is byte for byte what the column plan
(``sync.shortcuts.column_json_plan``, i.e. DRF's ``JSONRenderer`` of ``serializer(many=True).data``) writes for
the same rows; everywhere else the export keeps that plan, untouched. It is decided once per export
(``row_json_plan``), and applies only when all of these hold:

- the database is PostgreSQL, the page is a keyset page (``Exporter._keyset_pages``: ordered by primary key
  alone), not an ``?ids=`` page, and the queryset has no annotations, ``extra()`` or ``distinct()``;
- ``column_json_plan`` already applies (every field reads one concrete column with DRF's own methods), and every
  field is one of these, whose text PostgreSQL writes as DRF does:

  - an integer column (``SmallIntegerField``/``IntegerField``/``BigIntegerField``, their ``Positive*`` and
    ``*AutoField`` kinds) rendered by DRF as an ``int`` (``IntegerField``, ``ReadOnlyField``), or a pk-only
    ``PrimaryKeyRelatedField`` on a foreign key to such a column: a JSON number;
  - a ``CharField``/``TextField`` column rendered as a ``str`` (DRF's ``CharField`` and its subclasses that keep
    its ``to_representation``, ``ReadOnlyField``): a JSON string. PostgreSQL's ``escape_json`` writes ``\\b \\f
    \\n \\r \\t \\" \\\\`` and the other characters below U+0020 as ``\\u00xx`` (lowercase hex) and everything
    else as it is, as Python's encoder does with ``ensure_ascii=False`` (checked for every character up to
    U+007F, non-ASCII, emoji); U+2028 and U+2029, which ``JSONRenderer`` escapes, are escaped here in Python
    (``js_safe``) on the pages holding one;
  - a ``BooleanField`` column rendered by DRF's ``BooleanField`` (or ``ReadOnlyField``): ``true``/``false``;
  - a ``DecimalField`` column rendered by DRF's ``DecimalField`` (its own ``to_representation`` and
    ``quantize``) as a string (``coerce_to_string``), not localized, not ``normalize_output``, with the
    column's ``max_digits`` and ``decimal_places``: the column's ``::text`` (``-0.50``, ``0.00``; never an
    exponent) in a JSON string, which is DRF's ``f"{quantized:f}"`` of a value that already has that scale;
  - any of them NULL: ``null``;
  - model fields without ``from_db_value`` (no conversion of the value read), the primary key's too (the
    page's last pk, read raw, is the resume point), of a managed model (its migrations made the columns: an
    unmanaged model over a view may declare a scale its plain ``numeric`` does not have), keys that are plain
    identifiers of at most 63 bytes (PostgreSQL's alias limit; no character to escape).

Anything else (floats, dates and times, UUIDs, JSON, choices, custom fields or serializer fields, SQLite, any
other ordering, ``?ids=`` exports) is rendered by the column plan or DRF. The page's query is the column plan's
own ``values_list`` SQL, wrapped: ``SELECT (SELECT row_to_json(r) FROM (SELECT t.c0 AS "id", t.c3::text AS
"amount" ...) r)::text, t.<pk> FROM (<page SQL>) t(c0, c1, ...) ORDER BY t.<pk>``: one query per page, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db import models as django_models
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.settings import api_settings

from ..sync.ids import INTEGER_TYPES
from ..sync.shortcuts import _IDENTITY, _column_entries, js_safe

__all__ = ["RowJsonPlan", "row_json_plan"]

_INTEGER_TYPES = INTEGER_TYPES  # the integer columns (the id syntax's own list)
_TEXT_TYPES = frozenset({"CharField", "TextField"})
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_ALIAS_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: longer aliases are cut


class RowJsonPlan:
    """The SQL that renders a page's rows: ``read(page_queryset)`` is ``(texts, last pk)``."""

    def __init__(self, columns: Sequence[str], attnames: Sequence[str], pk_index: int, connection: Any) -> None:
        self._columns = list(columns)  # per key: ``t.cN AS "key"`` or ``t.cN::text AS "key"``
        self._attnames = list(attnames)
        self._pk_index = pk_index
        self._connection = connection

    def read(self, page: Any, direction: str) -> tuple[list[str], Any]:
        """The JSON texts of the rows of ``page`` (a queryset, ordered by pk and sliced) and its last pk (or None)."""
        connection = self._connection
        inner, params = page.values_list(*self._attnames).query.get_compiler(connection=connection).as_sql()
        names = ", ".join(f"c{i}" for i in range(len(self._attnames)))
        pk = f"t.c{self._pk_index}"
        sql = (
            f"SELECT (SELECT row_to_json(r) FROM (SELECT {', '.join(self._columns)}) r)::text, {pk} "
            f"FROM ({inner}) t({names}) ORDER BY {pk} {'ASC' if direction == 'asc' else 'DESC'}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return [], None
        texts = [text for text, _ in rows]
        probe = "".join(texts)  # one C-speed scan of the page for the two characters JSONRenderer escapes
        if "\u2028" in probe or "\u2029" in probe:
            texts = [js_safe(text) for text in texts]
        return texts, rows[-1][1]


def row_json_plan(serializer: serializers.BaseSerializer[Any], queryset: Any) -> RowJsonPlan | None:
    """The plan for ``serializer``'s rows of ``queryset`` where PostgreSQL writes them exactly (module doc)."""
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.annotations or query.extra or query.distinct:
        return None
    model = queryset.model
    if not model._meta.managed or hasattr(model._meta.pk, "from_db_value"):
        # Unmanaged: its columns' types are not the fields' (a view's plain numeric has no scale). A pk converted on
        # read: the page's last pk (the resume point) would be the raw column.
        return None
    entries = _column_entries(serializer, model)
    if entries is None or not entries[1]:
        return None
    attnames, fields = entries
    pk_attname = model._meta.pk.attname
    if pk_attname not in attnames:
        attnames = [*attnames, pk_attname]
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns = []
    for name, index, convert, field, related in fields:
        model_field = by_attname.get(attnames[index])
        if model_field is None or not _plain_key(name):
            return None
        cast = _cast(model_field, convert, field, related)
        if cast is None:
            return None
        columns.append(f"t.c{index}{cast} AS {quote(name)}")
    return RowJsonPlan(columns, attnames, attnames.index(pk_attname), connection)


def _plain_key(name: str) -> bool:
    return bool(_PLAIN_NAME.match(name)) and len(name.encode()) <= _MAX_ALIAS_BYTES


def _cast(model_field: Any, convert: Any, field: Any, related: bool) -> str | None:
    """``""`` (the column as it is) or ``"::text"`` when PostgreSQL writes the field's JSON as DRF does, else None."""
    if related:  # a pk-only PrimaryKeyRelatedField (column_json_plan checked its methods): the fk's own value
        target = model_field.target_field
        return "" if _integer(target) and not hasattr(model_field, "from_db_value") else None
    if hasattr(model_field, "from_db_value"):
        return None
    kind = model_field.get_internal_type()
    method = type(field).to_representation
    if kind in _INTEGER_TYPES:
        return "" if convert is int or convert is _IDENTITY else None
    if kind in _TEXT_TYPES:
        return "" if convert is str or convert is _IDENTITY else None
    if kind == "BooleanField":
        keeps = convert is _IDENTITY or method is drf_fields.BooleanField.to_representation
        return "" if keeps else None
    if kind == "DecimalField" and _decimal_text(model_field, field):
        return "::text"
    return None


def _integer(model_field: Any) -> bool:
    return (
        isinstance(model_field, django_models.Field)
        and model_field.get_internal_type() in _INTEGER_TYPES
        and not hasattr(model_field, "from_db_value")
    )


def _decimal_text(model_field: Any, field: Any) -> bool:
    """Whether DRF writes the column's values as their ``::text``: already at the field's scale, as strings."""
    cls = type(field)
    return (
        isinstance(field, drf_fields.DecimalField)
        and cls.to_representation is drf_fields.DecimalField.to_representation
        and cls.quantize is drf_fields.DecimalField.quantize
        and bool(getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING))
        and not field.localize
        and not getattr(field, "normalize_output", False)
        and field.decimal_places is not None
        and field.decimal_places == model_field.decimal_places
        and field.max_digits is not None
        and field.max_digits == model_field.max_digits
    )
