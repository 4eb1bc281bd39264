"""``bulk_create`` for multi-table inheritance children, which Django refuses.

Rows are inserted table by table from the root parent down: each table in batches, its primary keys
read back with ``RETURNING`` (PostgreSQL, SQLite >= 3.35, MariaDB), then copied into the next table's
parent link. Backends without ``RETURNING`` on bulk inserts insert the rows that need a generated
key one by one.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import connections, models
from django.db.models import AutoField

__all__ = ["has_parent_tables", "mti_bulk_create", "table_chain"]


def has_parent_tables(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` live in more than one table (multi-table inheritance)."""
    concrete = model._meta.concrete_model
    return any(parent._meta.concrete_model is not concrete for parent in model._meta.get_parent_list())


def table_chain(model: type[models.Model]) -> list[type[models.Model]]:
    """The concrete models whose tables hold a row of ``model``, root first."""
    # concrete_model is None only on abstract models, which have no rows.
    chain = [cast("type[models.Model]", model._meta.concrete_model)]
    while True:
        parents = chain[-1]._meta.parents
        if not parents:
            break
        if len(parents) > 1:
            names = ", ".join(p.__name__ for p in parents)
            raise ValueError(
                f"bulk_create() of {model.__name__} is not supported: {chain[-1].__name__} has several "
                f"concrete parents ({names}); only single-parent inheritance chains are"
            )
        chain.append(next(iter(parents)))
    return list(reversed(chain))


def mti_bulk_create(model: type[models.Model], objs: list[Any], using: str, batch_size: int | None) -> None:
    """Insert ``objs`` (instances of an MTI child ``model``) into every table of the chain.

    Call inside a transaction. Sets primary keys and parent links on ``objs``.
    """
    connection = connections[using]
    bulk_return = connection.features.can_return_rows_from_bulk_insert
    tables = table_chain(model)
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    for level, table in enumerate(tables):
        opts = table._meta
        if level:
            # This table's parent link takes the parent's freshly known key.
            parent = tables[level - 1]
            link = cast("models.Field[Any, Any]", opts.parents[parent])  # a parent link is a OneToOneField
            for obj in objs:
                setattr(obj, link.attname, getattr(obj, parent._meta.pk.attname))
        pk = opts.pk
        fields = [f for f in opts.local_concrete_fields if not getattr(f, "generated", False)]
        for obj in objs:
            if getattr(obj, pk.attname) is None:
                value = pk.get_pk_value_on_save(obj)  # type: ignore[attr-defined]  # Django's Field method, not in django-stubs
                if value is not None:
                    setattr(obj, pk.attname, value)
        with_pk = [o for o in objs if getattr(o, pk.attname) is not None]
        without_pk = [o for o in objs if getattr(o, pk.attname) is None]
        # Any: the private QuerySet API used below (_for_write, _batched_insert, _insert) is not in django-stubs.
        queryset: Any = models.QuerySet(model=table, using=using)
        queryset._for_write = True
        returning = opts.db_returning_fields
        if with_pk:
            queryset._batched_insert(with_pk, fields, batch_size)
        if without_pk:
            fields = [f for f in fields if not isinstance(f, AutoField)]
            if bulk_return:
                rows = queryset._batched_insert(without_pk, fields, batch_size)
            else:
                rows = [
                    queryset._insert([o], fields=fields, using=using, returning_fields=returning)[0] for o in without_pk
                ]
            for obj, row in zip(without_pk, rows, strict=True):
                for value, field in zip(row, returning, strict=False):
                    setattr(obj, field.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
