"""``BulkSignalManager``: the default manager of :class:`BulkSignalModelMixin` models."""

from __future__ import annotations

from typing import Any

from django.db import models

from .queryset import BulkSignalQuerySet

__all__ = ["BulkSignalManager"]


# Named at module level: the form django-stubs' plugin reads (it gives the manager the queryset's methods).
_BulkSignalManagerBase = models.Manager.from_queryset(BulkSignalQuerySet)


class BulkSignalManager(_BulkSignalManagerBase[Any]):
    """A manager whose querysets send the bulk signals on every write.

    For custom querysets: ``MyQuerySet(BulkSignalQuerySet).as_manager()`` or
    ``BulkSignalManager.from_queryset(MyQuerySet)``.
    """
