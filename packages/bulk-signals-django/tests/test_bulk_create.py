import pytest
from bulk_signals_django import Operation, Source
from bulk_signals_django.decorators import before_create, validate_create
from django.core.exceptions import ValidationError

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def test_bulk_create_sends_validate_before_after_in_order(log):
    log.listen(Account)
    objs = AccountFactory.build_batch(3)
    Account.objects.bulk_create(objs)
    assert log.names == ["bulk_validate_create", "bulk_pre_create", "bulk_post_create"]
    event = log.event("bulk_post_create")
    assert event.operation is Operation.CREATE and event.source is Source.BULK_CREATE
    assert list(event.new_records) == objs and all(o.pk for o in event.new_records)


def test_bulk_create_returns_the_objects_like_django():
    objs = AccountFactory.build_batch(2)
    assert Account.objects.bulk_create(objs) == objs


def test_before_create_change_is_written():
    @before_create(Account)
    def upper(sender, event):
        for account in event.new_records:
            account.name = account.name.upper()

    Account.objects.bulk_create([Account(name="abc")])
    assert Account.objects.get().name == "ABC"


def test_validate_receiver_raising_leaves_nothing_written():
    @validate_create(Account)
    def reject(sender, event):
        raise ValidationError("no")

    with pytest.raises(ValidationError):
        Account.objects.bulk_create(AccountFactory.build_batch(2))
    assert Account.objects.count() == 0


def test_bypass_validation_skips_only_validation(log):
    log.listen(Account)

    @validate_create(Account)
    def reject(sender, event):
        raise ValidationError("no")

    Account.objects.bulk_create(AccountFactory.build_batch(2), bypass_validation=True)
    assert "bulk_validate_create" not in log.names and "bulk_post_create" in log.names


def test_bulk_create_of_nothing_sends_nothing(log):
    log.listen(Account)
    assert Account.objects.bulk_create([]) == []
    assert log.calls == []


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_abulk_create_fires_and_accepts_bypass(log):
    log.listen(Account)
    await Account.objects.abulk_create(AccountFactory.build_batch(2))
    await Account.objects.abulk_create(AccountFactory.build_batch(2), bypass_signals=True)
    assert log.names == ["bulk_validate_create", "bulk_pre_create", "bulk_post_create"]
    assert await Account.objects.acount() == 4
