"""The shared bulk write path: validate a batch of items with a viewset's serializer and write it.

Used by the synchronous mixin (all-or-nothing) and by background jobs (chunk by chunk, partial
success). STUB: the synchronous-layer work replaces the body; the signatures below are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["insert", "update", "upsert", "delete"]


@dataclass
class ItemError:
    """One item that failed: its index in the caller's data and DRF-style errors
    (``{"field": [{"message": ..., "code": ...}], "non_field_errors": [...]}``)."""

    index: int
    errors: dict[str, Any]


@dataclass
class ItemSuccess:
    """One item written: its index, the row's pk and whether the row was created (else updated/deleted)."""

    index: int
    pk: Any
    created: bool = False


@dataclass
class BatchResult:
    succeeded: list[ItemSuccess] = field(default_factory=list)
    failed: list[ItemError] = field(default_factory=list)
    created_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0
    instances: list[Any] = field(default_factory=list)  # the written model instances, in item order


def execute_batch(
    viewset: Any,
    operation: Operation,
    items: list[Any],
    *,
    unique_fields: list[str] | None = None,
    partial: bool = True,
    all_or_nothing: bool = True,
    index_offset: int = 0,
) -> BatchResult:
    """Validate ``items`` with ``viewset``'s serializer and write them in bulk.

    ``viewset`` is a viewset instance with ``request`` (and ``format_kwarg``) set, so
    ``get_queryset()``/``get_serializer()``/permissions work as in a request. For ``delete``,
    items are pks. With ``all_or_nothing`` nothing is written when any item fails; otherwise
    valid items are written and failures reported. Item indexes are ``index_offset + i``.
    """
    raise NotImplementedError
