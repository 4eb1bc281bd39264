"""Small purpose-built models for bulk-drf's tests, one per uniqueness shape."""

from django.conf import settings
from django.db import models


class Thing(models.Model):
    """One ``unique=True`` field (``sku``), an ``auto_now`` field and an optional owner."""

    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=32, unique=True)
    quantity = models.IntegerField(default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.sku


class Pair(models.Model):
    """A ``unique_together`` key."""

    left = models.CharField(max_length=20)
    right = models.CharField(max_length=20)
    note = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        unique_together = [("left", "right")]


class Part(models.Model):
    """A foreign key and a ``UniqueConstraint`` over (thing, position); PROTECTs its thing from deletion."""

    thing = models.ForeignKey(Thing, on_delete=models.PROTECT, related_name="parts")
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=50, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thing", "position"], name="part_thing_position_unique")]
