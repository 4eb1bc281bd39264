"""Aggregates over the rows a completed job wrote: sum, count, avg, min, max and named custom functions.

Custom aggregates are plain functions registered in code::

    from bulk_drf.jobs.aggregates import register_aggregate

    @register_aggregate("net_total")
    def net_total(queryset, job):
        return queryset.aggregate(v=Sum("amount") - Sum("fee"))["v"]

The queryset is the target viewset's ``get_queryset()`` for the job's owner, limited to the rows the
job succeeded on, so an aggregate never sees a row the owner could not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Avg, Count, Max, Min, Sum
from django.db.models.functions import Cast
from rest_framework.exceptions import ValidationError

from ..sync.ids import INTEGER_TYPES
from .models import BulkJob, BulkJobResult
from .states import ResultKind

__all__ = ["BUILTIN", "check_spec", "compute", "job_rows", "register_aggregate", "registered"]

BUILTIN: dict[str, type[models.Aggregate]] = {"sum": Sum, "count": Count, "avg": Avg, "min": Min, "max": Max}

# sum/avg only make sense over numbers: PostgreSQL refuses SUM(text) (a 500), SQLite answers 0.
_NUMERIC_ONLY = frozenset({"sum", "avg"})
_NUMERIC_FIELDS = (models.IntegerField, models.FloatField, models.DecimalField, models.DurationField)

AggregateFunction = Callable[[models.QuerySet[Any], BulkJob], Any]
_registry: dict[str, AggregateFunction] = {}


def register_aggregate(name: str) -> Callable[[AggregateFunction], AggregateFunction]:
    """Register ``func(queryset, job) -> value`` under ``name`` (``?custom=name``)."""

    def decorator(func: AggregateFunction) -> AggregateFunction:
        _registry[name] = func
        return func

    return decorator


def registered() -> list[str]:
    """Names of the registered custom aggregates."""
    return sorted(_registry)


def job_rows(job: BulkJob, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """``queryset`` limited to the rows the job succeeded on (a subquery, whatever the job's size)."""
    pk_field = queryset.model._meta.pk
    internal = pk_field.get_internal_type()
    if internal in INTEGER_TYPES:
        cast: models.Field[Any, Any] = models.BigIntegerField()
    elif internal == "UUIDField":
        cast = models.UUIDField()
    else:
        cast = models.CharField(max_length=255)
    pks = (
        BulkJobResult.objects.filter(job_id=job.pk, kind=ResultKind.SUCCEEDED)
        .annotate(pk_value=Cast("object_pk", output_field=cast))
        .values("pk_value")
    )
    return queryset.filter(pk__in=pks)


def check_spec(spec: Mapping[str, Any]) -> None:
    """400 unless every value of ``spec`` is a list of field (or custom aggregate) names, as strings."""
    errors: dict[str, list[str]] = {}
    for function, fields in spec.items():
        if not isinstance(fields, list) or not all(isinstance(field, str) for field in fields):
            errors[str(function)] = ['expected field names as strings, e.g. {"sum": ["amount"]} or {"sum": "amount"}']
    if errors:
        raise ValidationError(errors)


def compute(job: BulkJob, queryset: models.QuerySet[Any], spec: Mapping[str, list[str]]) -> dict[str, Any]:
    """Evaluate ``spec`` (``{"sum": ["amount"], "count": ["*"], "custom": ["net_total"]}``) over the job's rows.

    Built-ins run in ONE query; answers are keyed ``"<function>__<field>"`` and ``"<custom name>"``.
    Unknown functions, fields and custom names raise a 400 naming them.
    """
    check_spec(spec)
    rows = job_rows(job, queryset)
    model = queryset.model
    expressions: dict[str, models.Aggregate] = {}
    errors: dict[str, list[str]] = {}
    quantums: dict[str, Decimal] = {}
    for function, fields in spec.items():
        if function == "custom":
            continue
        if function not in BUILTIN:
            errors.setdefault(function, []).append(
                f"unknown aggregate {function!r}; use {', '.join(BUILTIN)} or custom"
            )
            continue
        for field in fields:
            if field in ("*", "pk") and function == "count":
                expressions[f"count__{field}"] = Count("pk")
                continue
            try:
                model_field = model._meta.get_field(field)
            except FieldDoesNotExist:
                errors.setdefault(function, []).append(f"{model.__name__} has no field {field!r}")
                continue
            if not model_field.concrete:  # a reverse relation: would join and multiply the rows
                errors.setdefault(function, []).append(f"{model.__name__}.{field} is not a column of the table")
                continue
            if function in _NUMERIC_ONLY and (model_field.is_relation or not isinstance(model_field, _NUMERIC_FIELDS)):
                errors.setdefault(function, []).append(
                    f"{model.__name__}.{field} is not a number ({type(model_field).__name__}): "
                    f"{function} takes a numeric field"
                )
                continue
            expressions[f"{function}__{field}"] = BUILTIN[function](field)
            places = getattr(model_field, "decimal_places", None)
            if places is not None:  # SQLite sums decimals as floats: round back to the field's places
                quantums[f"{function}__{field}"] = Decimal(1).scaleb(-(places + (4 if function == "avg" else 0)))
    custom = list(spec.get("custom", []))
    for name in custom:
        if name not in _registry:
            errors.setdefault("custom", []).append(
                f"no custom aggregate named {name!r}; registered: {', '.join(registered()) or 'none'}"
            )
    if errors:
        raise ValidationError(errors)
    if not expressions and not custom:
        raise ValidationError({"non_field_errors": ["ask for at least one aggregate, e.g. ?sum=amount&count=*"]})
    answer: dict[str, Any] = dict(rows.aggregate(**expressions)) if expressions else {}
    # Decimals as strings (as DRF's DecimalField shows them): JSON floats would round money.
    answer = {
        k: str(v.quantize(quantums[k]) if k in quantums else v) if isinstance(v, Decimal) else v
        for k, v in answer.items()
    }
    for name in custom:
        answer[name] = _registry[name](rows, job)
    return answer
