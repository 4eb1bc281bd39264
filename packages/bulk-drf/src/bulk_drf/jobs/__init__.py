"""The jobs wing: tracked background bulk jobs on Celery, built on the synchronous wing (``bulk_drf.sync``).

- ``models``, ``states``: the job, its data chunks and results, the state machine; ``errors``: its rules' errors;
- ``lifecycle``: create, fill, move between states, queue (by task name); ``uploads``, ``csv_io``: the data;
- ``processing`` (the worker's loop), ``tasks`` (the Celery tasks), ``progress`` (the cached status),
  ``retention``, ``aggregates``, ``schedule``, ``wiring`` (the Celery app), ``signals``, ``telemetry``
  (OpenTelemetry spans and metrics of the worker);
- ``mixins``: ``BulkJobsMixin`` (the ``/bulk/`` routes) and ``BulkViewSetMixin`` (both wings); ``views``,
  ``serializers``, ``openapi``, ``http``, ``throttles``: the job API; ``admin``: the job admin and its imports.

Names are exported lazily: Django imports ``bulk_drf.jobs.models`` (through ``bulk_drf.models``) while its app
registry is loading, before any view could be.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mixins import BulkJobsMixin, BulkViewSetMixin

__all__ = ["BulkJobsMixin", "BulkViewSetMixin"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'bulk_drf.jobs' has no attribute {name!r}")
    value = getattr(import_module(".mixins", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
