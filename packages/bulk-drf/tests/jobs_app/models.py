"""Models of the job-layer tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
