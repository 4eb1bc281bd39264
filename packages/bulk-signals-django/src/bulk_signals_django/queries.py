"""The SQL a write with receivers adds, built by hand where Django's queryset API costs too much per key:
``pk IN (...)`` prepared once (one array parameter on PostgreSQL), old rows loaded in chunks, ``save()``'s
old row by one precompiled SELECT, ``UPDATE ... RETURNING``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models
from django.db.models.expressions import Col
from django.db.models.sql import Query, UpdateQuery
from django.db.models.sql.where import AND, ExtraWhere

from .builders import _row_converter, can_build_without_init, fetch_rows, record_loop, whole_row
from .changes import writable_fields
from .conf import settings
from .mti import has_parent_tables

__all__ = [
    "can_return_updated",
    "chunk_size",
    "chunks",
    "column_in",
    "load_by_pk",
    "load_one",
    "pk_in",
    "selects_bare_column",
    "stored_values",
    "update_by_pks",
]


# Exactly these classes (not subclasses, which may prepare values their own way) send a value of this
# Python type to the database unchanged.
_PLAIN_TYPES: dict[type, type] = {
    **{
        cls: int
        for cls in (
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
        )
    },
    **{cls: str for cls in (models.CharField, models.TextField, models.SlugField, models.EmailField)},
}


def chunk_size() -> int:
    """``BULK_SIGNALS_IN_CHUNK_SIZE``: the most values in one ``IN (...)``."""
    return settings.IN_CHUNK_SIZE


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` cut into ``BULK_SIGNALS_IN_CHUNK_SIZE`` slices (one ``IN (...)`` each)."""
    size = chunk_size()
    for start in range(0, len(values), size):
        yield values[start : start + size]


def stored_values(model: type[models.Model], using: str, pks: Sequence[Any]) -> dict[Any, tuple[Any, ...]]:
    """``{pk: (value of each writable field, ...)}`` as stored, for these primary keys: one SELECT of
    ``values_list`` per chunk of keys (no instances)."""
    attnames = [f.attname for f in writable_fields(model)]
    found: dict[Any, tuple[Any, ...]] = {}
    manager = model._base_manager.db_manager(using)
    pk_attname = model._meta.pk.attname
    for chunk in chunks(list(dict.fromkeys(pks))):
        queryset = manager.all()
        queryset.query.where.add(pk_in(model, connections[using], chunk), AND)
        for pk, *values in queryset.values_list(pk_attname, *attnames):
            found[pk] = tuple(values)
    return found


def load_by_pk(model: type[models.Model], using: str, pks: Sequence[Any]) -> dict[Any, Any]:
    """The rows with these primary keys, whole (never ``.only()``: a receiver reading any field must not
    cost a query per row), from the base manager, keyed by pk: one SELECT per chunk of keys."""
    found: dict[Any, Any] = {}
    manager = model._base_manager.db_manager(using)
    for chunk in chunks(list(dict.fromkeys(pks))):
        queryset = manager.all()
        queryset.query.where.add(pk_in(model, connections[using], chunk), AND)
        for row in fetch_rows(queryset):
            found[row.pk] = row
    return found


def selects_bare_column(field: models.Field[Any, Any], alias: str) -> bool:
    """Whether Django selects ``field`` as its bare ``alias.column``: its ``get_col`` is a plain ``Col`` of it,
    and the column's output field formats nothing (``Field.select_format``; GeoDjango's geometry fields and
    a field reading its column through SQL override it). Only then may SQL we write ourselves (``save()``'s
    old row, ``UPDATE ... RETURNING``) name the column as it is."""
    col = field.get_col(alias)
    return (
        type(col) is Col
        and col.target is field
        and col.alias == alias
        and getattr(col.output_field.select_format, "__func__", None) is models.Field.select_format
    )


_ONE_ROW: dict[tuple[type, str], tuple[str, list[Any], Query] | None] = {}


def load_one(model: type[models.Model], using: str, pk: Any) -> Any:
    """``model._base_manager.db_manager(using).filter(pk=pk)``'s row, or None: for a single-table model
    with Django's plain base manager, one ``SELECT <columns> FROM <table> WHERE <pk> = %s`` compiled once
    per model and database (no queryset to clone, no lookup to build per call), read and converted as
    Django reads it and built as :func:`fetch_rows` builds rows (``Model.from_db`` when the model needs
    Django's own construction). Any other model, or one with a field Django does not select as its bare
    column (:func:`selects_bare_column`), goes through the queryset."""
    opts = model._meta
    connection = connections[using]
    key = (model, using)
    if key in _ONE_ROW:
        plan = _ONE_ROW[key]
    else:
        plan = None
        fields = opts.concrete_fields
        if (
            opts.base_manager_name is None
            and not has_parent_tables(model)
            and opts.pk in fields
            and all(selects_bare_column(f, opts.db_table) for f in fields)
        ):
            quote = connection.ops.quote_name
            table = quote(opts.db_table)
            sql = (
                f"SELECT {', '.join(f'{table}.{quote(f.column)}' for f in fields)} FROM {table} "
                f"WHERE {table}.{quote(opts.pk.column)} = %s"
            )
            plan = (sql, [f.get_col(opts.db_table) for f in fields], Query(model))
        _ONE_ROW[key] = plan
    if plan is None:
        for row in model._base_manager.db_manager(using).filter(pk=pk):
            return row
        return None
    sql, columns, query = plan
    param = opts.pk.get_db_prep_value(opts.pk.get_prep_value(pk), connection, prepared=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        row = cursor.fetchone()
    if row is None:
        return None
    converters = connection.ops.compiler("SQLCompiler")(query, connection, using).get_converters(columns)
    if converters:
        row = _row_converter(len(columns), converters, connection)(row)
    if can_build_without_init(model):
        found: list[Any] = []
        record_loop(model, [whole_row(model)])((row,), (), using, found)
        return found[0]
    return model.from_db(using, [f.attname for f in opts.concrete_fields], row)


def pk_in(model: type[models.Model], connection: Any, values: Iterable[Any]) -> ExtraWhere:
    """``pk IN (...)``: see :func:`column_in`."""
    return column_in(model, model._meta.pk, connection, values)


def column_in(
    model: type[models.Model], field: models.Field[Any, Any], connection: Any, values: Iterable[Any]
) -> ExtraWhere:
    """``field IN (...)`` (a column of ``model``'s own table) as one WHERE clause with the values prepared
    once: Django's ``__in`` builds and prepares a lookup value per item. On PostgreSQL one array parameter
    (``= ANY(%s)``), not a placeholder per value (the driver would parse thousands of them)."""
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(field.column)}"
    values = list(values)
    plain = _PLAIN_TYPES.get(type(field))
    if plain is not None and all(type(value) is plain for value in values):
        params = values  # Django's own field classes send these values as they are
        if connection.vendor == "postgresql":
            # One array literal (a single str parameter): the driver would adapt each item of a list
            # on its own (about 250 bytes per value, for the duration of the query).
            return ExtraWhere([f"{column} = ANY(%s::{_PG_ARRAYS[plain]})"], [_pg_array_literal(values, plain)])
    else:
        prepare = field.get_db_prep_value
        params = [prepare(value, connection) for value in values]
    if connection.vendor == "postgresql":
        # django-stubs types ExtraWhere's params as flat str/int lists; Django hands them to the driver as they are.
        return ExtraWhere([f"{column} = ANY(%s)"], [params])  # type: ignore[arg-type]  # one list parameter
    return ExtraWhere([f"{column} IN ({', '.join(['%s'] * len(params))})"], params)


_PG_ARRAYS = {int: "bigint[]", str: "text[]"}


def _pg_array_literal(values: list[Any], kind: type) -> str:
    """A PostgreSQL array literal of ``int`` or ``str`` values: ``{1,2}`` / ``{"a","b \\"c\\""}``."""
    if kind is int:
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def update_by_pks(
    queryset: models.QuerySet[Any],
    pks: Sequence[Any],
    kwargs: dict[str, Any],
    returning: Sequence[models.Field[Any, Any]] = (),
    receive: Callable[[Sequence[Any]], None] | None = None,
) -> int:
    """``queryset.filter(pk__in=chunk).update(**kwargs)`` per chunk of ``pks``, without building a lookup
    per key (see :func:`pk_in`); returns the row count. With ``returning`` fields (``UPDATE ... RETURNING``:
    PostgreSQL, SQLite >= 3.35; single-table querysets only), ``receive((pk, value, ...))`` gets each
    updated row as written, converted as Django reads the columns."""
    model = queryset.model
    pk = model._meta.pk
    using = queryset.db
    connection = connections[using]
    quote = connection.ops.quote_name
    count = 0
    columns = [pk, *returning]
    for chunk in chunks(pks):
        target = queryset._chain()  # type: ignore[attr-defined]  # private QuerySet method, not in django-stubs
        target.query.where.add(pk_in(model, connection, chunk), AND)
        if not returning:
            count += target.update(**kwargs)
            continue
        query = target.query.chain(UpdateQuery)
        query.add_update_values(kwargs)
        compiler = query.get_compiler(using)
        sql, sql_params = compiler.as_sql()
        sql += " RETURNING " + ", ".join(quote(f.column) for f in columns)
        with connection.cursor() as cursor:
            cursor.execute(sql, sql_params)
            fetched = cursor.fetchall()
        count += len(fetched)
        rows: Iterable[Any] = fetched
        converters = compiler.get_converters([f.get_col(model._meta.db_table) for f in columns])
        if converters:
            rows = map(_row_converter(len(columns), converters, connection), rows)
        assert receive is not None, "update_by_pks(returning=...) needs receive"
        for row in rows:
            receive(row)
    return count


def can_return_updated(connection: Any) -> bool:
    """Whether ``UPDATE ... RETURNING`` works here (PostgreSQL; SQLite from 3.35, like its INSERT)."""
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and bool(connection.features.can_return_columns_from_insert)
