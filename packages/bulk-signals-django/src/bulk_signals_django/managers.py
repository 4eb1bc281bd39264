"""``BulkSignalManager``: the default manager of :class:`BulkSignalModelMixin` models."""

from __future__ import annotations

from django.db import models

from .queryset import BulkSignalQuerySet

__all__ = ["BulkSignalManager"]


class BulkSignalManager(models.Manager.from_queryset(BulkSignalQuerySet)):  # type: ignore[misc]
    """A manager whose querysets send the bulk signals on every write.

    For custom querysets: ``MyQuerySet(BulkSignalQuerySet).as_manager()`` or
    ``BulkSignalManager.from_queryset(MyQuerySet)``.
    """
