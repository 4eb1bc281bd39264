import pytest
from bulk_signals_django import Source

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def test_manager_create_reports_source_create(log):
    log.listen(Account)
    account = Account.objects.create(name="a")
    assert log.names == ["bulk_pre_create", "bulk_post_create"]
    assert log.event("bulk_post_create").source is Source.CREATE
    assert log.event("bulk_post_create").new_records == (account,)


def test_get_or_create_fires_create_only_when_it_creates(log):
    log.listen(Account)
    _, created = Account.objects.get_or_create(name="a", defaults={"status": "new"})
    assert created and log.names == ["bulk_pre_create", "bulk_post_create"]
    _, created = Account.objects.get_or_create(name="a")
    assert not created and len(log.calls) == 2


def test_update_or_create_updates_with_old_values(log):
    AccountFactory.create(name="a", status="open")
    log.listen(Account)
    _, created = Account.objects.update_or_create(name="a", defaults={"status": "closed"})
    assert not created
    event = log.event("bulk_post_update")
    assert event.source is Source.SAVE
    ((new, old),) = event.pairs()
    assert (old.status, new.status) == ("open", "closed")
    assert "status" in event.update_fields


def test_update_or_create_creates(log):
    log.listen(Account)
    Account.objects.update_or_create(name="z", defaults={"status": "closed"})
    assert log.event("bulk_post_create").source is Source.CREATE


def test_nested_save_in_a_create_receiver_reports_source_save(log):
    from bulk_signals_django.decorators import after_create

    seen = []

    @after_create(Account)
    def nested(sender, event):
        seen.append(event.source)
        if event.source is Source.CREATE:
            AccountFactory.build(name="child").save()

    Account.objects.create(name="parent")
    assert seen == [Source.CREATE, Source.SAVE]


def test_create_bypass_signals_keyword(log):
    log.listen(Account)
    Account.objects.create(name="quiet", bypass_signals=True)
    assert log.calls == [] and Account.objects.filter(name="quiet").exists()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_acreate_and_aget_or_create_fire(log):
    log.listen(Account)
    await Account.objects.acreate(name="x")
    await Account.objects.aget_or_create(name="y")
    assert log.names.count("bulk_post_create") == 2
