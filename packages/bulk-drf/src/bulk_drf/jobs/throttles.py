"""``BulkJobCreateThrottle``: how many jobs one user may create per period (scope ``bulk_drf_jobs``).

It is DRF's ``ScopedRateThrottle`` with a fixed scope: the rate is
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["bulk_drf_jobs"]`` when set, else ``BULK_DRF_JOB_CREATE_RATE``
(default ``"120/minute"``; ``None`` turns it off). Its cache keys are ScopedRateThrottle's
(``throttle_bulk_drf_jobs_<user id>``), so a view of yours with ``throttle_scope = "bulk_drf_jobs"`` and
``ScopedRateThrottle`` shares the same budget. ``BulkJobsMixin`` adds it to the routes that create a
job (``bulk/`` in every method, ``bulk/jobs/``), on top of the viewset's own throttles.

Like every cache use of the job layer it fails open: a cache that does not answer lets the request
through (and logs), it does not turn job creation into a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from ..conf import bulk_settings

__all__ = ["SCOPE", "BulkJobCreateThrottle"]

SCOPE = "bulk_drf_jobs"
"""The throttle scope of job creation (a key of ``DEFAULT_THROTTLE_RATES``)."""

logger = logging.getLogger("bulk_drf.throttles")


class BulkJobCreateThrottle(ScopedRateThrottle):
    """Per-user (per-IP when anonymous) rate of job creation; see the module's docstring."""

    scope = SCOPE

    def __init__(self) -> None:  # the rate is read per request, so override_settings and reloads apply
        pass

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)
        return rate if rate is not None else bulk_settings.JOB_CREATE_RATE  # type: ignore[return-value]  # a rate string

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            # SimpleRateThrottle's, not ScopedRateThrottle's: the scope is ours, not the view's throttle_scope.
            return bool(super(ScopedRateThrottle, self).allow_request(request, view))
        except Exception as exc:  # the cache is down: let the request through
            logger.warning("bulk_drf_jobs throttle not applied: the cache failed (%s: %s)", type(exc).__name__, exc)
            return True
