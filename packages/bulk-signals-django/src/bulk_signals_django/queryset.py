"""``BulkSignalQuerySet``: every bulk write path, with its query plan in one method each.

With no receiver for the model (or signals bypassed) each method is Django's own call, unchanged.
With receivers, each write runs in :func:`~.transactions.write_transaction` (Django's
``atomic(savepoint=False)``) as: [load the affected rows once] -> validate -> before -> write -> after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Self

from asgiref.sync import sync_to_async
from django.db import connections, models
from django.db.models import ExpressionWrapper
from django.db.models.deletion import Collector
from django.db.models.sql.where import AND

from . import signals as s
from .bypass import bypass_signals as _bypass_block
from .dispatch import emit, wants
from .events import BulkEvent, Operation, Source
from .handover import forget_rows_read, take_rows_read
from .mti import has_parent_tables, mti_bulk_create, table_chain
from .preflight import django_refuses
from .records import (
    RecordState,
    can_return_updated,
    changed_against,
    changed_by_receivers,
    changed_fields,
    chunks,
    clone_record,
    fetch_rows,
    holds_immutable_values,
    is_immutable,
    load_by_pk,
    own_value,
    pk_in,
    pk_is_set,
    plain_select,
    record_loop,
    select_blocks,
    selects_bare_column,
    share_equal_values,
    stored_values,
    update_by_pks,
    whole_row,
    writable_fields,
)
from .transactions import before_writing, validate, write_transaction
from .upsert import classify, forget_known, split_ignored

__all__ = ["BulkSignalQuerySet"]

# Manager.create() -> Model.save(): tells save() which source to report.
SAVE_SOURCE: ContextVar[Source | None] = ContextVar("bulk_signals_save_source", default=None)
_PENDING = "_bulk_signals_pending_"


def _skipping(model: type, bypass: bool) -> contextlib.AbstractContextManager[None]:
    return _bypass_block(model) if bypass else contextlib.nullcontext()


def _send(signal: Any, event: BulkEvent) -> None:
    if event.new_records or event.old_records:
        emit(signal, event)


def _own_argument(value: Any) -> Any:
    """An ``update()`` argument as the event's ``meta["kwargs"]`` shows it: expressions and model
    instances as given, other values as :func:`own_value` copies them."""
    if hasattr(value, "resolve_expression") or isinstance(value, models.Model):
        return value
    return own_value(value)


class BulkSignalQuerySet(models.QuerySet[Any]):
    """A QuerySet whose writes send the bulk signals. Signatures and return values are Django's;
    the extras ``bypass_signals`` and ``bypass_validation`` are keyword-only."""

    if TYPE_CHECKING:
        # Django's private QuerySet state, used as Django's own write methods use it (django-stubs leaves it out).
        _db: str | None
        _hints: dict[str, Any]
        _fields: tuple[str, ...] | None

        def _chain(self) -> Self: ...

    # -- helpers ------------------------------------------------------------------------------

    def _vanilla(self) -> models.QuerySet[Any]:
        """The same query as a plain Django QuerySet: Django's own write methods, no signals, no recursion."""
        clone: models.QuerySet[Any] = models.QuerySet(
            model=self.model, query=self.query.chain(), using=self._db, hints=self._hints
        )
        clone._for_write = self._for_write  # type: ignore[attr-defined]  # private QuerySet state, not in django-stubs
        return clone

    def _signals_on(self, signal_set: tuple[Any, ...], bypass_signals: bool, bypass_validation: bool) -> bool:
        if bypass_signals:
            return False
        wanted = signal_set[1:] if bypass_validation else signal_set
        return wants(self.model, *wanted)

    def _write_db(self) -> str:
        """The database Django writes to: the router's ``db_for_write`` (Django sets ``_for_write`` first too)."""
        self._for_write = True
        return self.db

    def _event(self, operation: Operation, source: Source, using: str, **kwargs: Any) -> BulkEvent:
        return BulkEvent(model=self.model, operation=operation, source=source, using=using, **kwargs)

    # -- create -------------------------------------------------------------------------------

    def create(self, *, bypass_signals: bool = False, bypass_validation: bool = False, **kwargs: Any) -> Any:
        """Django's ``create()``; the model's ``save()`` reports it as ``Source.CREATE``."""
        token = SAVE_SOURCE.set(Source.CREATE)
        try:
            with _skipping(self.model, bypass_signals):
                return super().create(**kwargs)
        finally:
            SAVE_SOURCE.reset(token)

    create.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def bulk_create(
        self,
        objs: Iterable[Any],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Iterable[str] | None = None,
        unique_fields: Iterable[str] | None = None,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> list[Any]:
        """Django's ``bulk_create()``, also for multi-table inheritance children.

        With ``update_conflicts=True`` (an upsert) the rows that already exist (one set-based SELECT)
        get update signals with their old values; the others get create signals.
        """
        model = self.model
        objs = list(objs)
        mti = has_parent_tables(model)
        if mti and (ignore_conflicts or update_conflicts):
            raise ValueError(
                f"bulk_create() of the multi-table inherited model {model.__name__} does not support "
                "ignore_conflicts or update_conflicts"
            )
        update_fields = list(update_fields) if update_fields is not None else None
        unique_fields = list(unique_fields) if unique_fields is not None else None
        signal_set = s.CREATE_SIGNALS + (s.UPDATE_SIGNALS if update_conflicts else ())
        on = bool(objs) and self._signals_on(signal_set, bypass_signals, bypass_validation)
        if on and update_conflicts:
            on = wants(model, *s.CREATE_SIGNALS) or wants(model, *s.UPDATE_SIGNALS)
        if not on:
            if update_conflicts:
                forget_known(model)  # a hand-over (rows_known) serves the next upsert of the model, this one
            if mti:
                return self._mti_bulk_create(objs, batch_size)
            return self._vanilla().bulk_create(
                objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
            )
        using = self._write_db()
        self._check_bulk_create(objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields)
        with write_transaction(using):
            if update_conflicts and unique_fields:
                fresh, matched = classify(model, using, objs, unique_fields)
                source = Source.UPSERT
            elif ignore_conflicts:
                fresh, matched = split_ignored(model, using, objs), []
                source = Source.BULK_CREATE
            else:
                fresh, matched = objs, []
                source = Source.UPSERT if update_conflicts else Source.BULK_CREATE
            meta = {"unique_fields": tuple(unique_fields or ()), "update_conflicts": update_conflicts}
            created = self._event(Operation.CREATE, source, using, new_records=tuple(fresh), meta=meta)
            updated = self._event(
                Operation.UPDATE,
                source,
                using,
                new_records=tuple(o for o, _ in matched),
                old_records=tuple(r for _, r in matched),
                update_fields=tuple(update_fields or ()),
                meta=meta,
            )
            if not bypass_validation:
                if created.new_records:
                    validate(s.bulk_validate_create, created)
                if updated.new_records:
                    validate(s.bulk_validate_update, updated)
            _send(s.bulk_pre_create, created)
            _send(s.bulk_pre_update, updated)
            if mti:
                mti_bulk_create(model, objs, using, batch_size)
            else:
                self._vanilla().bulk_create(
                    objs, batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
                )
            pk_attname = model._meta.pk.attname
            for obj, row in matched:
                if getattr(obj, pk_attname) is None:
                    setattr(obj, pk_attname, row.pk)
            _send(s.bulk_post_create, created)
            _send(s.bulk_post_update, updated)
        return objs

    bulk_create.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def _check_bulk_create(
        self,
        objs: list[Any],
        batch_size: int | None,
        ignore_conflicts: bool,
        update_conflicts: bool,
        update_fields: list[str] | None,
        unique_fields: list[str] | None,
    ) -> None:
        """Django's own checks of a ``bulk_create()`` call (options, objects), before any receiver or query."""
        using = self._write_db()
        if has_parent_tables(self.model):
            # Django refuses MTI children outright (we don't): its batch size check, on the root table.
            root: models.QuerySet[Any] = models.QuerySet(model=table_chain(self.model)[0], using=using)
            django_refuses(lambda: root.bulk_create([], batch_size), using)
            return
        vanilla = self._vanilla()
        # One object is enough for the options; every object gets Django's own per-object preparation
        # (primary key defaults, unsaved related objects), which its bulk_create would do after our receivers.
        django_refuses(
            lambda: vanilla.bulk_create(
                objs[:1], batch_size, ignore_conflicts, update_conflicts, update_fields, unique_fields
            ),
            using,
        )
        vanilla._prepare_for_bulk_create(objs)  # type: ignore[attr-defined]  # Django's private step, not in django-stubs

    def _check_bulk_update(self, objs: Sequence[Any], fields: list[str] | None, batch_size: int | None) -> None:
        """Django's own checks of a ``bulk_update()`` call, before any receiver or query. Without ``fields``
        (ours: the changed ones), Django's checks of everything but the field names."""
        using = self._write_db()
        names = fields if fields is not None else [f.name for f in writable_fields(self.model)][:1]
        if not names and fields is None:
            return
        missing_pk = [obj for obj in objs if not pk_is_set(obj)]
        sample = (missing_pk or list(objs))[:1]
        vanilla = self._vanilla()
        django_refuses(lambda: vanilla.bulk_update(sample, names, batch_size), using)
        if fields is not None and len(objs) > 1:
            written = [self.model._meta.get_field(name) for name in fields]
            for obj in objs[1:]:
                obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=written)

    def _mti_bulk_create(self, objs: list[Any], batch_size: int | None) -> list[Any]:
        self._check_bulk_create(objs, batch_size, False, False, None, None)
        if objs:
            using = self._write_db()
            with write_transaction(using):
                mti_bulk_create(self.model, objs, using, batch_size)
        return objs

    async def abulk_create(
        self,
        objs: Iterable[Any],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Iterable[str] | None = None,
        unique_fields: Iterable[str] | None = None,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> list[Any]:
        """Async ``bulk_create()``."""
        return await sync_to_async(self.bulk_create)(
            objs,
            batch_size,
            ignore_conflicts,
            update_conflicts,
            update_fields,
            unique_fields,
            bypass_signals=bypass_signals,
            bypass_validation=bypass_validation,
        )

    abulk_create.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    # -- update -------------------------------------------------------------------------------

    def bulk_update(
        self,
        objs: Iterable[Any],
        fields: Iterable[str] | None = None,
        batch_size: int | None = None,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> int:
        """Django's ``bulk_update()``; ``fields`` may be omitted: the changed ones are written.

        With receivers: one extra SELECT loads the old rows (whole) by pk (none for the rows a caller handed
        over with ``handover.rows_read``). Without receivers and
        without ``fields``, one SELECT of the stored values finds the changed fields (only those are
        written); with ``fields`` and no receivers, this is Django's call.
        """
        model = self.model
        objs = tuple(objs)
        fields = list(fields) if fields is not None else None
        if not objs or not self._signals_on(s.UPDATE_SIGNALS, bypass_signals, bypass_validation):
            forget_rows_read(model)  # a hand-over (rows_read) serves the next bulk_update of the model, this one
            if fields is None:
                if objs:
                    return self._bulk_update_changed(objs, batch_size)
                fields = [f.name for f in writable_fields(model)]  # Django's checks, then 0
            return self._vanilla().bulk_update(objs, fields, batch_size)
        self._check_bulk_update(objs, fields, batch_size)
        if fields is not None:
            fields = [model._meta.get_field(name).name for name in fields]
        using = self._write_db()
        with write_transaction(using):
            key = model._meta.pk.to_python  # "5" matches row 5, as in Django's UPDATE
            read = take_rows_read(model, using)  # rows the caller read under a lock (handover.rows_read)
            if read is None:
                old_by_pk = load_by_pk(model, using, [obj.pk for obj in objs])
            else:
                old_by_pk = {row.pk: row for row in read}
                missing = [obj.pk for obj in objs if key(obj.pk) not in old_by_pk]
                if missing:
                    old_by_pk.update(load_by_pk(model, using, missing))
            new = tuple(obj for obj in objs if key(obj.pk) in old_by_pk)
            old = tuple(old_by_pk[key(obj.pk)] for obj in new)
            del old_by_pk
            share_equal_values(model, zip(new, old, strict=True))
            if not new:
                return 0
            written = fields if fields is not None else changed_fields(model, zip(new, old, strict=True))
            event = self._event(
                Operation.UPDATE,
                Source.BULK_UPDATE,
                using,
                new_records=new,
                old_records=old,
                update_fields=tuple(written),
            )
            if not bypass_validation:
                validate(s.bulk_validate_update, event)
            emit(s.bulk_pre_update, event)
            if fields is None:  # before receivers may have changed more fields: write those too
                written = changed_fields(model, zip(new, old, strict=True))
            # Nothing changed: no UPDATE, and Django's answer (the rows matched) without asking.
            count = self._vanilla().bulk_update(new, written, batch_size) if written else len(new)
            if fields is None and tuple(written) != event.update_fields:
                event = self._event(
                    Operation.UPDATE,
                    Source.BULK_UPDATE,
                    using,
                    new_records=new,
                    old_records=old,
                    update_fields=tuple(written),
                )
            emit(s.bulk_post_update, event)
        return count

    bulk_update.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def _bulk_update_changed(self, objs: tuple[Any, ...], batch_size: int | None) -> int:
        """``bulk_update(objs)`` without receivers: write the fields that differ from the stored rows."""
        self._check_bulk_update(objs, None, batch_size)
        model = self.model
        key = model._meta.pk.to_python
        stored = stored_values(model, self._write_db(), [obj.pk for obj in objs])
        found = tuple(obj for obj in objs if key(obj.pk) in stored)
        names = changed_against(model, ((obj, stored[key(obj.pk)]) for obj in found))
        # Nothing changed: no UPDATE, and Django's answer (the rows matched) without asking.
        return self._vanilla().bulk_update(found, names, batch_size) if names else len(found)

    async def abulk_update(
        self,
        objs: Iterable[Any],
        fields: Iterable[str] | None = None,
        batch_size: int | None = None,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> int:
        """Async ``bulk_update()``."""
        return await sync_to_async(self.bulk_update)(
            objs, fields, batch_size, bypass_signals=bypass_signals, bypass_validation=bypass_validation
        )

    abulk_update.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def update(self, *, bypass_signals: bool = False, bypass_validation: bool = False, **kwargs: Any) -> int:
        """Django's ``update()``. Values may be plain, ``F()``, ``Subquery``, ``Case/When``...

        With receivers: one SELECT before the UPDATE loads the rows whole, their primary keys, and
        the pending value of every expression (the database computes it in the same SELECT), so
        before receivers and ``HasChanged`` see old != new. The UPDATE targets exactly those primary
        keys. What the expressions wrote comes back with the UPDATE itself (``RETURNING`` on PostgreSQL
        and SQLite >= 3.35); elsewhere, or for MTI children and annotated querysets, one SELECT after
        reads it.
        """
        if not self._signals_on(s.UPDATE_SIGNALS, bypass_signals, bypass_validation):
            return super().update(**kwargs)
        using = self._write_db()
        django_refuses(lambda: self._vanilla().update(**kwargs), using)  # Django's checks, before any receiver
        model = self.model
        opts = model._meta
        fields = {name: opts.get_field(name) for name in kwargs}
        expressions = {name: v for name, v in kwargs.items() if hasattr(v, "resolve_expression")}
        returning = self._returning(expressions, fields, connections[using])
        reread = bool(expressions) and not returning
        with write_transaction(using):
            loader = self._vanilla()
            # Django's UPDATE ignores DISTINCT (ON): the SELECT must find every row it updates.
            loader.query.distinct, loader.query.distinct_fields = False, ()
            if expressions:
                loader = loader.annotate(
                    **{
                        _PENDING + name: ExpressionWrapper(value, output_field=fields[name])
                        for name, value in expressions.items()
                    }
                )
            old, new, built = self._load_pairs(loader, kwargs, fields, expressions)
            if not old:
                return 0
            event = self._event(
                Operation.UPDATE,
                Source.QUERYSET_UPDATE,
                using,
                new_records=new,
                old_records=old,
                update_fields=tuple(f.name for f in fields.values()),
                # Own copies of mutable values: a receiver editing them changes neither the caller's
                # arguments nor the UPDATE.
                meta={"kwargs": {name: _own_argument(value) for name, value in kwargs.items()}},
            )
            if not bypass_validation:
                validate(s.bulk_validate_update, event)
            attnames = [f.attname for f in fields.values()]
            watching = wants(model, s.bulk_pre_update)
            # Our own instances (built): read by attribute, which keeps their compact storage.
            pending_of = attrgetter(*attnames) if built else lambda r: itemgetter(*attnames)(r.__dict__)
            snapshot = [pending_of(r) for r in new] if watching else None
            if snapshot is not None and (not built or not all(map(holds_immutable_values, fields.values()))):
                # Copies of mutable pending values: a receiver's in-place edit of a record's value is a change.
                own = own_value if len(attnames) == 1 else lambda values: tuple(map(own_value, values))
                snapshot = [own(values) for values in snapshot]
            emit(s.bulk_pre_update, event)
            pk_of = attrgetter(opts.pk.attname)
            pks = list(map(pk_of, old))
            target = self._vanilla() if self.query.annotations else model._base_manager.db_manager(using).all()
            extra = changed_by_receivers(model, new, old, attnames, snapshot, built) if snapshot is not None else []
            if returning:
                # The written values go onto the new records (except fields a before receiver set: theirs win).
                unwritten = dict(zip(pks, new, strict=True))
                slots = [(i, f.attname) for i, f in enumerate(returning, 1) if f.name not in extra]

                def receive(row: Sequence[Any]) -> None:
                    record = unwritten.pop(row[0], None)
                    if record is not None:
                        if built:
                            for i, attname in slots:
                                setattr(record, attname, row[i])
                        else:
                            data = record.__dict__
                            for i, attname in slots:
                                data[attname] = row[i]

                count = update_by_pks(target, pks, kwargs, returning, receive)
                if unwritten:  # rows gone since the SELECT leave the event
                    kept = [(n, o) for n, o in zip(new, old, strict=True) if o.pk not in unwritten]
                    new, old = tuple(n for n, _ in kept), tuple(o for _, o in kept)
            else:
                count = update_by_pks(target, pks, kwargs)
            if extra:  # a before receiver changed values: write them too (one bulk_update)
                models.QuerySet(model=model, using=using).bulk_update(new, extra)
            if reread:
                written = load_by_pk(model, using, pks)
                new = tuple(written[row.pk] for row in old if row.pk in written)
                old = tuple(row for row in old if row.pk in written)
            event = self._event(
                Operation.UPDATE,
                Source.QUERYSET_UPDATE,
                using,
                new_records=new,
                old_records=old,
                update_fields=tuple(dict.fromkeys([*event.update_fields, *extra])),
                meta=event.meta,
            )
            emit(s.bulk_post_update, event)
        self._result_cache = None
        return count

    update.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    async def aupdate(self, *, bypass_signals: bool = False, bypass_validation: bool = False, **kwargs: Any) -> int:
        """Async ``update()``."""
        return await sync_to_async(self.update)(
            bypass_signals=bypass_signals, bypass_validation=bypass_validation, **kwargs
        )

    aupdate.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def _returning(self, expressions: dict[str, Any], fields: dict[str, Any], connection: Any) -> list[Any]:
        """The fields whose written values the UPDATE returns (``UPDATE ... RETURNING``), or none: then
        the expressions' values are read back with a SELECT."""
        if not expressions or not can_return_updated(connection):
            return []
        if self.query.annotations or has_parent_tables(self.model):  # not a single-table UPDATE of ours
            return []
        targets = [fields[name] for name in expressions]
        if any(f.primary_key for f in targets):
            return []
        # RETURNING names bare columns: only for columns Django reads as they are (else: read after).
        table = self.model._meta.db_table
        if not all(selects_bare_column(f, table) for f in (self.model._meta.pk, *targets)):
            return []
        return targets

    def _load_pairs(
        self, loader: models.QuerySet[Any], kwargs: dict[str, Any], fields: dict[str, Any], expressions: dict[str, Any]
    ) -> tuple[tuple[Any, ...], tuple[Any, ...], bool]:
        """``(old rows, new records, built)`` for an ``update(**kwargs)``: each new record is the old row with
        the update applied (the pending values of expressions were computed by the SELECT).

        For a :func:`plain_select` loader (``built``), both instances of a row are built straight from its
        values by :func:`record_loop`, block by block of cursor rows; otherwise the old rows are Django's
        own instances and the new records copies of them (:meth:`_pending`)."""
        pending_names = [_PENDING + name for name in expressions]
        if not plain_select(loader, pending_names):
            loaded = tuple(loader)
            return loaded, self._pending(loaded, kwargs, fields, expressions), False
        model = self.model
        attnames = [f.attname for f in model._meta.concrete_fields]
        position = {attname: i for i, attname in enumerate(attnames)}
        sources = whole_row(model)
        new_sources = list(sources)
        constants: list[Any] = []
        related: dict[str, Any] = {}
        # A new record owns its mutable values: its own copy of the old row's value (unless the field only
        # reads immutable values, or the value is of an immutable type) and of each mutable update value.
        for i, field in enumerate(model._meta.concrete_fields):
            if not holds_immutable_values(field):
                new_sources[i] = ("own", i)
        for j, name in enumerate(expressions):
            new_sources[position[fields[name].attname]] = ("row", len(attnames) + j)
        for name, value in kwargs.items():
            field = fields[name]
            if name in expressions:
                continue
            if isinstance(value, models.Model) and field.is_relation:
                related[field.name] = value  # set below, as Django's descriptor sets it (value and cache)
            else:
                value = field.to_python(value)
                new_sources[position[field.attname]] = ("const" if is_immutable(value) else "copy", len(constants))
                constants.append(value)
        loop = record_loop(model, [sources, new_sources])
        db = loader.db
        old: list[Any] = []
        new: list[Any] = []
        for block in select_blocks(loader, [*attnames, *pending_names]):
            loop(block, constants, db, old, new)
        for name, value in related.items():
            for record in new:
                setattr(record, name, value)
        return tuple(old), tuple(new), True

    def _pending(
        self, old: tuple[Any, ...], kwargs: dict[str, Any], fields: dict[str, Any], expressions: dict[str, Any]
    ) -> tuple[Any, ...]:
        """The new records: a shallow copy of each old row with the update applied (the pending values
        of expressions are moved out of the old row, where the SELECT put them); each record owns its
        mutable field values (:func:`own_value`: a copy of the old row's, a copy of an update value)."""
        constants: dict[str, Any] = {}
        copied: dict[str, Any] = {}
        related: dict[str, Any] = {}
        pending: list[tuple[str, str]] = []
        for name, value in kwargs.items():
            field = fields[name]
            if name in expressions:
                pending.append((_PENDING + name, field.attname))
            elif isinstance(value, models.Model) and field.is_relation:
                related[field.name] = value
            else:
                value = field.to_python(value)
                (constants if is_immutable(value) else copied)[field.attname] = value
        cls = self.model
        # Columns whose old value may be mutable, except those the update replaces anyway.
        replaced = {*constants, *copied, *(attname for _, attname in pending)}
        mutable = [
            f.attname for f in cls._meta.concrete_fields if f.attname not in replaced and not holds_immutable_values(f)
        ]
        new_instance = object.__new__
        records = []
        db = old[0]._state.db if old else None  # one queryset: one database
        for row in old:
            values = row.__dict__
            computed = [(attname, values.pop(key)) for key, attname in pending] if pending else ()
            record = new_instance(cls)
            data = record.__dict__
            data.update(values)
            for attname in mutable:
                if attname in data and not is_immutable(data[attname]):
                    data[attname] = own_value(data[attname])
            data["_state"] = RecordState(db, False)
            data.update(constants)
            for attname, value in copied.items():
                data[attname] = own_value(value)
            data.update(computed)
            for name, value in related.items():
                setattr(record, name, value)
            records.append(record)
        return tuple(records)

    # -- delete -------------------------------------------------------------------------------

    def delete(self, *, bypass_signals: bool = False, bypass_validation: bool = False) -> tuple[int, dict[str, int]]:
        """Django's ``delete()``: ``(count, {model label: count})``.

        With receivers: one SELECT loads the rows, then one ``DELETE ... WHERE pk IN (...)`` when no
        cascade needs Django's collector (otherwise the collector deletes, as Django does).
        """
        if not self._signals_on(s.DELETE_SIGNALS, bypass_signals, bypass_validation):
            return super().delete()
        # As Django: the write goes to the router's db_for_write, on a copy (this queryset stays a reader).
        writer = self._chain()
        writer._for_write = True
        using = writer.db
        as_django = writer._vanilla()
        # Django refuses delete() after values().
        as_django._fields = self._fields  # type: ignore[attr-defined]  # private QuerySet state, not in django-stubs
        django_refuses(as_django.delete, using)  # Django's checks, before any receiver
        loader = writer._vanilla()
        loader.query.select_for_update = False
        with write_transaction(using):
            rows = tuple(fetch_rows(loader))
            result = self._delete_rows(rows, Source.QUERYSET_DELETE, bypass_validation, using)
        self._result_cache = None
        return result

    delete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker
    delete.queryset_only = True  # type: ignore[attr-defined]  # Django's marker: not on managers

    async def adelete(
        self, *, bypass_signals: bool = False, bypass_validation: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Async ``delete()``."""
        return await sync_to_async(self.delete)(bypass_signals=bypass_signals, bypass_validation=bypass_validation)

    adelete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker
    adelete.queryset_only = True  # type: ignore[attr-defined]  # Django's marker: not on managers

    def bulk_delete(
        self, objs: Iterable[Any], *, bypass_signals: bool = False, bypass_validation: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete these instances (by primary key) and return ``(count, {model label: count})``.

        The old records are the rows as stored (one SELECT), in the order of ``objs``.
        """
        objs = list(objs)
        if not all(pk_is_set(obj) for obj in objs):
            raise ValueError("All bulk_delete() objects must have a primary key set.")
        model = self.model
        pks = list(dict.fromkeys(model._meta.pk.to_python(obj.pk) for obj in objs))
        if not pks:
            return 0, {}
        if not self._signals_on(s.DELETE_SIGNALS, bypass_signals, bypass_validation):
            return self._vanilla().filter(pk__in=pks).delete()
        using = self._write_db()
        with write_transaction(using):
            found = load_by_pk(model, using, pks)
            old = tuple(found[pk] for pk in pks if pk in found)
            return self._delete_rows(old, Source.BULK_DELETE, bypass_validation, using)

    bulk_delete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    async def abulk_delete(
        self, objs: Iterable[Any], *, bypass_signals: bool = False, bypass_validation: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Async ``bulk_delete()``."""
        return await sync_to_async(self.bulk_delete)(
            objs, bypass_signals=bypass_signals, bypass_validation=bypass_validation
        )

    abulk_delete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def _delete_rows(
        self, old: tuple[Any, ...], source: Source, bypass_validation: bool, using: str
    ) -> tuple[int, dict[str, int]]:
        """Send the delete signals around deleting ``old`` from ``using`` (call inside a transaction)."""
        model = self.model
        if not old:
            return 0, {}
        pks = list(map(attrgetter(model._meta.pk.attname), old))
        collector = Collector(using=using, origin=self)
        probe = model._base_manager.db_manager(using).filter(pk__in=pks[:1])
        fast = collector.can_fast_delete(probe)
        if not fast:
            # Cascades, parents or Django delete signals: Django's collector, on copies (it clears the
            # primary keys of what it deletes; receivers keep theirs). It collects first, as Django does:
            # a ProtectedError/RestrictedError comes before any receiver runs.
            with before_writing():
                collector.collect([clone_record(row) for row in old])
        event = self._event(Operation.DELETE, source, using, old_records=old)
        if not bypass_validation:
            validate(s.bulk_validate_delete, event)
        emit(s.bulk_pre_delete, event)
        if fast:
            manager = model._base_manager.db_manager(using)
            count = 0
            for chunk in chunks(pks):
                rows = manager.all()
                rows.query.where.add(pk_in(model, connections[using], chunk), AND)
                count += rows._raw_delete(using)
            result: tuple[int, dict[str, int]] = (count, {model._meta.label: count})
        else:
            result = collector.delete()
        emit(s.bulk_post_delete, event)
        return result
