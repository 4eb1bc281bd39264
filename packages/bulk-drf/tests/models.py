"""Small purpose-built models for bulk-drf's tests, one per uniqueness shape.

All use ``BulkSignalModelMixin``: API bulk writes must fire bulk-signals-django receivers.
"""

import itertools

from bulk_signals_django import BulkSignalModelMixin
from django.db import models
from django.db.models.query_utils import DeferredAttribute


class Thing(BulkSignalModelMixin, models.Model):
    """One ``unique=True`` field (``sku``), an ``auto_now`` field and an owner (a username)."""

    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=32, unique=True)
    quantity = models.IntegerField(default=0)
    owner = models.CharField(max_length=150, blank=True, default="")  # a username: no FK, no migrations needed
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.sku


class Pair(BulkSignalModelMixin, models.Model):
    """A ``unique_together`` key."""

    left = models.CharField(max_length=20)
    right = models.CharField(max_length=20)
    note = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        unique_together = [("left", "right")]


class Part(BulkSignalModelMixin, models.Model):
    """A foreign key and a ``UniqueConstraint`` over (thing, position); PROTECTs its thing from deletion."""

    thing = models.ForeignKey(Thing, on_delete=models.PROTECT, related_name="parts")
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=50, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thing", "position"], name="part_thing_position_unique")]


class Gadget(BulkSignalModelMixin, models.Model):
    """Many column types, nullable ones, choices and a nullable foreign key: for rendering tests."""

    class Kind(models.TextChoices):
        SMALL = "s", "Small"
        LARGE = "l", "Large"

    name = models.CharField(max_length=50)
    sku = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=1, choices=Kind.choices, default=Kind.SMALL)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    weight = models.FloatField(null=True)
    count = models.PositiveIntegerField(default=0)
    big = models.BigIntegerField(default=0)
    active = models.BooleanField(default=True)
    released = models.DateField(null=True)
    opens = models.TimeField(null=True)
    lasts = models.DurationField(null=True)
    token = models.UUIDField(null=True)
    extra = models.JSONField(default=dict)
    thing = models.ForeignKey(Thing, null=True, on_delete=models.SET_NULL, related_name="gadgets")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def label(self) -> str:
        return f"{self.kind} ({self.sku})"

    def shout(self) -> str:
        return self.sku.upper()


class GadgetProxy(Gadget):
    class Meta:
        proxy = True


_tickets = itertools.count(1)


class TicketNumberField(models.IntegerField):
    """A column whose field class works out its default itself, per row."""

    def get_default(self) -> int:
        return next(_tickets)


class Ticket(BulkSignalModelMixin, models.Model):
    number = TicketNumberField()
    label = models.CharField(max_length=20, default="t")


class Seat(BulkSignalModelMixin, models.Model):
    """A conditional ``UniqueConstraint``: one active seat per (room, number); cancelled seats may repeat."""

    room = models.CharField(max_length=20)
    number = models.PositiveIntegerField()
    cancelled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "number"], condition=models.Q(cancelled=False), name="seat_active_unique"
            )
        ]


class Voucher(BulkSignalModelMixin, models.Model):
    """A unique decimal: an upsert key the database bounds (``max_digits``)."""

    value = models.DecimalField(max_digits=8, decimal_places=2, unique=True)
    label = models.CharField(max_length=20, default="")


class UpperDescriptor(DeferredAttribute):
    """A column descriptor that converts what it is given (as encrypting or normalising fields do)."""

    def __set__(self, instance: models.Model, value: object) -> None:
        instance.__dict__[self.field.attname] = value.upper() if isinstance(value, str) else value


class UpperCharField(models.CharField):
    descriptor_class = UpperDescriptor


class Shouted(BulkSignalModelMixin, models.Model):
    """A column whose descriptor converts its default too: ``Model()`` stores ``"ABC"``."""

    name = models.CharField(max_length=20)
    code = UpperCharField(max_length=10, default="abc")


class Attachment(BulkSignalModelMixin, models.Model):
    """A ``FileField`` (its attribute is a ``FileDescriptor``)."""

    name = models.CharField(max_length=20)
    upload = models.FileField(default="", blank=True)
