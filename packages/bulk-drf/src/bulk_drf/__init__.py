"""bulk-drf: array create/update/upsert/delete and ``?ids=`` reads for DRF viewsets, plus background jobs.

Public names are exported lazily (PEP 562): importing ``bulk_drf`` loads neither DRF views nor models,
so the package can be imported while Django's app registry is still loading.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .mixins import BulkOperationsMixin
    from .operations import BatchResult, ItemError, ItemSuccess, execute_batch

__all__ = ["BatchResult", "BulkOperationsMixin", "ItemError", "ItemSuccess", "__version__", "execute_batch"]

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
        raise AttributeError(f"module 'bulk_drf' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
