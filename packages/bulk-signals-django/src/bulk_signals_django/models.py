"""``BulkSignalModelMixin``: single-record writes (``save``, ``delete``, ``clean``) send the bulk signals."""

from __future__ import annotations

from typing import Any

from django.db import models, router
from django.db.models import NOT_PROVIDED
from django.db.models.deletion import Collector

from . import signals as s
from .bypass import bypass_signals as _bypass_block
from .dispatch import emit, wants
from .events import BulkEvent, Operation, Source
from .managers import BulkSignalManager
from .queryset import SAVE_SOURCE
from .records import changed_fields, clone_record, load_one
from .transactions import write_transaction

__all__ = ["BulkSignalModelMixin"]

_SAVE_SIGNALS = (s.bulk_pre_create, s.bulk_post_create, s.bulk_pre_update, s.bulk_post_update)
_DELETE_SIGNALS = (s.bulk_pre_delete, s.bulk_post_delete)
_VALIDATE_SIGNALS = (s.bulk_validate_create, s.bulk_validate_update)


_SAVE_DEFAULTS = {"force_insert": False, "force_update": False, "using": None, "update_fields": None}


def _parses_save_params(obj: models.Model, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``save(*args)`` should read its positional arguments with Django's own ``_parse_save_params``
    (Django 5.x), called straight from our ``save``/``asave``: its deprecation warning then names the method
    and points at the caller's line, as Django's does. Django 4.2 takes them silently and 6.x refuses them
    (and an unknown keyword gets Django's own TypeError): then they are passed on as given."""
    return bool(args) and hasattr(obj, "_parse_save_params") and kwargs.keys() <= _SAVE_DEFAULTS.keys()


def _named(values: list[Any]) -> dict[str, Any]:
    return dict(zip(_SAVE_DEFAULTS, values, strict=True))


class BulkSignalModelMixin(models.Model):
    """Abstract model: installs :class:`BulkSignalManager` as ``objects`` and makes ``save()``,
    ``delete()`` (and ``asave``/``adelete``) send the bulk signals for one record.

    ``save()`` does not run the validate signals (Django's ``save()`` never validates);
    ``clean()``/``full_clean()`` do, so forms and the admin run the same rules as bulk writes.
    """

    objects = BulkSignalManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, bypass_signals: bool = False, bypass_validation: bool = False, **kwargs: Any) -> None:
        """Django's ``save()``: a create or an update (``update_fields`` honoured; otherwise the
        event's ``update_fields`` are the fields that changed). An update loads the old row (one SELECT)."""
        if _parses_save_params(self, args, kwargs):
            kwargs = _named(self._parse_save_params(*args, method_name="save", **{**_SAVE_DEFAULTS, **kwargs}))  # type: ignore[attr-defined]  # Django 5.x only; checked above
            args = ()
        if bypass_signals:
            with _bypass_block(type(self)):
                return super().save(*args, **kwargs)
        return super().save(*args, **kwargs)

    save.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    async def asave(
        self, *args: Any, bypass_signals: bool = False, bypass_validation: bool = False, **kwargs: Any
    ) -> None:
        """Django's ``asave()`` (which runs ``save()`` in a thread: the bypass travels in the context)."""
        if _parses_save_params(self, args, kwargs):
            kwargs = _named(self._parse_save_params(*args, method_name="asave", **{**_SAVE_DEFAULTS, **kwargs}))  # type: ignore[attr-defined]  # Django 5.x only; checked above
            args = ()
        if bypass_signals:
            with _bypass_block(type(self)):
                return await super().asave(*args, **kwargs)
        return await super().asave(*args, **kwargs)

    asave.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        source = SAVE_SOURCE.get()
        if source is not None:
            SAVE_SOURCE.set(None)  # nested saves from receivers are plain saves
        model = type(self)
        if raw or not wants(model, *_SAVE_SIGNALS):
            return super().save_base(raw, force_insert, force_update, using, update_fields)
        using = using or router.db_for_write(model, instance=self)
        with write_transaction(using):
            old = None if force_insert else self._stored_row(using)
            if old is None and force_update:  # Django raises "Forced update did not affect any rows."
                return super().save_base(raw, force_insert, force_update, using, update_fields)
            if old is None:
                event = BulkEvent(
                    model=model,
                    operation=Operation.CREATE,
                    source=source or Source.SAVE,
                    new_records=(self,),
                    using=using,
                )
                emit(s.bulk_pre_create, event)
                super().save_base(raw, force_insert, force_update, using, update_fields)
                emit(s.bulk_post_create, event)
                return None
            written = self._written_fields(old, update_fields)
            event = BulkEvent(
                model=model,
                operation=Operation.UPDATE,
                source=source or Source.SAVE,
                new_records=(self,),
                old_records=(old,),
                update_fields=written,
                using=using,
            )
            emit(s.bulk_pre_update, event)
            super().save_base(raw, force_insert, force_update, using, update_fields)
            if update_fields is None and wants(model, s.bulk_pre_update):  # a before receiver may change more
                event = BulkEvent(
                    model=model,
                    operation=Operation.UPDATE,
                    source=source or Source.SAVE,
                    new_records=(self,),
                    old_records=event.old_records,
                    update_fields=self._written_fields(old, None),
                    using=using,
                )
            emit(s.bulk_post_update, event)
        return None

    save_base.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def _stored_row(self, using: str) -> Any:
        """The row as stored, or None when this save will insert (no pk, or a new row with a default pk)."""
        pk = self.pk
        if pk is None:
            return None
        meta_pk = self._meta.pk
        if self._state.adding and (
            meta_pk.has_default() or getattr(meta_pk, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
        ):
            return None  # Django inserts without trying an UPDATE first
        return load_one(type(self), using, pk)

    def _written_fields(self, old: Any, update_fields: Any) -> tuple[str, ...]:
        if update_fields is not None:
            names = {self._meta.get_field(name).name for name in update_fields}
            return tuple(f.name for f in self._meta.concrete_fields if f.name in names)
        if old is None:
            return ()
        return tuple(changed_fields(type(self), [(self, old)]))

    def delete(
        self,
        using: str | None = None,
        keep_parents: bool = False,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> tuple[int, dict[str, int]]:
        """Django's ``delete()``; the event's old record is a copy of this instance (no query)."""
        model = type(self)
        if bypass_signals or not wants(model, *_DELETE_SIGNALS) or self.pk is None:
            return super().delete(using, keep_parents)
        using = using or router.db_for_write(model, instance=self)
        # Django's Model.delete(), with our events around its collector's delete: it collects first, so a
        # ProtectedError/RestrictedError comes before any receiver and leaves an enclosing block usable.
        collector = Collector(using=using, origin=self)
        collector.collect([self], keep_parents=keep_parents)
        with write_transaction(using):
            event = BulkEvent(
                model=model,
                operation=Operation.DELETE,
                source=Source.DELETE,
                old_records=(clone_record(self),),
                using=using,
            )
            emit(s.bulk_pre_delete, event)
            result = collector.delete()
            emit(s.bulk_post_delete, event)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    async def adelete(
        self,
        using: str | None = None,
        keep_parents: bool = False,
        *,
        bypass_signals: bool = False,
        bypass_validation: bool = False,
    ) -> tuple[int, dict[str, int]]:
        """Django's ``adelete()`` (which runs ``delete()`` in a thread: the bypass travels in the context)."""
        if bypass_signals:
            with _bypass_block(type(self)):
                return await super().adelete(using, keep_parents)
        return await super().adelete(using, keep_parents)

    adelete.alters_data = True  # type: ignore[attr-defined]  # Django's write-method marker

    def clean(self) -> None:
        """Django's ``clean()``, then the validate signals for this record (create or update)."""
        super().clean()
        model = type(self)
        if not wants(model, *_VALIDATE_SIGNALS):
            return
        using = self._state.db or router.db_for_write(model, instance=self)
        old = None if self._state.adding else self._stored_row(using)
        if old is None:
            emit(
                s.bulk_validate_create,
                BulkEvent(
                    model=model,
                    operation=Operation.CREATE,
                    source=Source.SAVE,
                    new_records=(self,),
                    using=using,
                ),
            )
        else:
            emit(
                s.bulk_validate_update,
                BulkEvent(
                    model=model,
                    operation=Operation.UPDATE,
                    source=Source.SAVE,
                    new_records=(self,),
                    old_records=(old,),
                    update_fields=self._written_fields(old, None),
                    using=using,
                ),
            )
