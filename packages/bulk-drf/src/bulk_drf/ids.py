"""``bulk_drf.ids``, kept from 0.1: it lives in ``bulk_drf.sync.ids``."""

from __future__ import annotations

from .sync.ids import (
    INTEGER_TYPES,
    InvalidId,
    id_parser,
    id_rule,
    parse_id,
)

__all__ = ["INTEGER_TYPES", "InvalidId", "id_parser", "id_rule", "parse_id"]
