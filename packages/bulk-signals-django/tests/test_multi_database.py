"""Multi-database routing with receivers connected: every write goes where Django would send it.

A router reads from "default" and writes to "other" (Django's own ``multiple_database`` suite does
the same). Before the fix, the signalled paths took the router's *read* database: ``bulk_update``,
``update()`` and ``delete()`` silently wrote nothing, and events named the wrong database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from bulk_signals_django.events import Operation
from django.test import override_settings

from .models import Account, Place, Product, Restaurant

pytestmark = pytest.mark.django_db(databases=["default", "other"], transaction=True)


class WritesToOther:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "other"

    def allow_relation(self, *args: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, *args: Any, **hints: Any) -> bool:
        return True


ROUTED = override_settings(DATABASE_ROUTERS=[f"{__name__}.WritesToOther"])


def other_account(name: str = "a", balance: int = 1) -> Account:
    return Account.objects.using("other").create(name=name, balance=balance)


def test_bulk_update_writes_to_the_write_database(log: Any) -> None:
    account = other_account()
    log.listen(Account)
    account.balance = Decimal(5)
    with ROUTED:
        assert Account.objects.bulk_update([account], ["balance"]) == 1
    assert Account.objects.using("other").get().balance == 5
    assert log.event("bulk_post_update").using == "other"


def test_bulk_update_without_fields_reads_the_write_database() -> None:
    account = other_account()
    account.balance = Decimal(7)
    with ROUTED:
        assert Account.objects.bulk_update([account]) == 1
    assert Account.objects.using("other").get().balance == 7


def test_queryset_update_writes_to_the_write_database(log: Any) -> None:
    account = other_account()
    log.listen(Account)
    with ROUTED:
        assert Account.objects.filter(pk=account.pk).update(status="closed") == 1
    assert Account.objects.using("other").get().status == "closed"
    event = log.event("bulk_post_update")
    assert event.using == "other"
    assert [r.status for r in event.new_records] == ["closed"]


def test_queryset_delete_deletes_in_the_write_database(log: Any) -> None:
    account = other_account()
    log.listen(Account)
    with ROUTED:
        assert Account.objects.filter(pk=account.pk).delete() == (1, {"tests.Account": 1})
    assert not Account.objects.using("other").exists()
    assert log.event("bulk_post_delete").using == "other"


def test_bulk_delete_deletes_in_the_write_database(log: Any) -> None:
    account = other_account()
    log.listen(Account)
    with ROUTED:
        assert Account.objects.bulk_delete([account]) == (1, {"tests.Account": 1})
    assert not Account.objects.using("other").exists()


def test_bulk_create_event_and_transaction_on_the_write_database(log: Any) -> None:
    log.listen(Account)
    with ROUTED:
        Account.objects.bulk_create([Account(name="x")])
    assert Account.objects.using("other").count() == 1
    assert not Account.objects.using("default").exists()
    assert log.event("bulk_post_create").using == "other"


def test_upsert_of_a_row_in_the_write_database_is_an_update(log: Any) -> None:
    Product.objects.using("other").create(sku="A", name="old")
    log.listen(Product)
    with ROUTED:
        Product.objects.bulk_create(
            [Product(sku="A", name="new")], update_conflicts=True, unique_fields=["sku"], update_fields=["name"]
        )
    assert "bulk_post_create" not in log.names
    event = log.event("bulk_post_update")
    assert event.using == "other"
    assert [r.name for r in event.old_records] == ["old"]


def test_mti_bulk_create_on_the_write_database(log: Any) -> None:
    log.listen(Restaurant)
    with ROUTED:
        Restaurant.objects.bulk_create([Restaurant(name="r")])
    assert Restaurant.objects.using("other").count() == 1
    assert Place.objects.using("other").count() == 1
    assert log.event("bulk_post_create").using == "other"


def test_save_and_delete_of_an_instance_use_the_write_database(log: Any) -> None:
    account = other_account()
    log.listen(Account)
    with ROUTED:
        account.status = "x"
        account.save()
        assert log.event("bulk_post_update").using == "other"
        account.delete()
    assert not Account.objects.using("other").exists()
    assert [e.operation for _, e in log.calls if _.startswith("bulk_post")] == [Operation.UPDATE, Operation.DELETE]


@pytest.mark.asyncio
async def test_async_twins_use_the_write_database(log: Any) -> None:
    from asgiref.sync import sync_to_async

    account = await sync_to_async(other_account)()
    log.listen(Account)
    with ROUTED:
        assert await Account.objects.filter(pk=account.pk).aupdate(status="y") == 1
        account.balance = Decimal(3)
        assert await Account.objects.abulk_update([account], ["balance"]) == 1
        assert await Account.objects.filter(pk=account.pk).adelete() == (1, {"tests.Account": 1})
    assert not await Account.objects.using("other").aexists()
