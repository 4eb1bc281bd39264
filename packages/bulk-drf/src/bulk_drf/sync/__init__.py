"""The synchronous wing: array create/update/upsert/delete and ``?ids=`` reads on a viewset's list URL.

- ``mixins``: ``BulkOperationsMixin``, the viewset mixin;
- ``operations``: ``execute_batch``, validating and writing a batch all-or-nothing (or item by item);
- ``shortcuts``: the DRF shortcuts (validation and the render plan, each with when it applies and when it
  falls back to DRF's own code); ``validation``: the batch's uniqueness check and error shapes;
- ``ids``: the id syntax; ``storable``: values the database could not store; ``exceptions``: the HTTP errors;
- ``openapi``: drf-spectacular documentation of the array routes.

Nothing here imports ``bulk_drf.jobs`` (an import-linter contract checks it). Names are exported lazily, as
from ``bulk_drf``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .mixins import BulkOperationsMixin
    from .operations import BatchResult, ItemError, ItemSuccess, execute_batch

__all__ = ["BatchResult", "BulkOperationsMixin", "ItemError", "ItemSuccess", "execute_batch"]

_LAZY = {
    "BulkOperationsMixin": "mixins",
    "BatchResult": "operations",
    "ItemError": "operations",
    "ItemSuccess": "operations",
    "execute_batch": "operations",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_drf.sync' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
