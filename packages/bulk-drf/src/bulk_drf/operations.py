"""``bulk_drf.operations``, kept from 0.1: it lives in ``bulk_drf.sync.operations``."""

from __future__ import annotations

from .sync.operations import (
    BatchResult,
    ItemError,
    ItemSuccess,
    Operation,
    execute_batch,
    write_create,
    write_delete,
    write_update,
    write_upsert,
)

__all__ = [
    "BatchResult",
    "ItemError",
    "ItemSuccess",
    "Operation",
    "execute_batch",
    "write_create",
    "write_delete",
    "write_update",
    "write_upsert",
]
