"""System checks.

- ``bulk_signals_django.W001``: a model has more than one receiver on one signal (only when
  ``BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS`` is True).
- ``bulk_signals_django.W002``: a :class:`BulkSignalModelMixin` model's default manager does not
  make :class:`BulkSignalQuerySet` querysets, so its bulk writes would send no signal.
- ``bulk_signals_django.E001``: a model with a manager of :class:`BulkSignalQuerySet` has a field
  named ``bypass_signals`` or ``bypass_validation``: ``update(bypass_signals=...)`` would take it as our
  keyword and never write the field.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks

from .conf import settings
from .dispatch import receiver_count
from .signals import ALL_SIGNALS

__all__ = ["check_default_managers", "check_keyword_fields", "check_multiple_receivers", "keyword_field_errors"]


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


KEYWORDS = ("bypass_signals", "bypass_validation")


@checks.register(checks.Tags.models)
def check_keyword_fields(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E001: a field named like one of our keyword arguments cannot be written by ``update(**kwargs)``."""
    models = [m for c in app_configs for m in c.get_models()] if app_configs else apps.get_models()
    return [error for model in models for error in keyword_field_errors(model)]


def keyword_field_errors(model: Any) -> list[checks.CheckMessage]:
    """E001 for one model (none when no manager of it makes BulkSignalQuerySet instances)."""
    from .queryset import BulkSignalQuerySet

    # The managers' queryset classes, read without calling get_queryset() (no user code runs).
    manager_classes = [getattr(m, "_queryset_class", object) for m in model._meta.managers]
    if not any(issubclass(qs, BulkSignalQuerySet) for qs in manager_classes):
        return []
    messages: list[checks.CheckMessage] = []
    for field in model._meta.get_fields():
        names = {getattr(field, "name", None), getattr(field, "attname", None)}
        for keyword in KEYWORDS:
            if keyword in names:
                messages.append(
                    checks.Error(
                        f"{model._meta.label}.{field.name}: a field named {keyword!r} cannot be written by "
                        f"QuerySet.update({keyword}=...), which takes it as bulk-signals' keyword argument",
                        hint=f"Rename the field (keep its column with db_column={keyword!r}), or write it "
                        "with bulk_update() or save().",
                        obj=field,
                        id="bulk_signals_django.E001",
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
