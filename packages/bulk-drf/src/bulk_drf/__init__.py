"""bulk-drf: array create/update/upsert/delete and ``?ids=`` reads for DRF viewsets, plus background jobs.

Two wings: ``bulk_drf.sync`` (the synchronous endpoints: ``BulkOperationsMixin``, ``execute_batch``) and
``bulk_drf.jobs`` (background jobs: models, lifecycle, worker, the ``/bulk/`` routes of ``BulkJobsMixin``
and the ``/api/bulk-jobs/`` resource). Jobs sit on sync; sync never imports jobs.

Public names are exported lazily (PEP 562): importing ``bulk_drf`` loads neither DRF views nor models,
so the package can be imported while Django's app registry is still loading.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .jobs.mixins import BulkJobsMixin, BulkViewSetMixin
    from .sync.mixins import BulkOperationsMixin
    from .sync.operations import BatchResult, ItemError, ItemSuccess, execute_batch

__all__ = [
    "BatchResult",
    "BulkJobsMixin",
    "BulkOperationsMixin",
    "BulkViewSetMixin",
    "ItemError",
    "ItemSuccess",
    "__version__",
    "execute_batch",
]

_LAZY = {
    "BulkOperationsMixin": "sync.mixins",
    "BulkJobsMixin": "jobs.mixins",
    "BulkViewSetMixin": "jobs.mixins",
    "BatchResult": "sync.operations",
    "ItemError": "sync.operations",
    "ItemSuccess": "sync.operations",
    "execute_batch": "sync.operations",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_drf' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
