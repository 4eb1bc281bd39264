"""The shared bulk write path: validate a batch of items with a viewset's serializer and write it.

Used by the synchronous mixin (all-or-nothing) and by background jobs (chunk by chunk, partial
success). One method per operation below holds that operation's whole query plan:

- insert: validate every item, one uniqueness query, one ``bulk_create``.
- update: one fetch of the targets inside ``get_queryset()``, validate, one uniqueness query (only for
  keys the items change), one ``bulk_update``.
- upsert: one fetch of the rows matching ``unique_fields`` (marking those outside ``get_queryset()``),
  validate, one uniqueness query for the other keys, one ``bulk_create(update_conflicts=True)``.
- delete: one fetch of the targets inside ``get_queryset()``, one queryset ``delete()``.

Update, upsert and delete read the rows they change with ``SELECT ... FOR UPDATE`` (where the backend
has it: PostgreSQL, MySQL, Oracle; SQLite serialises writers anyway) inside one transaction that also
holds the write, so two concurrent bulk updates of the same rows run one after the other instead of
overwriting each other's changes. The lock is part of the fetch: no statement is added.

Writes go through the model's default manager, so ``bulk-signals-django`` receivers fire for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

from bulk_signals_django import signals as bulk_signals
from bulk_signals_django.builders import new_record_factory, plain_select, record_loop, select_blocks, whole_row
from bulk_signals_django.dispatch import wants
from bulk_signals_django.handover import rows_read
from bulk_signals_django.keylocks import lock_keys
from bulk_signals_django.upsert import rows_known
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models, router, transaction
from django.db.models import Exists, OuterRef
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError

from ..conf import bulk_settings
from .exceptions import BulkValidationError, WriteConflict
from .ids import INTEGER_TYPES, InvalidId, id_parser, parse_id
from .shortcuts import prepare_serializer
from .storable import printable, unstorable, unstorable_text
from .validation import (
    NON_FIELD_ERRORS,
    UniqueKey,
    as_item_errors,
    field_error,
    filter_by_key,
    find_unique_conflicts,
    key_error,
    key_matching,
    refuse_nested_writes,
    unique_keys,
)

__all__ = [
    "BatchResult",
    "ItemError",
    "ItemSuccess",
    "Operation",
    "execute_batch",
    "write_create",
    "write_delete",
    "write_update",
    "write_upsert",
]

Operation = Literal["insert", "update", "upsert", "delete"]

# The signals whose receivers read a write's old rows (bulk-signals-django): an upsert's classify runs for either.
_UPDATE_SIGNALS = bulk_signals.UPDATE_SIGNALS
_UPSERT_SIGNALS = bulk_signals.CREATE_SIGNALS + bulk_signals.UPDATE_SIGNALS


@dataclass
class ItemError:
    """One item that failed: its index in the caller's data and DRF-style errors
    (``{"field": [{"message": ..., "code": ...}], "non_field_errors": [...]}``)."""

    index: int
    errors: dict[str, Any]


@dataclass
class ItemSuccess:
    """One item written: its index, the row's pk and whether the row was created (else updated/deleted)."""

    index: int
    pk: Any
    created: bool = False


@dataclass
class BatchResult:
    """What ``execute_batch`` did: per-item outcomes (sorted by index), counts and the written instances."""

    succeeded: list[ItemSuccess] = field(default_factory=list)
    failed: list[ItemError] = field(default_factory=list)
    created_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0
    instances: list[Any] = field(default_factory=list)  # the written model instances, in item order


def execute_batch(
    viewset: Any,
    operation: Operation,
    items: list[Any],
    *,
    unique_fields: list[str] | None = None,
    partial: bool = True,
    all_or_nothing: bool = True,
    index_offset: int = 0,
    dry_run: bool = False,
) -> BatchResult:
    """Validate ``items`` with ``viewset``'s serializer and write them in bulk.

    ``viewset`` is a viewset instance with ``request`` (and ``format_kwarg``) set, so
    ``get_queryset()``/``get_serializer()``/permissions work as in a request. For ``delete``,
    items are pks. With ``all_or_nothing`` nothing is written when any item fails (a
    ``BulkValidationError`` lists every failure, and a row the user may not change refuses the
    whole batch with DRF's ``PermissionDenied``); otherwise valid items are written and failures
    reported. Item indexes are ``index_offset + i``.

    With ``dry_run`` every check runs (fields, uniqueness against the table and within the batch, object
    permissions, for a delete the protected and restricted foreign keys) and nothing is written or locked: no
    INSERT, UPDATE or DELETE, no write hook, no receiver. The result says what would be written: ``succeeded``
    (a new row's ``pk`` is None) and ``instances``, the rows as they would be written.
    """
    batch = _Batch(viewset, items, all_or_nothing=all_or_nothing, index_offset=index_offset, dry_run=dry_run)
    if operation == "insert":
        return batch.insert()
    if operation == "update":
        with batch.locking():
            return batch.update(partial=partial)
    if operation == "upsert":
        if not unique_fields:
            raise ValidationError({"unique_fields": ["An upsert needs unique_fields."]}, code="required")
        key = upsert_key(batch.model, unique_fields)
        with batch.locking():
            return batch.upsert(key, partial=partial)
    if operation == "delete":
        with batch.locking():
            return batch.delete()
    raise ValueError(f"unknown bulk operation {operation!r}; expected insert, update, upsert or delete")


def upsert_key(model: type[models.Model], unique_fields: Sequence[str]) -> UniqueKey:
    """The unique key named by ``unique_fields``; a ``ValidationError`` naming the problem otherwise."""
    opts = model._meta
    unknown = []
    for name in unique_fields:
        try:
            opts.get_field(name)
        except FieldDoesNotExist:
            unknown.append(name)
    if unknown:
        raise ValidationError(
            {"unique_fields": [f"'{name}' is not a field of {opts.object_name}." for name in unknown]}, code="invalid"
        )
    for key in unique_keys(model, conditional=False):
        if set(key.names) == set(unique_fields):
            return key
    keys = "; ".join(",".join(key.names) for key in unique_keys(model, conditional=False)) or "none"
    raise ValidationError(
        {
            "unique_fields": [
                f"{','.join(unique_fields)} is not a unique key of {opts.object_name} "
                f"(unique keys: {keys}); an upsert needs a unique constraint to match rows on."
            ]
        },
        code="not_unique",
    )


# Default writes; the mixin's ``perform_bulk_*`` hooks call these.


def write_create(model: type[models.Model], instances: list[models.Model]) -> list[models.Model]:
    """One ``bulk_create`` through the model's default manager."""
    return model._default_manager.bulk_create(instances, batch_size=bulk_settings.BATCH_SIZE)


def write_upsert(
    model: type[models.Model], instances: list[models.Model], *, unique_fields: Sequence[str], update_fields: list[str]
) -> list[models.Model]:
    """One ``bulk_create(update_conflicts=True)`` (INSERT ... ON CONFLICT DO UPDATE)."""
    return model._default_manager.bulk_create(
        instances,
        batch_size=bulk_settings.BATCH_SIZE,
        update_conflicts=True,
        unique_fields=list(unique_fields),
        update_fields=update_fields,
    )


def write_update(model: type[models.Model], instances: list[models.Model], fields: list[str]) -> int:
    """One ``bulk_update`` of ``fields`` through the model's default manager."""
    return model._default_manager.bulk_update(instances, fields, batch_size=bulk_settings.BATCH_SIZE)


def write_delete(model: type[models.Model], instances: list[models.Model]) -> int:
    """One queryset ``delete()`` of ``instances`` through the model's default manager."""
    deleted, _ = model._default_manager.filter(pk__in=[obj.pk for obj in instances]).delete()
    return deleted


def new_row_factory(model: type[models.Model]) -> Callable[[dict[str, Any]], models.Model]:
    """A function doing ``obj = model(); setattr(obj, name, value)`` for each item of its argument.

    bulk-signals-django's ``builders.new_record_factory``: where its one rule for building without
    ``__init__`` (``can_build_without_init``: Django's own construction, plain column descriptors, no
    ``pre_init``/``post_init`` receivers, ...) holds, the instance's ``__dict__`` is filled as
    ``Model.__init__`` would fill it; otherwise it is ``model()`` plus ``setattr`` (docs/django.md).
    """
    return new_record_factory(model)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return printable(text.splitlines()[0]) if text else type(exc).__name__


def _unstorable_values(data: Any) -> dict[str, Any]:
    """Errors for validated values the database cannot store (text with NUL or a lone surrogate, JSON with
    those or a non-finite number): a ``JSONField`` or a custom field lets them through; the database would
    answer a 500."""
    errors: dict[str, Any] = {}
    if type(data) is not dict:
        return errors
    for name, value in data.items():
        kind = type(value)
        if kind is str:
            reason = unstorable_text(value)
            if reason is not None:
                errors[name] = field_error(f"This value {reason}.", "invalid")
        elif kind is dict or kind is list:
            problem = unstorable(value)
            if problem is not None:
                where = f" (at {problem[0]})" if problem[0] else ""
                errors[name] = field_error(f"This value{where} {problem[1]}.", "invalid")
    return errors


def _trimmed_fields(key: UniqueKey, serializer: serializers.Serializer[Any] | None) -> set[str]:
    """The fields of ``key`` the serializer reads with DRF's own ``CharField`` and ``trim_whitespace``."""
    trimmed = set()
    if serializer is not None:
        for f in key.fields:
            field = serializer.fields.get(f.name)
            if (
                isinstance(field, serializers.CharField)
                and type(field).to_internal_value is serializers.CharField.to_internal_value
                and field.trim_whitespace
                and not field.read_only
            ):
                trimmed.add(f.name)
    return trimmed


class _Batch:
    """One batch of items against one viewset: its scope, the errors found so far, one method per operation."""

    def __init__(
        self, viewset: Any, items: list[Any], *, all_or_nothing: bool, index_offset: int, dry_run: bool = False
    ) -> None:
        self.viewset = viewset
        self.items = items
        self.all_or_nothing = all_or_nothing
        self.dry_run = dry_run  # validate, write nothing (execute_batch)
        self.offset = index_offset
        # Every read and write is confined to what the viewset exposes, as DRF's get_object() is.
        self.scope = viewset.filter_queryset(viewset.get_queryset())
        self.model: type[models.Model] = self.scope.model
        self.pk_field = self.model._meta.pk
        self.id_key: str = getattr(viewset, "bulk_id_field", None) or self.pk_field.name
        self.errors: dict[int, dict[str, Any]] = {}
        self.prefetched: dict[str, dict[Any, Any]] = {}  # related rows, shared by the batch's serializers
        self.using = router.db_for_write(self.model)
        self.in_transaction = False  # set by locking(): fetch, validation and write share one transaction
        self._model_fields: dict[
            str, models.Field[Any, Any] | None
        ] = {}  # item key -> concrete model field (None: other)
        self._new_row: Callable[[dict[str, Any]], models.Model] | None = None  # see _build
        self._olds: list[Any] | None = None  # unchanged twins of the rows _fetch_targets read (_read_twice)

    # -- the four operations ------------------------------------------------------------------

    def insert(self) -> BatchResult:
        serializer = self._serializer(partial=False)
        candidates = []
        for i, item in enumerate(self.items):
            data = self._validate(serializer, i, item, None)
            if data is not None:
                candidates.append((i, self._build(data)))
        self._check_unique(candidates, unique_keys(self.model), serializer)
        candidates = self._valid(candidates)
        result = self._result()
        if candidates:
            objs = [obj for _, obj in candidates]
            if not self.dry_run:
                with self._writing():
                    self._hook("perform_bulk_create", write_create)(objs)  # sets each object's pk
            # A dry run's new rows have no pk (a default one, such as uuid4's, would never be the row's).
            result.succeeded = [
                ItemSuccess(self.offset + i, None if self.dry_run else obj.pk, created=True) for i, obj in candidates
            ]
            result.instances = objs
            result.created_count = len(objs)
        return result

    def update(self, *, partial: bool) -> BatchResult:
        targets = self._fetch_targets(twins=True)
        serializer = self._serializer(partial=partial)
        candidates, written = [], set()
        for i, obj in targets:
            data = self._validate(serializer, i, self.items[i], obj)
            if data is not None:
                written |= self._apply(obj, data)
                candidates.append((i, obj))
        keys = [key for key in unique_keys(self.model) if key.involves(written)]
        self._check_unique(candidates, keys, serializer)
        candidates = self._valid(candidates)
        result = self._result()
        if candidates:
            objs = [obj for _, obj in candidates]
            fields = sorted(written | self._touch_auto_now(objs))
            if fields and not self.dry_run:
                # The write's bulk_update (bulk-signals-django) would select these rows again for its old rows:
                # it takes the twins of the ones read above, under their row locks, in this transaction.
                read_before = (
                    rows_read(self.model, self.using, self._olds)
                    if self._olds is not None and self.in_transaction
                    else nullcontext()
                )
                with self._writing(), read_before:
                    self._hook("perform_bulk_update", write_update)(objs, fields)
            result.succeeded = [ItemSuccess(self.offset + i, obj.pk) for i, obj in candidates]
            result.instances = objs
            result.updated_count = len(objs)
        return result

    def upsert(self, key: UniqueKey, *, partial: bool) -> BatchResult:
        create_serializer = self._serializer(partial=False)
        values = self._key_values(key, create_serializer)
        stored, olds = self._stored_rows(key, values)
        update_serializer = self._serializer(partial=partial)
        candidates, matched = [], set()
        for i, value in values.items():
            row = stored.get(value)
            if row is not None and not row.bulk_drf_in_scope:
                # The row exists but this viewset does not expose it: a clash, as for a create.
                self._add_errors({i: key_error(self.model, key, create_serializer.fields, "")})
                continue
            if row is not None and not self._permitted(i, row):
                continue
            serializer = create_serializer if row is None else update_serializer
            data = self._validate(serializer, i, self.items[i], row)
            if data is None:
                continue
            if row is None:
                obj = self._build(data)
            else:
                self._apply(row, data)
                obj = row
                matched.add(i)
            if not self._same_key(key, obj, value):
                # Validation changed the key the rows were matched on (a validate_<field>, validate()): the
                # write would meet another row than the one checked (scope, permissions, created/updated).
                self._add_errors({i: self._key_changed(key, obj)})
                continue
            candidates.append((i, obj))
        other_keys = [k for k in unique_keys(self.model) if k != key]
        self._check_unique(candidates, other_keys, create_serializer)
        candidates = self._valid(candidates)
        result = self._result()
        if not candidates:
            return result
        objs = [obj for _, obj in candidates]
        self._touch_auto_now(objs)
        if self.dry_run:
            return self._upserted(result, candidates, matched)
        known = {id(obj): obj.pk for obj in objs}
        for obj in objs:
            obj.pk = None  # one INSERT ... ON CONFLICT for all: Django splits objects that carry a pk
        # The write's own upsert (bulk-signals-django) would lock and select these keys' rows again to pair
        # old and new rows: it takes the ones read above, under the same lock, in this transaction.
        read_before = (
            rows_known(self.model, self.using, key.names, set(values.values()), olds)
            if olds is not None and self.in_transaction
            else nullcontext()
        )
        with self._writing(), read_before:
            self._hook("perform_bulk_upsert", write_upsert)(
                objs, unique_fields=list(key.names), update_fields=self._upsert_fields(key)
            )
            for obj in objs:
                if known[id(obj)] is not None:
                    obj.pk = known[id(obj)]
            missing = [obj for obj in objs if obj.pk is None]
            if missing:  # backends/versions that do not return ids from an upsert: one more query
                pks = dict(
                    (key.value(row), row.pk)
                    for row in self.model._base_manager.filter(
                        key_matching(key, [key.value(obj) for obj in missing])  # type: ignore[misc]  # no NULL part: upserted
                    ).only(self.pk_field.attname, *(f.attname for f in key.fields))
                )
                for obj in missing:
                    obj.pk = pks.get(key.value(obj))
        return self._upserted(result, candidates, matched)

    def _read_twice(
        self, query: models.QuerySet[Any], signals: tuple[Any, ...], flag: str | None = None
    ) -> tuple[list[Any], list[Any] | None]:
        """The rows of ``query`` (with the annotation ``flag`` set on each, if given) and, unless this is a dry
        run or none of ``signals`` has a receiver for the model, an unchanged twin of each (else None; None too
        when the model's rows need Django's own construction, or the query reads more than whole rows): built
        from one ``values_list`` read by bulk-signals-django's record builder, as its own writes build the rows
        they select, in about half the time of Django's ``from_db`` per row. The twins are the old rows the
        write's events need (``rows_known``, ``rows_read``): without a receiver no event reads them."""
        model = self.model
        extra = () if flag is None else (flag,)
        if model._meta.parents or query.model is not model or not plain_select(query, extra=extra):
            return list(query), None
        width = len(model._meta.concrete_fields)
        twins = not self.dry_run and wants(model, *signals)
        layouts = [whole_row(model)] + ([tuple(("own", i) for i in range(width))] if twins else [])
        loop = record_loop(model, layouts)
        rows: list[Any] = []
        olds: list[Any] = []
        outs = (rows, olds) if twins else (rows,)
        db = query.db
        for block in select_blocks(query, [*(f.attname for f in model._meta.concrete_fields), *extra]):
            start = len(rows)
            loop(block, (), db, *outs)
            if flag is not None:
                for obj, raw in zip(rows[start:], block, strict=True):
                    setattr(obj, flag, raw[width])
        return rows, olds if twins else None

    def _stored_rows(
        self, key: UniqueKey, values: dict[int, tuple[Any, ...]]
    ) -> tuple[dict[tuple[Any, ...] | None, Any], list[Any] | None]:
        """The rows holding the items' key ``values`` (each flagged ``bulk_drf_in_scope``), by key value, and
        their unchanged twins (the stored rows as read, for the write's events: ``rows_known``; or None)."""
        if not values:
            return {}, None
        if self.in_transaction:
            # Concurrent upserts of the same keys wait for each other here, so the fetch below (and the
            # created/updated split it decides) sees what the other one committed.
            lock_keys(self.model, self.using, [(key.fields, values.values())])
        in_scope = Exists(self.scope.filter(pk=OuterRef("pk")))
        query = filter_by_key(self.model._base_manager.all(), key, values.values())
        rows, olds = self._read_twice(
            self._lock(query.annotate(bulk_drf_in_scope=in_scope)), _UPSERT_SIGNALS, "bulk_drf_in_scope"
        )
        return {key.value(row): row for row in rows}, olds

    def _upserted(self, result: BatchResult, candidates: list[tuple[int, Any]], matched: set[int]) -> BatchResult:
        result.succeeded = [
            ItemSuccess(
                self.offset + i, None if self.dry_run and i not in matched else obj.pk, created=i not in matched
            )
            for i, obj in candidates
        ]
        result.instances = [obj for _, obj in candidates]
        result.updated_count = sum(1 for i, _ in candidates if i in matched)
        result.created_count = len(candidates) - result.updated_count
        return result

    def delete(self) -> BatchResult:
        targets = self._valid(self._fetch_targets())
        if self.dry_run:
            targets = self._deletable(targets)
        result = self._result()
        if targets:
            objs = [obj for _, obj in targets]
            if not self.dry_run:
                with self._writing():
                    self._hook("perform_bulk_destroy", write_delete)(objs)
            result.succeeded = [ItemSuccess(self.offset + i, obj.pk) for i, obj in targets]
            result.instances = objs
            result.deleted_count = len(objs)
        return result

    def _deletable(self, targets: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """A dry run's delete: the targets no protected or restricted foreign key keeps, found as the delete
        would find them (Django's ``Collector``, which only reads); each other one gets the error a job's
        delete reports. A batch nothing protects costs one ``collect``; one with k protected rows about
        2·k·log2(batch) more."""
        if not targets:
            return targets
        try:
            Collector(using=self.using, origin=None).collect([obj for _, obj in targets])
        except (ProtectedError, RestrictedError) as exc:
            if len(targets) == 1:
                self._add_errors({targets[0][0]: {NON_FIELD_ERRORS: field_error(str(exc.args[0]), "protected")}})
                return []
            middle = len(targets) // 2
            return self._deletable(targets[:middle]) + self._deletable(targets[middle:])
        return targets

    # -- steps shared by the operations ---------------------------------------------------------

    def _serializer(self, *, partial: bool) -> serializers.Serializer[Any]:
        serializer: serializers.Serializer[Any] = self.viewset.get_serializer(partial=partial)
        refuse_nested_writes(serializer, self.items)
        prepare_serializer(serializer, self.items, self.prefetched)
        return serializer

    def _validate(
        self, serializer: serializers.Serializer[Any], i: int, item: Any, instance: models.Model | None
    ) -> dict[str, Any] | None:
        """Run the serializer's whole validation (fields, ``validate_<field>``, ``validate``) on one item."""
        serializer.instance = instance
        serializer.initial_data = item
        try:
            data = serializer.run_validation(item)
        except ValidationError as exc:
            self._add_errors({i: as_item_errors(exc)})
            return None
        errors = _unstorable_values(data)
        if errors:
            self._add_errors({i: errors})
            return None
        return data  # type: ignore[no-any-return]  # run_validation's dict

    def _check_unique(
        self, candidates: list[tuple[int, models.Model]], keys: list[UniqueKey], serializer: serializers.Serializer[Any]
    ) -> None:
        """One query for every key of every candidate (none when no key is involved)."""
        self._add_errors(find_unique_conflicts(self.model, candidates, keys, serializer.fields, self.offset))

    def _fetch_targets(self, *, twins: bool = False) -> list[tuple[int, models.Model]]:
        """The rows the items name by id, fetched with one query inside the viewset's scope (with ``twins``, also
        their unchanged twins in ``self._olds``: ``_read_twice``)."""
        wanted: dict[Any, int] = {}
        parse = id_parser(self.pk_field)
        for i, item in enumerate(self.items):
            raw = item.get(self.id_key) if isinstance(item, dict) else item
            if (isinstance(item, dict) and self.id_key not in item) or raw is None or raw == "":
                self._add_errors({i: {self.id_key: field_error("This field is required.", "required")}})
                continue
            if isinstance(raw, (dict, list, bool)):
                self._add_errors(
                    {i: {self.id_key: field_error(f"Expected an id, got {type(raw).__name__}.", "invalid")}}
                )
                continue
            try:
                pk = parse(raw)  # the id syntax (ids.py): a float id must not reach row int(2.9)
            except InvalidId as exc:
                self._add_errors({i: {self.id_key: field_error(exc.message, exc.code)}})
                continue
            if pk in wanted:
                self._add_errors(
                    {
                        i: {
                            self.id_key: field_error(
                                f"Duplicate of item {self.offset + wanted[pk]} in this request.", "duplicate"
                            )
                        }
                    }
                )
                continue
            wanted[pk] = i
        found: list[Any] = []
        if wanted:
            query = self._lock(self.scope.filter(pk__in=list(wanted)))
            if twins:  # an update's: they may become the write's old rows
                found, self._olds = self._read_twice(query, _UPDATE_SIGNALS)
            else:
                found = list(query)
        rows = {obj.pk: obj for obj in found}
        targets = []
        for pk, i in wanted.items():
            obj = rows.get(pk)
            if obj is None:
                self._add_errors({i: {self.id_key: field_error("Not found.", "not_found")}})
            elif self._permitted(i, obj):
                targets.append((i, obj))
        return targets

    @staticmethod
    def _stored_key(key: UniqueKey, obj: models.Model) -> tuple[Any, ...]:
        """``obj``'s value for ``key`` as ``_key_values`` converts an item's (a relation's: its target's type)."""
        return tuple(
            (f.target_field if f.is_relation else f).to_python(getattr(obj, f.attname))  # type: ignore[attr-defined]  # a relation's target
            for f in key.fields
        )

    def _same_key(self, key: UniqueKey, obj: models.Model, value: tuple[Any, ...]) -> bool:
        try:
            return self._stored_key(key, obj) == value
        except (DjangoValidationError, TypeError, ValueError, ArithmeticError):
            return False

    def _key_changed(self, key: UniqueKey, obj: models.Model) -> dict[str, Any]:
        shown = ", ".join(printable(getattr(obj, f.attname)) for f in key.fields)
        message = (
            f"Validation changes this value (to {shown}): an upsert matches rows on {', '.join(key.names)} as sent. "
            "Send the value as it is stored."
        )
        return {NON_FIELD_ERRORS if len(key.fields) > 1 else key.names[0]: field_error(message, "invalid")}

    def _key_values(
        self, key: UniqueKey, serializer: serializers.Serializer[Any] | None = None
    ) -> dict[int, tuple[Any, ...]]:
        """Each item's value for ``key``, converted like the model field would; bad items get errors.

        A key field the serializer reads with DRF's own ``CharField`` (``trim_whitespace``) is trimmed first, as
        its validation will trim it: the rows are matched on the value that will be written.
        """
        trimmed = _trimmed_fields(key, serializer)
        values: dict[int, tuple[Any, ...]] = {}
        first: dict[tuple[Any, ...], int] = {}
        for i, item in enumerate(self.items):
            if not isinstance(item, dict):
                self._add_errors(
                    {
                        i: {
                            NON_FIELD_ERRORS: field_error(
                                f"Invalid data. Expected a dictionary, but got {type(item).__name__}.", "invalid"
                            )
                        }
                    }
                )
                continue
            parts, errors = [], {}
            for f in key.fields:
                raw = item.get(f.name, item.get(f.attname))
                if f.name in trimmed and type(raw) is str:
                    raw = raw.strip()
                if raw is None or raw == "":
                    errors[f.name] = field_error("This field is required to match rows (unique_fields).", "required")
                    continue
                target = f.target_field if f.is_relation else f  # type: ignore[attr-defined]  # a relation's
                # The key is looked up before the serializer sees it: refuse what the SELECT cannot bind.
                reason = unstorable_text(raw) if type(raw) is str else (unstorable(raw) or (None, None))[1]
                if reason is not None:
                    errors[f.name] = field_error(f"This value {reason}.", "invalid")
                    continue
                try:
                    # Integer columns (and foreign keys) take the id syntax: int(2.9) is 2, 10**20 overflows.
                    strict = f.is_relation or target.get_internal_type() in INTEGER_TYPES
                    if strict:
                        parts.append(parse_id(target, raw))
                    else:
                        value = target.to_python(raw)
                        target.run_validators(value)  # max_digits, max_length: what the lookup could not bind
                        parts.append(value)
                except InvalidId as exc:
                    errors[f.name] = field_error(exc.message, exc.code)
                except DjangoValidationError as exc:
                    errors[f.name] = field_error(" ".join(printable(m) for m in exc.messages), "invalid")
                except (TypeError, ValueError, OverflowError, ArithmeticError):
                    errors[f.name] = field_error(f"'{printable(raw)}' is not a valid value.", "invalid")
            if errors:
                self._add_errors({i: errors})
                continue
            value = tuple(parts)
            if value in first:
                names = ", ".join(key.names)
                self._add_errors(
                    {
                        i: {
                            NON_FIELD_ERRORS if len(key.fields) > 1 else key.names[0]: field_error(
                                f"Same {names} as item {self.offset + first[value]} of this request.", "duplicate"
                            )
                        }
                    }
                )
                continue
            first[value] = i
            values[i] = value
        return values

    def _permitted(self, i: int, obj: models.Model) -> bool:
        """``check_object_permissions`` for a row the batch touches (no query, unless the permission makes one)."""
        try:
            self.viewset.check_object_permissions(self.viewset.request, obj)
        except APIException as exc:
            if self.all_or_nothing:
                raise  # a row the user may not change refuses the whole request
            self._add_errors({i: {self.id_key: field_error(str(exc.detail), "permission_denied")}})
            return False
        return True

    def _build(self, data: dict[str, Any]) -> models.Model:
        """A new row: ``model()``, then each validated value set (as ``_apply``, without tracking changes)."""
        if self._new_row is None:
            self._new_row = new_row_factory(self.model)
        return self._new_row(data)

    def _apply(self, obj: models.Model, data: dict[str, Any]) -> set[str]:
        """Set validated values on ``obj`` (as ``ModelSerializer.update`` does); the model fields that changed.

        A field sent with the value the row already has is not reported, so a bulk update neither
        rewrites nor re-checks the uniqueness of columns no item changes.
        """
        changed = set()
        for name, value in data.items():
            model_field = self._model_field(name)
            if model_field is None:
                setattr(obj, name, value)
                continue
            before = getattr(obj, model_field.attname)
            setattr(obj, name, value)
            if obj._state.adding or getattr(obj, model_field.attname) != before:
                changed.add(model_field.name)
        return changed

    def _model_field(self, name: str) -> models.Field[Any, Any] | None:
        """The concrete, non-pk, non-m2m model field ``name`` is (None for anything else); looked up once per batch."""
        try:
            return self._model_fields[name]
        except KeyError:
            pass
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None and (not field.concrete or field.many_to_many or field.primary_key):  # type: ignore[union-attr]  # a GenericForeignKey is not concrete
            field = None
        self._model_fields[name] = field  # type: ignore[assignment]  # concrete: a model Field
        return field  # type: ignore[return-value]  # see above

    def _touch_auto_now(self, objs: list[models.Model]) -> set[str]:
        """Set ``auto_now`` fields, which ``bulk_update`` and upserts do not (``save()`` would)."""
        fields = [f for f in self.model._meta.concrete_fields if getattr(f, "auto_now", False)]
        now = timezone.now()
        for obj in objs:
            for f in fields:
                setattr(obj, f.attname, now)
        return {f.name for f in fields}

    def _upsert_fields(self, key: UniqueKey) -> list[str]:
        """Every column an upsert rewrites on a clash: all but the pk, the key and ``auto_now_add`` fields."""
        return [
            f.name
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f not in key.fields and not getattr(f, "auto_now_add", False)
        ]

    def _hook(self, name: str, default: Any) -> Any:
        hook = getattr(self.viewset, name, None)
        if hook is not None:
            return hook
        return lambda *args, **kwargs: default(self.model, *args, **kwargs)

    def _add_errors(self, errors: dict[int, dict[str, Any]]) -> None:
        for i, item_errors in errors.items():
            merged = self.errors.setdefault(i, {})
            for name, messages in item_errors.items():
                merged.setdefault(name, []).extend(messages if isinstance(messages, list) else [messages])

    def _valid(self, candidates: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """The candidates without errors; with ``all_or_nothing``, any error refuses the whole batch."""
        if self.errors and self.all_or_nothing:
            raise BulkValidationError([{"index": self.offset + i, "errors": e} for i, e in sorted(self.errors.items())])
        return [(i, obj) for i, obj in candidates if i not in self.errors]

    def _result(self) -> BatchResult:
        return BatchResult(failed=[ItemError(self.offset + i, e) for i, e in sorted(self.errors.items())])

    @contextmanager
    def locking(self) -> Iterator[None]:
        """One transaction from the fetch of the rows to change to their write, so ``_lock``'s row locks
        hold until the write is committed (a savepoint inside an outer transaction: a job's chunk,
        ``ATOMIC_REQUESTS``, which a refused write then leaves usable). A dry run locks nothing."""
        if self.dry_run:
            yield
            return
        with transaction.atomic(using=self.using):
            self.in_transaction = True
            try:
                yield
            finally:
                self.in_transaction = False

    def _lock(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """``queryset`` with ``SELECT ... FOR UPDATE`` (of the model's own table) where the backend and the
        query allow it: SQLite has no row locks (it serialises writers), and databases refuse FOR UPDATE
        with DISTINCT, GROUP BY or UNION (a scope built that way is read without a lock)."""
        if not self.in_transaction:
            return queryset
        features = transaction.get_connection(self.using).features
        query = queryset.query
        if not features.has_select_for_update or query.distinct or query.combinator or query.group_by is not None:
            return queryset
        if features.has_select_for_update_of:
            return queryset.select_for_update(of=("self",))
        return queryset.select_for_update()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a refused write into a clear API error; nothing is left written.

        Each write is one manager call, atomic by itself, so a create opens no transaction here in
        autocommit mode (it would only add statements). Inside an outer transaction (a job's chunk,
        ``ATOMIC_REQUESTS``) a savepoint keeps that transaction usable after a refused write; under
        ``locking()`` its transaction (or savepoint) already does, and the error leaves it rolled back.
        """
        using = self.using
        try:
            if transaction.get_connection(using).in_atomic_block and not self.in_transaction:
                with transaction.atomic(using=using):
                    yield
            else:
                yield
        except IntegrityError as exc:
            raise WriteConflict() from exc
        except DataError as exc:
            if not self.all_or_nothing:
                raise  # a job's chunk bisects the batch to name the record (processing._write_isolating)
            raise ValidationError(
                {NON_FIELD_ERRORS: [f"The database refused a value: {_first_line(exc)}. Nothing was written."]},
                code="data_error",
            ) from exc
        except DjangoValidationError as exc:  # a model-level validate receiver refused the batch
            raise ValidationError(detail=serializers.as_serializer_error(exc)) from exc
        except (ProtectedError, RestrictedError) as exc:
            raise WriteConflict(
                f"{len(exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects)} "
                "other rows still refer to these rows; nothing was deleted."
            ) from exc
