"""The payload every bulk signal carries: :class:`BulkEvent`, with :class:`Operation` and :class:`Source`."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conditions import Condition

__all__ = ["BulkEvent", "Operation", "Source"]


class Operation(enum.Enum):
    """What the write does to the rows."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Source(enum.Enum):
    """Which ORM call made the write."""

    SAVE = "save"  # Model.save() / asave(), also update_or_create()'s update
    CREATE = "create"  # Manager.create() / get_or_create() / update_or_create()'s create
    BULK_CREATE = "bulk_create"
    UPSERT = "upsert"  # bulk_create(update_conflicts=True)
    BULK_UPDATE = "bulk_update"
    QUERYSET_UPDATE = "queryset_update"
    DELETE = "delete"  # Model.delete()
    QUERYSET_DELETE = "queryset_delete"
    BULK_DELETE = "bulk_delete"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, eq=False)
class BulkEvent:
    """One write of one model: the rows it creates, updates or deletes.

    ``new_records[i]`` and ``old_records[i]`` are always the same row, whatever order the caller used.
    Creates have no ``old_records``; deletes have no ``new_records``. In before/validate receivers the
    new records are the pending values (change them and the change is written); in after receivers
    they are the written rows.
    """

    model: type
    """The concrete model class of the records (the MTI child, not the parent a receiver connected to)."""
    operation: Operation
    source: Source
    new_records: tuple[Any, ...] = ()
    old_records: tuple[Any, ...] = ()
    update_fields: tuple[str, ...] = ()
    """The field names written (given by the caller) or, when the caller gave none, the ones that changed."""
    using: str = "default"
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """Extra facts about the call (for example ``unique_fields`` of an upsert, ``kwargs`` of an update)."""

    def pairs(self) -> Iterator[tuple[Any, Any]]:
        """Yield ``(new, old)`` per row: ``old`` is ``None`` for creates, ``new`` is ``None`` for deletes."""
        if self.operation is Operation.CREATE:
            return ((new, None) for new in self.new_records)
        if self.operation is Operation.DELETE:
            return ((None, old) for old in self.old_records)
        return zip(self.new_records, self.old_records, strict=True)

    def __len__(self) -> int:
        """The number of rows in the event."""
        return len(self.old_records) if self.operation is Operation.DELETE else len(self.new_records)

    def matching(self, condition: Condition) -> BulkEvent:
        """A copy of the event holding only the rows for which ``condition`` holds."""
        if self.operation is Operation.CREATE:
            new = tuple(n for n in self.new_records if condition.check(n, None))
            return dataclasses.replace(self, new_records=new)
        if self.operation is Operation.DELETE:
            old = tuple(o for o in self.old_records if condition.check(None, o))
            return dataclasses.replace(self, old_records=old)
        kept = [(n, o) for n, o in zip(self.new_records, self.old_records, strict=True) if condition.check(n, o)]
        return dataclasses.replace(self, new_records=tuple(n for n, _ in kept), old_records=tuple(o for _, o in kept))
