"""Listing jobs: the filters of ``GET /api/bulk-jobs/`` and ``GET /things/bulk/jobs/``, and their pagination.

``?state=`` and ``?operation=`` take one value or several, comma-separated (``state=Open,InProgress``);
``?created_after=`` and ``?created_before=`` take an ISO 8601 date-time or date (a naive one is read in the
current time zone; a date is its midnight). ``created_after`` is inclusive, ``created_before`` exclusive.
Anything else is a 400 naming the parameter: a filter that cannot be applied is never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from ..sync.storable import printable
from .models import BulkJob
from .states import JobOperation, JobState

__all__ = ["LIST_FILTERS", "BulkJobPagination", "count_param", "filter_jobs"]

LIST_FILTERS = ("state", "operation", "created_after", "created_before")
"""The query parameters that filter a job list."""

_COUNT = re.compile(r"[0-9]{1,15}\Z")  # ASCII digits; 15 keep any offset + limit far inside a bigint


def count_param(request: Request, name: str, default: int) -> int:
    """A non-negative integer query parameter: ASCII digits only (``int()`` takes "\\u0661", "1_0", "+1" and
    numbers past the database's bigint), else a 400 naming the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if _COUNT.match(raw) is None:
        raise ValidationError({name: [f"'{printable(raw)[:40]}' is not a count (ASCII digits, at most 15 of them)"]})
    return int(raw)


class BulkJobPagination(LimitOffsetPagination):
    """``?limit=&offset=`` on the job list: 50 jobs a page by default, at most 500."""

    default_limit = 50
    max_limit = 500

    def get_offset(self, request: Request) -> int:
        """DRF's offset, parsed as a count (400 for anything else: a huge offset is a database error)."""
        return count_param(request, self.offset_query_param, 0)

    def get_limit(self, request: Request) -> int | None:
        """DRF's limit, parsed as a count, at least 1 and at most ``max_limit``."""
        limit = count_param(request, self.limit_query_param, self.default_limit)
        return min(max(limit, 1), self.max_limit)


def filter_jobs(queryset: QuerySet[BulkJob], params: Mapping[str, Any]) -> QuerySet[BulkJob]:
    """``queryset`` narrowed by the list filters in ``params`` (a ``QueryDict``); 400 naming a bad one."""
    states = _choices(params, "state", JobState.values)
    if states:
        queryset = queryset.filter(state__in=states)
    operations = _choices(params, "operation", JobOperation.values)
    if operations:
        queryset = queryset.filter(operation__in=operations)
    after = _moment(params, "created_after")
    if after is not None:
        queryset = queryset.filter(created_at__gte=after)
    before = _moment(params, "created_before")
    if before is not None:
        queryset = queryset.filter(created_at__lt=before)
    return queryset


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist is not None else ([params[name]] if name in params else [])
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def _choices(params: Mapping[str, Any], name: str, allowed: list[str]) -> list[str]:
    values = _values(params, name)
    for value in values:
        if value not in allowed:
            raise ValidationError({name: [f"'{printable(value)[:40]}' is not one of {', '.join(allowed)}"]})
    return values


def _moment(params: Mapping[str, Any], name: str) -> dt.datetime | None:
    values = _values(params, name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["give one date-time"]})
    raw = values[0]
    problem = f"'{printable(raw)[:40]}' is not an ISO 8601 date-time or date (e.g. 2026-01-31T12:00:00Z or 2026-01-31)"
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is None:
                raise ValidationError({name: [problem]})
            moment = dt.datetime(day.year, day.month, day.day)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment.astimezone(dt.UTC)  # what the database is sent: year 1 at +05:00 is before year 1 in UTC
    except (ValueError, OverflowError):
        raise ValidationError({name: [problem]}) from None
    return moment
