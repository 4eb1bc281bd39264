"""The synchronous side: a bulk API request with a bad item, then signals on a ``QuerySet.update()``.

``make demo`` runs it between the core walkthrough and the jobs walkthrough; alone:
``.venv/bin/hatch run integration:demo sync``. The example project (``tests-integration/``) on SQLite in a
temporary folder, or PostgreSQL with ``DATABASE_URL`` (its demo rows are deleted first).
"""

from __future__ import annotations

import json
from typing import Any

from demo.common import setup_django, title


def show(response: Any) -> None:
    """The status line and the JSON body of an API answer, one object of a list per line."""
    print(f"  -> {response.status_code} {response.status_text}")
    body = response.json()
    for key, value in body.items() if isinstance(body, dict) else [("", body)]:
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            print(f"     {key}:")
            for item in value:
                print(f"       {json.dumps(item)}")
        else:
            print(f"     {key}: {json.dumps(value)}" if key else f"     {json.dumps(value)}")


def main() -> int:
    settings = setup_django()
    from bulk_signals_django import BulkEvent, HasChanged
    from bulk_signals_django.decorators import after_update, before_update
    from bulk_signals_django.signals import bulk_post_update, bulk_pre_update
    from django.contrib.auth.models import User
    from django.db.models import F
    from ledger.models import Account, Transaction
    from rest_framework.test import APIClient

    db = settings.DATABASES["default"]
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
    User.objects.filter(username="demo-sync").delete()  # its accounts and transactions go with it
    user = User.objects.create_user("demo-sync", password="demo")
    accounts = Account.objects.bulk_create(Account(owner=user, name=name) for name in ("groceries", "rent", "savings"))
    client = APIClient()
    client.force_authenticate(user)

    title("1. An array POST with one bad item: every error by index, nothing written")
    items = [
        {"account": accounts[0].pk, "reference": "S-1", "amount": "12.50"},
        {"account": accounts[1].pk, "reference": "S-2", "amount": "twelve"},
        {"account": accounts[2].pk, "reference": "S-3", "amount": "100.00"},
    ]
    print("POST /api/transactions/ with an array of 3 items:")
    for item in items:
        print(f"       {json.dumps(item)}")
    show(client.post("/api/transactions/", items, format="json"))
    stored = Transaction.objects.filter(owner=user).count()
    print(f"  transactions stored: {stored} (every item is validated before the one write: nothing was written)")

    title("2. The same array, fixed: one INSERT, and the receivers ran (balances, audit)")
    items[1]["amount"] = "850.00"
    print(f"POST /api/transactions/  (item 1's amount is now {items[1]['amount']})")
    show(client.post("/api/transactions/", items, format="json"))
    for account in Account.objects.filter(owner=user).order_by("id"):
        print(f"  {account.name:<10} balance {account.balance}  (the after_create receiver of the ledger app)")

    title("3. QuerySet.update(): before/after receivers see each row's old and new values")

    @before_update(Account, when=HasChanged("status"), id="demo.freeze_check")
    def before(sender: Any, event: BulkEvent) -> None:
        print(f"  before_update ({event.source.value}, {len(event)} rows): nothing written yet")

    @after_update(Account, when=HasChanged("status") | HasChanged("balance"), id="demo.changes")
    def after(sender: Any, event: BulkEvent) -> None:
        for new, old in event.pairs():
            changes = [
                f"{field} {getattr(old, field)} -> {getattr(new, field)}"
                for field in ("status", "balance")
                if getattr(old, field) != getattr(new, field)
            ]
            print(f"  after_update  {new.name:<10} {', '.join(changes)}")

    print('Account.objects.filter(owner=user, balance__gt=50).update(status="frozen")')
    Account.objects.filter(owner=user, balance__gt=50).update(status="frozen")
    print('Account.objects.filter(owner=user).update(balance=F("balance") + 1)  # an expression: old and new known')
    Account.objects.filter(owner=user).update(balance=F("balance") + 1)
    print("  (one SELECT of the rows and their pending values, one UPDATE; HasChanged picks the rows shown)")
    bulk_pre_update.disconnect(id="demo.freeze_check")  # decorator receivers stay connected: the demo's go now
    bulk_post_update.disconnect(id="demo.changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
