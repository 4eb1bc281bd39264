"""The viewsets staff can import into from the admin: every ``BulkJobsMixin`` viewset routed in the URLconf.

A viewset is found through its list route (DRF's ``as_view`` leaves the class on the view function as
``cls``), so nothing needs registering twice; the admin only ever names a target by its dotted path, and
only a path found here is imported (never an arbitrary string from a request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, get_urlconf

from ..mixins import BulkJobsMixin

__all__ = ["ImportTarget", "import_targets"]


@dataclass(frozen=True)
class ImportTarget:
    """A viewset jobs can write through: its dotted path (the job's ``viewset``), its route and its model."""

    path: str
    route: str
    viewset: type
    model: Any

    @property
    def label(self) -> str:
        """``Transactions (ledger.views.TransactionViewSet)``: what the admin shows."""
        return f"{self.model._meta.verbose_name_plural.capitalize()} ({self.path})"


def import_targets() -> dict[str, ImportTarget]:
    """The importable viewsets of the current URLconf, by dotted path (first route wins), in route order.

    A viewset without a ``queryset`` attribute (its ``get_queryset`` needs a request) is left out: its model
    cannot be known before a request, and so neither can the model permissions an import needs.
    """
    found: dict[str, ImportTarget] = {}
    for route, callback in _routes(get_resolver(get_urlconf()).url_patterns, ""):
        cls = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if not (isinstance(cls, type) and issubclass(cls, BulkJobsMixin)) or actions.get("get") != "list":
            continue
        queryset = getattr(cls, "queryset", None)
        if queryset is None:
            continue
        path = f"{cls.__module__}.{cls.__qualname__}"
        found.setdefault(path, ImportTarget(path=path, route=route, viewset=cls, model=queryset.model))
    return found


def _routes(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback
