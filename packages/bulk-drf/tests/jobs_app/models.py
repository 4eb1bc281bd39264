"""Models of the job-layer tests."""

from __future__ import annotations

import django
from bulk_drf.models import BulkJob
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Gadget(models.Model):
    """A row owned by a user; the viewset only shows a user their own gadgets."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gadgets")
    sku = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    qty = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "jobs_app"
        ordering = ["id"]


def _check(condition: models.Q, name: str) -> models.CheckConstraint:
    # Django 5.1 renamed ``check=`` to ``condition=`` (the old name warns, and tests turn warnings into errors).
    if django.VERSION >= (5, 1):
        return models.CheckConstraint(condition=condition, name=name)
    return models.CheckConstraint(check=condition, name=name)  # pragma: no cover - Django < 5.1


class Meter(models.Model):
    """A row the database guards with a CHECK constraint its serializer knows nothing about."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meters")
    code = models.CharField(max_length=20, unique=True)
    level = models.IntegerField()

    class Meta:
        app_label = "jobs_app"
        ordering = ["id"]
        constraints = [
            _check(models.Q(level__gte=0, level__lte=100), "jobs_app_meter_level_range"),
            # An expression key no serializer validator checks: "ab" and "AB" clash only in the database.
            models.UniqueConstraint(Lower("code"), name="jobs_app_meter_code_ci"),
        ]


class Reading(models.Model):
    """Keeps its meter alive: deleting a meter with readings is refused (``PROTECT``)."""

    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="readings")
    value = models.IntegerField()

    class Meta:
        app_label = "jobs_app"


class ArchivedJob(BulkJob):
    """A project's proxy of the job model (deleting through it must delete what the job's rows hold)."""

    class Meta:
        app_label = "jobs_app"
        proxy = True
