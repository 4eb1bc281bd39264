"""Receivers of the ledger: balances follow transactions, and every bulk write leaves an audit line."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from bulk_signals_django import BulkEvent
from bulk_signals_django.decorators import after_create, after_delete
from django.db.models import F

from .models import Account, AuditEntry, Transaction


@after_create(Transaction, id="ledger.balance")
def add_to_balances(sender: Any, event: BulkEvent) -> None:
    """Add each new transaction's amount to its account: one UPDATE per account touched."""
    _move_balances(event.new_records, sign=1)


@after_delete(Transaction, id="ledger.balance_on_delete")
def remove_from_balances(sender: Any, event: BulkEvent) -> None:
    """Take deleted transactions back out of their accounts."""
    _move_balances(event.old_records, sign=-1)


def _move_balances(transactions: Any, sign: int) -> None:
    per_account: dict[int, Decimal] = defaultdict(Decimal)
    for transaction in transactions:
        per_account[transaction.account_id] += Decimal(transaction.amount) * sign
    # In account order: chunks of one job commit in parallel, and two transactions that lock the same accounts
    # in different orders deadlock (PostgreSQL then rolls one back, and its chunk is retried).
    for account_id, delta in sorted(per_account.items()):
        Account.objects.filter(pk=account_id).update(balance=F("balance") + delta)


@after_create(Transaction, id="ledger.audit_create")
@after_delete(Transaction, id="ledger.audit_delete")
def audit(sender: Any, event: BulkEvent) -> None:
    """One audit line per bulk write of transactions (rows and total amount)."""
    records = event.new_records or event.old_records
    AuditEntry.objects.create(
        model=event.model.__name__,
        operation=str(event.operation.value if hasattr(event.operation, "value") else event.operation),
        source=str(event.source.value if hasattr(event.source, "value") else event.source),
        rows=len(records),
        total_amount=sum((Decimal(r.amount) for r in records), Decimal(0)),
    )
