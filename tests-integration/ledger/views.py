"""Ledger viewsets: every user sees only their own accounts and transactions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bulk_drf import BulkViewSetMixin
from bulk_drf.jobs.aggregates import register_aggregate
from django.db.models import Count, Sum
from rest_framework import filters, viewsets

from .models import Account, Transaction
from .serializers import AccountSerializer, TransactionSerializer


class AccountViewSet(BulkViewSetMixin, viewsets.ModelViewSet):
    serializer_class = AccountSerializer

    def get_queryset(self) -> Any:
        return Account.objects.filter(owner=self.request.user).order_by("id")


class TransactionViewSet(BulkViewSetMixin, viewsets.ModelViewSet):
    serializer_class = TransactionSerializer
    # The list (and so an export job: POST /api/transactions/bulk/export/) filters with ?search= and ?ordering=.
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["reference", "memo"]
    ordering_fields = ["id", "amount", "reference"]

    def get_queryset(self) -> Any:
        return Transaction.objects.filter(owner=self.request.user).order_by("id")


@register_aggregate("top_accounts")
def top_accounts(queryset: Any, job: Any) -> list[dict[str, Any]]:
    """The three accounts that received the most money in this job."""
    rows = queryset.values("account__name").annotate(n=Count("id"), total=Sum("amount")).order_by("-total")[:3]
    cent = Decimal("0.01")
    return [
        {"account": r["account__name"], "transactions": r["n"], "total": str(r["total"].quantize(cent))} for r in rows
    ]
