"""Record builders: model instances built without ``__init__``, as Django itself would build them.

Contract: one rule, :func:`can_build_without_init`, says when an instance of a model may be built by filling
its ``__dict__`` instead of through the class (``Model(...)``, ``Model.from_db``). For a model it accepts,
:func:`new_record_factory` builds the same new instances as ``Model(**values)`` (``_state.adding=True``), and
:func:`fetch_rows` and :func:`record_loop` the same loaded instances as Django (same attributes,
``_state.adding=False``, ``_state.db``, with a slotted :class:`RecordState`) for a queryset
:func:`plain_select` accepts. The loops and row converters are generated source (``exec``) compiled once per
model and layout; only positions and checked identifiers are interpolated. Any other model or queryset goes
through Django's own construction. Differential tests: tests/test_builders.py (property-based, against
``Model(**values)`` and ``list(queryset)``) and tests/test_fast_records.py.
"""

from __future__ import annotations

import inspect
import keyword
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models.base import DEFERRED, ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.db.models.sql.compiler import cursor_iter
from django.db.models.sql.constants import CURSOR, GET_ITERATOR_CHUNK_SIZE

from .values import _IMMUTABLE, own_value

__all__ = [
    "RecordState",
    "can_build_without_init",
    "clone_record",
    "fetch_rows",
    "new_record_factory",
    "plain_select",
    "record_loop",
    "select_blocks",
    "whole_row",
]


_PLAIN_DESCRIPTORS = frozenset({DeferredAttribute, ForeignKeyDeferredAttribute})


_BUILDS_PLAINLY: dict[type, bool] = {}


_CONVERTERS: dict[Any, Callable[..., Callable[[Sequence[Any]], Any]]] = {}


_LOOPS: dict[tuple[type, tuple[tuple[tuple[str, int], ...], ...]], Callable[..., None]] = {}


class RecordState(ModelState):
    """Django's ``ModelState`` in slots: the copies we make (one per row of a bulk write) carry no
    per-instance ``__dict__`` for their state, less than half the memory of a ``ModelState``."""

    __slots__ = ("_fields_cache", "adding", "db")

    def __init__(self, db: str | None, adding: bool) -> None:
        self.db = db
        self.adding = adding

    @property
    def fields_cache(self) -> dict[str, Any]:
        """Django's related-object cache of the instance, created on first use (as ``ModelState`` does)."""
        try:
            return self._fields_cache
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


def can_build_without_init(model: type[models.Model]) -> bool:
    """Whether instances of ``model`` may be built by filling their ``__dict__`` instead of through the class.

    The one rule for every builder here (new records, loaded rows) and for bulk-drf's new rows. True when
    nothing Django's own construction runs could tell the difference:

    - ``model`` is concrete (not abstract), with a primary key that is one concrete field (not a
      ``CompositePrimaryKey``);
    - its construction is Django's: no class of its MRO but ``Model`` defines ``__init__`` (a mixin placed
      after ``Model`` counts: ``Model.__init__`` ends with ``super().__init__()``), none but ``object``
      defines ``__new__`` or ``__setattr__``, and ``from_db`` is ``Model.from_db``;
    - every concrete field's attribute is a plain ``DeferredAttribute`` (``ForeignKeyDeferredAttribute`` for
      a foreign key's ``<name>_id``): a property, a ``FileField``'s or any other descriptor may convert what
      it is given, so ``setattr`` must run it;
    - no ``pre_init``/``post_init`` receiver for ``model`` or for every sender (they would miss the instance;
      an ``ImageField`` with dimension fields connects one).

    Multi-table inheritance qualifies (the parent links and the parents' columns are concrete fields, set
    like any other), and so do ``GenericForeignKey`` and other private fields (``__init__`` sets them only
    when given one; :func:`new_record_factory` sets them with ``setattr``). Deferred loading is a queryset's
    matter (:func:`plain_select`). The class-level part is worked out once per model; receivers are checked
    on every call, as they can connect at any time.
    """
    cached = _BUILDS_PLAINLY.get(model)
    if cached is None:
        cached = _BUILDS_PLAINLY[model] = _constructed_like_model(model)
    return cached and not pre_init.has_listeners(model) and not post_init.has_listeners(model)


def _constructed_like_model(model: type[models.Model]) -> bool:
    """The class-level part of :func:`can_build_without_init`."""
    opts = model._meta
    if opts.abstract or opts.pk is None or opts.pk not in opts.concrete_fields:
        return False
    for cls in model.__mro__:
        own = vars(cls)
        if cls is not object and ("__new__" in own or "__setattr__" in own):
            return False
        if cls not in (models.Model, object) and "__init__" in own:
            return False
    return model.from_db.__func__ is models.Model.from_db.__func__ and all(  # type: ignore[attr-defined]  # a classmethod's function
        type(inspect.getattr_static(model, f.attname, None)) in _PLAIN_DESCRIPTORS for f in opts.concrete_fields
    )


def new_record_factory(model: type[models.Model]) -> Callable[[Mapping[str, Any]], models.Model]:
    """``build(values)``: a new, unsaved instance of ``model`` with ``values`` set, the instance
    ``obj = model(); for name, value in values.items(): setattr(obj, name, value)`` gives, which is field
    for field what ``model(**values)`` gives when ``values`` names each field once.

    When :func:`can_build_without_init` accepts ``model`` (asked once, here), ``build`` fills the instance's
    ``__dict__`` as ``Model.__init__`` would (a fresh ``ModelState``, then every concrete column's default in
    field order: constant defaults worked out once, callable and database defaults per instance) and stores
    plain column values directly; foreign keys, private fields, properties and other names go through
    ``setattr``. Otherwise ``build`` is exactly ``model()`` plus ``setattr``. The functions are named
    ``build`` and ``plain`` (the tests tell them apart by name).
    """
    if not can_build_without_init(model):

        def plain(values: Mapping[str, Any]) -> models.Model:
            obj = model()
            for name, value in values.items():
                setattr(obj, name, value)
            return obj

        return plain
    template, per_row, direct = _new_record_plan(model)
    new = object.__new__

    def build(values: Mapping[str, Any]) -> models.Model:
        obj = new(model)
        attrs = obj.__dict__
        attrs.update(template)
        attrs["_state"] = ModelState()
        for attname, default in per_row:
            value = default()
            if value is DEFERRED:
                del attrs[attname]
            else:
                attrs[attname] = value
        for name, value in values.items():
            if name in direct:
                attrs[name] = value
            else:
                setattr(obj, name, value)
        return obj

    return build


def _new_record_plan(
    model: type[models.Model],
) -> tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]], frozenset[str]]:
    """``(template, per_row, direct)`` for :func:`new_record_factory`: the ``__dict__`` every new instance starts
    from (``_state`` first, then each column's constant default, in field order), the columns whose default is
    computed per instance, and the attributes a value is stored into directly (plain columns: ``setattr`` on a
    plain ``DeferredAttribute`` stores into ``__dict__``)."""
    template: dict[str, Any] = {"_state": None}
    per_row: list[tuple[str, Callable[[], Any]]] = []
    direct: set[str] = set()
    for f in model._meta.concrete_fields:
        if f.column is None or getattr(f, "generated", False):  # Model.__init__ skips these too
            continue
        if type(inspect.getattr_static(model, f.attname, None)) is DeferredAttribute:
            direct.add(f.attname)
        if _constant_default(f):
            value = f.get_default()
            if value is not DEFERRED:
                template[f.attname] = value
        else:
            template[f.attname] = None  # keeps the field's place; set per instance
            per_row.append((f.attname, f.get_default))
    return template, per_row, frozenset(direct)


def _constant_default(f: models.Field[Any, Any]) -> bool:
    """``f.get_default()`` returns the same value every time: ``Field.get_default`` with a non-callable
    default, or with no default at all (``None`` or ``""``); not a callable or a database default."""
    cls = type(f)
    if (
        cls.get_default is not models.Field.get_default
        or cls._get_default is not models.Field._get_default  # type: ignore[attr-defined]  # private, not in the stubs
        or cls.has_default is not models.Field.has_default
    ):
        return False
    if getattr(f, "has_db_default", lambda: False)():
        return False
    return not (f.has_default() and callable(f.default))


def plain_select(queryset: models.QuerySet[Any], extra: Sequence[str] = ()) -> bool:
    """Whether ``queryset`` loads whole rows Django would build with ``from_db`` and nothing else: no
    ``select_related``/``defer``/``values``/``extra``, only the annotations named in ``extra``, and a model
    :func:`record_loop` can build exactly as Django does."""
    query = queryset.query
    return (
        queryset._iterable_class is ModelIterable
        and not query.select_related
        and query.deferred_loading == (frozenset(), True)
        and not query.extra
        and set(query.annotations) == set(extra)
        and can_build_without_init(queryset.model)
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
            [
                "def make(F, X, cn):",
                *binds,
                "    def convert(v):",
                f"        return ({', '.join(cells)},)",
                "    return convert",
            ]
        )
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # our own source, only positions interpolated
        make = namespace["make"]
        _CONVERTERS[shape] = make
    functions = {pos: convs for pos, (convs, _) in converters.items()}
    expressions = {pos: expression for pos, (_, expression) in converters.items()}
    return make(functions, expressions, connection)


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
            lines += [
                "        st = new(State)",
                "        st.db = db",
                "        st.adding = False",
                "        obj = new(cls)",
                "        obj._state = st",
            ]
            for attname, (kind, index) in zip(attnames, layout, strict=True):
                if kind == "own":
                    lines += [
                        f"        x = v[{index}]",
                        f"        obj.{attname} = x if type(x) in immutable else own(x)",
                    ]
                elif kind == "copy":
                    lines.append(f"        obj.{attname} = own(c[{index}])")
                else:
                    lines.append(f"        obj.{attname} = {'v' if kind == 'row' else 'c'}[{index}]")
            lines.append(f"        add{n}(obj)")
        namespace: dict[str, Any] = {
            "new": object.__new__,
            "cls": model,
            "State": RecordState,
            "immutable": _IMMUTABLE,
            "own": own_value,
        }
        exec("\n".join(lines), namespace)  # our own source: identifiers checked above
        loop = namespace["loop"]
    else:  # an attname source code cannot spell (add_to_class, a keyword, "\ufb01le"): the same, with setattr
        plans = [
            [
                (a, kind in ("row", "own"), kind in ("own", "copy"), index)
                for a, (kind, index) in zip(attnames, layout, strict=True)
            ]
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
