from decimal import Decimal

import pytest
from bulk_signals_django import Operation, Source

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def test_save_of_a_new_record_sends_create_signals(log):
    log.listen(Account)
    account = AccountFactory.build()
    account.save()
    assert log.names == ["bulk_pre_create", "bulk_post_create"]
    event = log.event("bulk_post_create")
    assert event.operation is Operation.CREATE and event.source is Source.SAVE
    assert event.new_records == (account,) and event.old_records == ()
    assert account.pk is not None


def test_save_of_an_existing_record_sends_update_with_old_values(log):
    account = AccountFactory.create(balance=Decimal("10.00"))
    log.listen(Account)
    account.balance = Decimal("25.00")
    account.save()
    assert log.names == ["bulk_pre_update", "bulk_post_update"]
    event = log.event("bulk_post_update")
    assert event.source is Source.SAVE
    ((new, old),) = event.pairs()
    assert new is account and old.balance == Decimal("10.00") and new.balance == Decimal("25.00")
    assert event.update_fields == ("balance",)


def test_save_honours_update_fields(log):
    account = AccountFactory.create(name="a", status="open")
    log.listen(Account)
    account.name, account.status = "b", "closed"
    account.save(update_fields=["status"])
    assert log.event("bulk_pre_update").update_fields == ("status",)
    account.refresh_from_db()
    assert (account.name, account.status) == ("a", "closed")


def test_before_receiver_change_is_written(log):
    from bulk_signals_django.decorators import before_update

    @before_update(Account)
    def stamp(sender, event):
        for record in event.new_records:
            record.note = "stamped"

    account = AccountFactory.create()
    account.status = "closed"
    account.save()
    assert Account.objects.get(pk=account.pk).note == "stamped"


def test_save_update_costs_one_select_more_than_vanilla(log, django_assert_num_queries):
    account = AccountFactory.create()
    log.listen(Account)
    account.status = "closed"
    # SELECT old + UPDATE (the test runs inside a transaction: no statement of ours for it)
    with django_assert_num_queries(2):
        account.save()


def test_save_without_receivers_costs_what_django_costs(django_assert_num_queries):
    account = AccountFactory.create()
    account.status = "closed"
    with django_assert_num_queries(1):
        account.save()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_asave_sends_signals(log):
    log.listen(Account)
    account = AccountFactory.build()
    await account.asave()
    assert log.names == ["bulk_pre_create", "bulk_post_create"]
