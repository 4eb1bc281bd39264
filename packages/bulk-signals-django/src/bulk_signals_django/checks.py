"""System checks.

- ``bulk_signals_django.W001``: a model has more than one receiver on one signal (only when
  ``BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS`` is True).
- ``bulk_signals_django.W002``: a :class:`BulkSignalModelMixin` model's default manager does not
  make :class:`BulkSignalQuerySet` querysets, so its bulk writes would send no signal.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks

from .conf import settings
from .dispatch import receiver_count
from .signals import ALL_SIGNALS

__all__ = ["check_default_managers", "check_multiple_receivers"]


def _signal_models() -> list[Any]:
    from .models import BulkSignalModelMixin

    return [m for m in apps.get_models() if issubclass(m, BulkSignalModelMixin)]


@checks.register()
def check_default_managers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W002: the default manager must hand out BulkSignalQuerySets."""
    from .queryset import BulkSignalQuerySet

    messages: list[checks.CheckMessage] = []
    for model in _signal_models():
        queryset = model._default_manager.get_queryset()
        if not isinstance(queryset, BulkSignalQuerySet):
            messages.append(
                checks.Warning(
                    f"{model._meta.label}'s default manager {model._default_manager.name!r} returns "
                    f"{type(queryset).__name__}, not a BulkSignalQuerySet: its bulk writes send no bulk signal",
                    hint="Use BulkSignalManager, BulkSignalQuerySet.as_manager() or "
                    "BulkSignalManager.from_queryset(YourQuerySet).",
                    obj=model,
                    id="bulk_signals_django.W002",
                )
            )
    return messages


@checks.register()
def check_multiple_receivers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W001: more than one receiver for a model on one signal, when the setting asks for it."""
    if not settings.WARN_MULTIPLE_RECEIVERS:
        return []
    messages: list[checks.CheckMessage] = []
    for model in _signal_models():
        for signal in ALL_SIGNALS:
            count = receiver_count(signal, model)
            if count > 1:
                messages.append(
                    checks.Warning(
                        f"{model._meta.label} has {count} receivers on {signal.name}",
                        hint="Merge them, or set BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS = False.",
                        obj=model,
                        id="bulk_signals_django.W001",
                    )
                )
    return messages
