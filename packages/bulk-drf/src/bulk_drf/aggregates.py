"""``bulk_drf.aggregates``, kept from 0.1: it lives in ``bulk_drf.jobs.aggregates``."""

from __future__ import annotations

from .jobs.aggregates import (
    BUILTIN,
    check_spec,
    compute,
    job_rows,
    register_aggregate,
    registered,
)

__all__ = ["BUILTIN", "check_spec", "compute", "job_rows", "register_aggregate", "registered"]
