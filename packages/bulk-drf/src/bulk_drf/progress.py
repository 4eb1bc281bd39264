"""``bulk_drf.progress``, kept from 0.1: it lives in ``bulk_drf.jobs.progress``."""

from __future__ import annotations

from .jobs.progress import (
    cache_key,
    forget,
    forget_many,
    get_status,
    publish_progress,
    publish_status,
    set_status,
    status_document,
)

__all__ = [
    "cache_key",
    "forget",
    "forget_many",
    "get_status",
    "publish_progress",
    "publish_status",
    "set_status",
    "status_document",
]
