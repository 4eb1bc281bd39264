"""``bulk_drf.schedule``, kept from 0.1: it lives in ``bulk_drf.jobs.schedule``."""

from __future__ import annotations

from .jobs.schedule import (
    beat_schedule,
)

__all__ = ["beat_schedule"]
