"""``bulk_drf.throttles``, kept from 0.1: it lives in ``bulk_drf.jobs.throttles``."""

from __future__ import annotations

from .jobs.throttles import (
    SCOPE,
    BulkJobCreateThrottle,
)

__all__ = ["SCOPE", "BulkJobCreateThrottle"]
