"""PostgreSQL renders an export's keyset pages: each row's JSON text and the page they make, without the rows
leaving the server (``RowJsonPlan.page``; the export stores it in the same statement).

Contract. Where it applies, a page's stored text is byte for byte what the column plan
(``sync.shortcuts.column_json_plan``, i.e. DRF's ``JSONRenderer`` of ``serializer(many=True).data``) writes for
the same rows; everywhere else the export keeps that plan, untouched. It is decided once per export
(``row_json_plan``), and applies only when all of these hold:

- the database is PostgreSQL, its encoding UTF-8, the page is a keyset page (``Exporter._keyset_pages``: ordered
  by primary key alone), not an ``?ids=`` page, and the queryset has no annotations, ``extra()`` or ``distinct()``;
- ``column_json_plan`` already applies (every field reads one concrete column with DRF's own methods), and every
  field is one of these, whose text PostgreSQL writes as DRF does:

  - an integer column (``SmallIntegerField``/``IntegerField``/``BigIntegerField``, their ``Positive*`` and
    ``*AutoField`` kinds) rendered by DRF as an ``int`` (``IntegerField``, ``ReadOnlyField``), or a pk-only
    ``PrimaryKeyRelatedField`` on a foreign key to such a column: a JSON number, the column's ``::text``;
  - a ``CharField``/``TextField`` column rendered as a ``str`` (DRF's ``CharField`` and its subclasses that keep
    its ``to_representation``, ``ReadOnlyField``): a JSON string, ``to_json(column)``. PostgreSQL's ``escape_json``
    writes ``\\b \\f \\n \\r \\t \\" \\\\`` and the other characters below U+0020 as ``\\u00xx`` (lowercase hex)
    and everything else as it is, as Python's encoder does with ``ensure_ascii=False`` (checked for every
    character up to U+007F, non-ASCII, emoji); U+2028 and U+2029, which ``JSONRenderer`` escapes, are escaped
    in the page's text (``replace``; in Python, ``js_safe``, for ``read``);
  - a ``BooleanField`` column rendered by DRF's ``BooleanField`` (or ``ReadOnlyField``): ``true``/``false``, the
    column's ``::text``;
  - a ``DecimalField`` column rendered by DRF's ``DecimalField`` (its own ``to_representation`` and
    ``quantize``) as a string (``coerce_to_string``), not localized, not ``normalize_output``, with the
    column's ``max_digits`` and ``decimal_places``: the column's ``::text`` (``-0.50``, ``0.00``; never an
    exponent) in a JSON string (``to_json``), which is DRF's ``f"{quantized:f}"`` of a value that already has
    that scale;
  - any of them NULL: ``null``;
  - model fields without ``from_db_value`` (no conversion of the value read), the primary key's too (the
    page's last pk, read raw, is the resume point), of a managed model (its migrations made the columns: an
    unmanaged model over a view may declare a scale its plain ``numeric`` does not have), keys that are plain
    identifiers (written into the SQL as they are: no character to escape).

Anything else (floats, dates and times, UUIDs, JSON, choices, custom fields or serializer fields, SQLite, any
other ordering, ``?ids=`` exports) is rendered by the column plan or DRF. The page's query is the column plan's
own ``values_list`` SQL, wrapped: ``SELECT '{"id":' || coalesce(t.c0::text, 'null') || ',"amount":' ||
coalesce(to_json(t.c3::text)::text, 'null') || ... || '}' AS line, t.<pk> AS pk FROM (<page SQL>) t(c0, c1, ...)
ORDER BY t.<pk>`` (``select``; ``row_to_json`` writes the same text, a third slower), and ``page`` joins the lines
with ``string_agg``. The export's statement reads, renders and stores a page: no row crosses the wire.
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
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # a key written into the SQL as it is: nothing to escape


class RowJsonPlan:
    """The SQL that renders a page's rows: ``page`` (the whole page, for the export's one statement), ``select``
    (row by row), ``read`` (row by row, into Python: the rows in another database than the jobs)."""

    def __init__(self, line: str, attnames: Sequence[str], pk_index: int, connection: Any) -> None:
        self._line = line  # the SQL of a row's JSON text: '{"key":' || coalesce(<t.cN's JSON>, 'null') || ... || '}'
        self._attnames = list(attnames)
        self._pk_index = pk_index
        self._connection = connection

    def select(self, page: Any, direction: str) -> tuple[str, list[Any]]:
        """The SQL (and its parameters) of ``page``'s rows (a queryset, ordered by pk and sliced): ``(line, pk)``, the
        row's JSON text and its primary key, in the page's order (``direction``: ``"asc"``/``"desc"``)."""
        inner, params = page.values_list(*self._attnames).query.get_compiler(connection=self._connection).as_sql()
        names = ", ".join(f"c{i}" for i in range(len(self._attnames)))
        pk = f"t.c{self._pk_index}"
        sql = f"SELECT {self._line} AS line, {pk} AS pk FROM ({inner}) t({names}) ORDER BY {pk} {_ORDER[direction]}"
        return sql, list(params)

    def read(self, page: Any, direction: str) -> tuple[list[str], Any]:
        """The JSON texts of the rows of ``page`` (see ``select``) and its last pk (or None), read into Python."""
        sql, params = self.select(page, direction)
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return [], None
        texts = [text for text, _ in rows]
        probe = "".join(texts)  # one C-speed scan of the page for the two characters JSONRenderer escapes
        if "\u2028" in probe or "\u2029" in probe:
            texts = [js_safe(text) for text in texts]
        return texts, rows[-1][1]

    def page(self, page: Any, direction: str) -> tuple[str, list[Any]]:
        """The SQL of ``page`` as one stored page, never leaving PostgreSQL: one row ``(count, body, last pk)``, where
        ``body`` is the rows' JSON texts joined by newlines with U+2028/U+2029 escaped (``js_safe``), and the last
        pk is in the page's order (the resume point); ``(0, NULL, NULL)`` for an empty page. Its columns are named
        ``n``, ``body`` and ``last``."""
        sql, params = self.select(page, direction)
        last = "DESC" if direction == "asc" else "ASC"  # the page's last row: the first in the other order
        body = f"string_agg(p.line, E'\\n' ORDER BY p.pk {_ORDER[direction]})"
        for char, escaped in (("8232", "2028"), ("8233", "2029")):
            body = f"replace({body}, chr({char}), E'\\\\u{escaped}')"
        return (
            f"WITH p AS MATERIALIZED ({sql}) "
            f"SELECT count(*) AS n, {body} AS body, (SELECT p.pk FROM p ORDER BY p.pk {last} LIMIT 1) AS last FROM p",
            params,
        )


_ORDER = {"asc": "ASC", "desc": "DESC"}


def row_json_plan(serializer: serializers.BaseSerializer[Any], queryset: Any) -> RowJsonPlan | None:
    """The plan for ``serializer``'s rows of ``queryset`` where PostgreSQL writes them exactly (module doc)."""
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.annotations or query.extra or query.distinct:
        return None
    if _server_encoding(connection) != "UTF8":  # chr(8232) and the text's own characters need UTF-8
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
    members = []
    for name, index, convert, field, related in fields:
        model_field = by_attname.get(attnames[index])
        if model_field is None or not _PLAIN_NAME.match(name):
            return None
        value = _json_value(model_field, convert, field, related)
        if value is None:
            return None
        members.append(f"\"{name}\":' || coalesce({value.format(f't.c{index}')}, 'null')")
    line = "'{" + " || ',".join(members) + " || '}'"
    return RowJsonPlan(line, attnames, attnames.index(pk_attname), connection)


def _server_encoding(connection: Any) -> str | None:
    """The database's encoding, as the server reported it when the connection opened (no query)."""
    connection.ensure_connection()
    raw = connection.connection
    info = getattr(raw, "info", None)  # psycopg 3
    if info is not None:
        return info.parameter_status("server_encoding")  # type: ignore[no-any-return]
    return raw.get_parameter_status("server_encoding")  # type: ignore[no-any-return]  # psycopg 2


def _json_value(model_field: Any, convert: Any, field: Any, related: bool) -> str | None:
    """The SQL of a non-NULL column ``{}``'s JSON text when PostgreSQL writes the field's JSON as DRF does, else
    None: the number or ``true``/``false`` as its ``::text``, a string through ``to_json(text)``."""
    if related:  # a pk-only PrimaryKeyRelatedField (column_json_plan checked its methods): the fk's own value
        target = model_field.target_field
        return "{}::text" if _integer(target) and not hasattr(model_field, "from_db_value") else None
    if hasattr(model_field, "from_db_value"):
        return None
    kind = model_field.get_internal_type()
    method = type(field).to_representation
    if kind in _INTEGER_TYPES:
        return "{}::text" if convert is int or convert is _IDENTITY else None
    if kind in _TEXT_TYPES:
        return "to_json({})::text" if convert is str or convert is _IDENTITY else None
    if kind == "BooleanField":
        keeps = convert is _IDENTITY or method is drf_fields.BooleanField.to_representation
        return "{}::text" if keeps else None
    if kind == "DecimalField" and _decimal_text(model_field, field):
        return "to_json({}::text)::text"
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
