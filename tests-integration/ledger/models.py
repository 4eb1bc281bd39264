"""Ledger models: every write goes through bulk-signals-django (BulkSignalModelMixin)."""

from __future__ import annotations

from bulk_signals_django import BulkSignalModelMixin
from django.conf import settings
from django.db import models


class Account(BulkSignalModelMixin, models.Model):
    """A user's account; ``balance`` is kept by the balance receiver, never written by clients."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=100)
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    status = models.CharField(max_length=20, default="open")

    def __str__(self) -> str:
        return self.name


class Transaction(BulkSignalModelMixin, models.Model):
    """A movement of money on an account, identified by the client's unique ``reference``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="transactions")
    reference = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    memo = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["id"]


class AuditEntry(models.Model):
    """What the audit receiver wrote: one line per bulk write event."""

    model = models.CharField(max_length=50)
    operation = models.CharField(max_length=20)
    source = models.CharField(max_length=30)
    rows = models.PositiveIntegerField()
    total_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
