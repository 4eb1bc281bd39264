"""Loading, copying and comparing rows: the few queries a write with receivers adds."""

from __future__ import annotations

import copy
import datetime
import inspect
import keyword
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from django.db import connections, models
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.fields.files import FieldFile
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.db.models.sql import Query, UpdateQuery
from django.db.models.sql.compiler import cursor_iter
from django.db.models.sql.constants import CURSOR, GET_ITERATOR_CHUNK_SIZE
from django.db.models.sql.where import AND, ExtraWhere

from .conf import settings
from .mti import has_parent_tables

__all__ = [
    "RecordState",
    "can_return_updated",
    "changed_against",
    "changed_by_receivers",
    "changed_fields",
    "clone_record",
    "fetch_rows",
    "holds_immutable_values",
    "is_immutable",
    "load_by_pk",
    "load_one",
    "own_value",
    "pk_is_set",
    "plain_select",
    "record_loop",
    "select_blocks",
    "selects_bare_column",
    "share_equal_values",
    "stored_values",
    "update_by_pks",
    "whole_row",
    "writable_fields",
]

# Exactly these classes (not subclasses, which may prepare values their own way) send a value of this
# Python type to the database unchanged.
_PLAIN_TYPES: dict[type, type] = {
    **{
        cls: int
        for cls in (
            models.AutoField, models.BigAutoField, models.SmallAutoField,
            models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
        )
    },
    **{cls: str for cls in (models.CharField, models.TextField, models.SlugField, models.EmailField)},
}
_PLAIN_DESCRIPTORS = frozenset({DeferredAttribute, ForeignKeyDeferredAttribute})
_PLAIN_BUILD: dict[type, bool] = {}
_CONVERTERS: dict[Any, Callable[..., Any]] = {}
_LOOPS: dict[tuple[type, tuple[tuple[tuple[str, int], ...], ...]], Callable[..., None]] = {}
_WRITABLE: dict[type, tuple[models.Field[Any, Any], ...]] = {}


# Values of exactly these types can be shared between records: nothing can change them in place.
_IMMUTABLE: frozenset[type] = frozenset(
    {
        type(None), bool, int, float, complex, str, bytes, Decimal, uuid.UUID,
        datetime.date, datetime.datetime, datetime.time, datetime.timedelta,
    }
)
# Exactly these field classes read values of those types (or None) from the database.
_IMMUTABLE_FIELDS: frozenset[type] = frozenset(
    {
        models.AutoField, models.BigAutoField, models.SmallAutoField,
        models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
        models.PositiveIntegerField, models.PositiveBigIntegerField, models.PositiveSmallIntegerField,
        models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField,
        models.FilePathField, models.GenericIPAddressField, models.BooleanField, models.DecimalField,
        models.FloatField, models.DateField, models.DateTimeField, models.TimeField, models.DurationField,
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
        return holds_immutable_values(field.target_field)  # type: ignore[attr-defined]
    return kind in _IMMUTABLE_FIELDS


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


class RecordState(ModelState):
    """Django's ``ModelState`` in slots: the copies we make (one per row of a bulk write) carry no
    per-instance ``__dict__`` for their state, less than half the memory of a ``ModelState``."""

    __slots__ = ("_fields_cache", "adding", "db")

    def __init__(self, db: str | None, adding: bool) -> None:
        self.db = db
        self.adding = adding

    @property  # type: ignore[override]
    def fields_cache(self) -> dict[str, Any]:
        """Django's related-object cache of the instance, created on first use (as ``ModelState`` does)."""
        try:
            return self._fields_cache  # type: ignore[no-any-return]
        except AttributeError:
            self._fields_cache: dict[str, Any] = {}
            return self._fields_cache

    @fields_cache.setter
    def fields_cache(self, value: dict[str, Any]) -> None:
        self._fields_cache = value

    # Pickling and copy.copy: Django 6.1's ModelState.__getstate__ returns only ``__dict__``, which
    # would drop the slots and bring back the class defaults (adding=True: a later save() would INSERT).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(getattr(self, "__dict__", ()))
        state.pop("peers", None)  # Django 6.1: weak references, not picklable (as ModelState drops them)
        state["db"], state["adding"] = self.db, self.adding
        if hasattr(self, "_fields_cache"):
            state["fields_cache"] = self._fields_cache
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)


def clone_record(obj: Any) -> Any:
    """A detached copy of a model instance: same field values, own state, no cached relations."""
    copy = obj.__class__.__new__(obj.__class__)
    copy.__dict__.update(obj.__dict__)
    copy._state = RecordState(obj._state.db, obj._state.adding)
    return copy


def chunk_size() -> int:
    """``BULK_SIGNALS_IN_CHUNK_SIZE``: the most values in one ``IN (...)``."""
    return settings.IN_CHUNK_SIZE


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` cut into ``BULK_SIGNALS_IN_CHUNK_SIZE`` slices (one ``IN (...)`` each)."""
    size = chunk_size()
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _builds_like_django(model: type[models.Model]) -> bool:
    """Whether an instance of ``model`` can be built by filling its ``__dict__``, exactly as ``from_db``
    would build it: Django's own ``__init__``/``from_db``, no pre_init/post_init receivers, and plain
    field attributes (a custom descriptor may convert what it is given)."""
    cached = _PLAIN_BUILD.get(model)
    if cached is None:
        cached = (
            model.__init__ is models.Model.__init__  # type: ignore[comparison-overlap]
            and model._meta.pk in model._meta.concrete_fields  # not a composite primary key
            and model.from_db.__func__ is models.Model.from_db.__func__  # type: ignore[attr-defined]
            and all(
                type(inspect.getattr_static(model, f.attname, None)) in _PLAIN_DESCRIPTORS
                for f in model._meta.concrete_fields
            )
        )
        _PLAIN_BUILD[model] = cached
    return cached and not pre_init.has_listeners(model) and not post_init.has_listeners(model)


def plain_select(queryset: models.QuerySet[Any], extra: Sequence[str] = ()) -> bool:
    """Whether ``queryset`` loads whole rows Django would build with ``from_db`` and nothing else: no
    ``select_related``/``defer``/``values``/``extra``, only the annotations named in ``extra``, and a model
    :func:`record_loop` can build exactly as Django does."""
    query = queryset.query
    return (
        queryset._iterable_class is ModelIterable  # type: ignore[attr-defined]
        and not query.select_related
        and query.deferred_loading == (frozenset(), True)
        and not query.extra
        and set(query.annotations) == set(extra)
        and _builds_like_django(queryset.model)
    )


def select_blocks(queryset: models.QuerySet[Any], names: Sequence[str]) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of ``queryset.values_list(*names)``, converted as Django converts them, in blocks of
    ``GET_ITERATOR_CHUNK_SIZE`` rows read from the cursor one block at a time: the caller's objects replace
    each block of raw rows as it goes (Django's non-chunked read keeps every raw row until the last
    instance is built). One ordinary cursor (never a server-side one): the same single query as
    ``list(queryset)``."""
    values = queryset.values_list(*names)
    compiler = values.query.get_compiler(values.db)
    cursor = compiler.execute_sql(CURSOR)
    if cursor is None:  # the WHERE can match nothing (``pk__in=[]``): no query
        return
    blocks = cursor_iter(
        cursor,
        compiler.connection.features.empty_fetchmany_value,
        compiler.col_count if compiler.has_extra_select else None,
        GET_ITERATOR_CHUNK_SIZE,
    )
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = compiler.get_converters(fields)
    if not converters:
        yield from blocks
        return
    convert = _row_converter(len(fields), converters, compiler.connection)
    for block in blocks:
        yield list(map(convert, block))


def _row_converter(width: int, converters: dict[int, Any], connection: Any) -> Callable[[Sequence[Any]], Any]:
    """``convert(raw_row) -> row``: Django's ``apply_converters`` for one row, compiled for this shape of
    converters (the same calls, in the same order, without its per-row loop and list copy)."""
    shape = (width, tuple((pos, len(convs)) for pos, (convs, _) in sorted(converters.items())))
    make = _CONVERTERS.get(shape)
    if make is None:
        binds: list[str] = []
        cells = []
        for pos in range(width):
            cell = f"v[{pos}]"
            count = dict(shape[1]).get(pos, 0)
            for n in range(count):
                binds.append(f"    f{pos}_{n} = F[{pos}][{n}]")
                cell = f"f{pos}_{n}({cell}, x{pos}, cn)"
            if count:
                binds.append(f"    x{pos} = X[{pos}]")
            cells.append(cell)
        code = "\n".join(
            ["def make(F, X, cn):", *binds, "    def convert(v):", f"        return ({', '.join(cells)},)",
             "    return convert"]
        )
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # our own source, only positions interpolated
        make = namespace["make"]
        _CONVERTERS[shape] = make
    functions = {pos: convs for pos, (convs, _) in converters.items()}
    expressions = {pos: expression for pos, (_, expression) in converters.items()}
    return make(functions, expressions, connection)  # type: ignore[no-any-return]


def record_loop(model: type[models.Model], layouts: Sequence[Sequence[tuple[str, int]]]) -> Callable[..., None]:
    """``loop(rows, constants, db, *outs)``: for each row, one new instance of ``model`` per layout, appended
    to the matching ``outs`` list, built as ``from_db`` builds it (a fresh :class:`RecordState` with
    ``adding=False`` and ``db``, then one attribute per concrete field, in field order); in a layout,
    ``("row", j)`` / ``("const", j)`` gives the ``i``-th concrete field ``row[j]`` / ``constants[j]``;
    ``("own", j)`` gives it ``row[j]`` when that is of an immutable type (:func:`is_immutable`, by exact
    type) and else its own copy (:func:`own_value`), and ``("copy", j)`` its own copy of ``constants[j]``.

    Compiled once per model and layouts: the attributes are set one by one by attribute stores (as
    Django's ``__init__`` does with ``setattr``), so CPython keeps the values in the instance's compact
    shared-key storage (filling ``obj.__dict__`` would give every instance a dict of its own, about 60
    bytes more per row), and the whole block is built in one call, without a function call per row."""
    key = (model, tuple(tuple(layout) for layout in layouts))
    loop = _LOOPS.get(key)
    if loop is not None:
        return loop
    attnames = [f.attname for f in model._meta.concrete_fields]
    outs = [f"out{n}" for n in range(len(layouts))]
    if all(_plain_identifier(a) for a in attnames):
        lines = [f"def loop(rows, c, db, {', '.join(outs)}):"]
        lines += [f"    add{n} = out{n}.append" for n in range(len(layouts))]
        lines.append("    for v in rows:")
        for n, layout in enumerate(layouts):
            lines += ["        st = new(State)", "        st.db = db", "        st.adding = False",
                      "        obj = new(cls)", "        obj._state = st"]
            for attname, (kind, index) in zip(attnames, layout, strict=True):
                if kind == "own":
                    lines += [f"        x = v[{index}]",
                              f"        obj.{attname} = x if type(x) in immutable else own(x)"]
                elif kind == "copy":
                    lines.append(f"        obj.{attname} = own(c[{index}])")
                else:
                    lines.append(f"        obj.{attname} = {'v' if kind == 'row' else 'c'}[{index}]")
            lines.append(f"        add{n}(obj)")
        namespace: dict[str, Any] = {
            "new": object.__new__, "cls": model, "State": RecordState, "immutable": _IMMUTABLE, "own": own_value,
        }
        exec("\n".join(lines), namespace)  # our own source: identifiers checked above
        loop = namespace["loop"]
    else:  # an attname source code cannot spell (add_to_class, a keyword, "\ufb01le"): the same, with setattr
        plans = [
            [(a, kind in ("row", "own"), kind in ("own", "copy"), index)
             for a, (kind, index) in zip(attnames, layout, strict=True)]
            for layout in layouts
        ]

        def loop(rows: Iterable[Sequence[Any]], c: Sequence[Any], db: str | None, *out: list[Any]) -> None:
            for v in rows:
                for plan, found in zip(plans, out, strict=True):
                    obj = object.__new__(model)
                    obj._state = RecordState(db, False)
                    for attname, from_row, owned, index in plan:
                        value = v[index] if from_row else c[index]
                        setattr(obj, attname, own_value(value) if owned else value)
                    found.append(obj)

    _LOOPS[key] = loop
    return loop


def _plain_identifier(name: str) -> bool:
    """Whether ``obj.<name> = ...`` in generated source stores the attribute ``name``: an identifier, not a
    keyword, and NFKC-normal (Python's parser normalises identifiers: ``\ufb01le`` would store ``file``)."""
    return name.isidentifier() and not keyword.iskeyword(name) and unicodedata.normalize("NFKC", name) == name


def whole_row(model: type[models.Model]) -> tuple[tuple[str, int], ...]:
    """The :func:`record_loop` layout of a row of ``values_list(*every concrete attname)``."""
    return tuple(("row", i) for i in range(len(model._meta.concrete_fields)))


def fetch_rows(queryset: models.QuerySet[Any]) -> list[Any]:
    """``list(queryset)``: for a :func:`plain_select` queryset the same instances as Django's, built by
    :func:`record_loop` from ``values_list`` rows read in blocks (no pre_init/post_init sends, no
    ``__init__`` argument handling, a slotted :class:`RecordState`): about half the time and less
    memory. Any other queryset is simply listed."""
    if not plain_select(queryset):
        return list(queryset)
    model = queryset.model
    loop = record_loop(model, [whole_row(model)])
    db = queryset.db
    rows: list[Any] = []
    for block in select_blocks(queryset, [f.attname for f in model._meta.concrete_fields]):
        loop(block, (), db, rows)
    return rows


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
    if _builds_like_django(model):
        found: list[Any] = []
        record_loop(model, [whole_row(model)])((row,), (), using, found)
        return found[0]
    return model.from_db(using, [f.attname for f in opts.concrete_fields], row)


def pk_in(model: type[models.Model], connection: Any, values: Iterable[Any]) -> ExtraWhere:
    """``pk IN (...)``: see :func:`column_in`."""
    return column_in(model, model._meta.pk, connection, values)  # type: ignore[arg-type]


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
        return ExtraWhere([f"{column} = ANY(%s)"], [params])
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
        target = queryset._chain()  # type: ignore[attr-defined]
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
            rows: Iterable[Any] = cursor.fetchall()
        count += len(rows)  # type: ignore[arg-type]
        converters = compiler.get_converters([f.get_col(model._meta.db_table) for f in columns])
        if converters:
            rows = map(_row_converter(len(columns), converters, connection), rows)
        for row in rows:
            receive(row)
    return count


def can_return_updated(connection: Any) -> bool:
    """Whether ``UPDATE ... RETURNING`` works here (PostgreSQL; SQLite from 3.35, like its INSERT)."""
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and bool(connection.features.can_return_columns_from_insert)


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
