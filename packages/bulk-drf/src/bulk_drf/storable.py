"""``bulk_drf.storable``, kept from 0.1: it lives in ``bulk_drf.sync.storable``."""

from __future__ import annotations

from .sync.storable import (
    check_records,
    printable,
    unstorable,
    unstorable_text,
)

__all__ = ["check_records", "printable", "unstorable", "unstorable_text"]
