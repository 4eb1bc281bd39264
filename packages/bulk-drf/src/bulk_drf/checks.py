"""System checks for the ``BULK_DRF_*`` settings and the job plumbing (``manage.py check`` reports them at
startup; a worker runs the plumbing checks when it starts, see ``jobs.tasks.check_at_worker_start``). The
plumbing checks live with the plumbing, in ``jobs.wiring``."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register

from .conf import DEFAULTS, bulk_settings
from .jobs.wiring import job_plumbing_problems

__all__ = ["check_job_plumbing", "check_settings", "job_plumbing_problems"]

_POSITIVE = [
    "CHUNK_SIZE",
    "MAX_RECORDS",
    "SYNC_MAX_ITEMS",
    "MAX_IDS",
    "CACHE_TIMEOUT",
    "PROGRESS_UPDATE_INTERVAL",
    "STALE_AFTER",
    "MAX_UPLOAD_BYTES",
    "MAX_JOB_BYTES",
    "OPEN_JOB_TTL",
]


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``bulk_drf.E001``: a limit that is not a positive integer; ``bulk_drf.W001``: sync limit above the total."""
    problems: list[Any] = []
    for name in _POSITIVE:
        try:
            value = getattr(bulk_settings, name)
        except (TypeError, ValueError):
            value = None
        if value is None or value < 1:
            problems.append(
                Error(
                    f"BULK_DRF_{name} must be a positive integer (default {DEFAULTS[name]}).",
                    id="bulk_drf.E001",
                )
            )
    try:
        batch_size = bulk_settings.BATCH_SIZE
    except (TypeError, ValueError):
        batch_size = 0
    if batch_size is not None and batch_size < 1:
        problems.append(Error("BULK_DRF_BATCH_SIZE must be None or a positive integer.", id="bulk_drf.E001"))
    try:
        max_open = bulk_settings.MAX_OPEN_JOBS
    except (TypeError, ValueError):
        max_open = 0
    if max_open is not None and max_open < 1:
        problems.append(Error("BULK_DRF_MAX_OPEN_JOBS must be None or a positive integer.", id="bulk_drf.E001"))
    rate = bulk_settings.JOB_CREATE_RATE
    if rate is not None:
        from rest_framework.throttling import SimpleRateThrottle

        try:
            SimpleRateThrottle.parse_rate(SimpleRateThrottle.__new__(SimpleRateThrottle), rate)
        except (KeyError, ValueError, IndexError, AttributeError):
            problems.append(
                Error(
                    f"BULK_DRF_JOB_CREATE_RATE must be None or a rate such as '120/minute', got {rate!r}.",
                    id="bulk_drf.E001",
                )
            )
    if not problems and bulk_settings.SYNC_MAX_ITEMS > bulk_settings.MAX_RECORDS:
        problems.append(
            Warning(
                "BULK_DRF_SYNC_MAX_ITEMS is above BULK_DRF_MAX_RECORDS, so the smaller limit always applies.",
                hint="Lower BULK_DRF_SYNC_MAX_ITEMS.",
                id="bulk_drf.W001",
            )
        )
    return problems


@register()
def check_job_plumbing(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """W002/W003 (see :func:`job_plumbing_problems`)."""
    return job_plumbing_problems()
