"""The viewsets staff can import into from the admin: every ``BulkJobsMixin`` viewset routed in the URLconf.

A viewset is found through its list route (DRF's ``as_view`` leaves the class on the view function as
``cls``), so nothing needs registering twice; the admin only ever names a target by its dotted path, and
only a path found here is imported (never an arbitrary string from a request).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, get_resolver, get_urlconf
from rest_framework.request import Request

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


def import_targets(user: Any) -> dict[str, ImportTarget]:
    """The importable viewsets of the current URLconf, by dotted path (first route wins), in route order.

    A viewset's model is its ``queryset``'s, else the one of ``get_queryset()`` for ``user`` (a viewset that
    cannot build its queryset for them is left out).
    """
    found: dict[str, ImportTarget] = {}
    for route, callback in _routes(get_resolver(get_urlconf()).url_patterns, ""):
        cls = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if not (isinstance(cls, type) and issubclass(cls, BulkJobsMixin)) or actions.get("get") != "list":
            continue
        path = f"{cls.__module__}.{cls.__qualname__}"
        if path in found:
            continue
        model = _model_of(cls, user)
        if model is not None:
            route = route.replace("^", "").replace("$", "")
            found[path] = ImportTarget(path=path, route=route, viewset=cls, model=model)
    return found


def _model_of(cls: type, user: Any) -> Any:
    queryset = getattr(cls, "queryset", None)
    if queryset is not None:
        return queryset.model
    django_request = HttpRequest()
    django_request.method = "GET"
    request = Request(django_request)
    request.user = user
    try:
        viewset = cls(request=request, args=(), kwargs={}, format_kwarg=None, action="list")
        return viewset.get_queryset().model  # a queryset is lazy: no query
    except Exception:  # a get_queryset that needs more than a user: not importable from the admin
        return None


def _routes(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback
