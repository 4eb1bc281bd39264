import random
from decimal import Decimal

import pytest
from bulk_signals_django import HasChanged, Source
from bulk_signals_django.decorators import after_update, before_update, validate_update
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def test_bulk_update_pairs_new_and_old_whatever_the_order(log):
    accounts = AccountFactory.create_batch(20)
    log.listen(Account)
    fresh = list(Account.objects.all())
    random.Random(3).shuffle(fresh)
    for a in fresh:
        a.balance = Decimal(a.pk)
    Account.objects.bulk_update(fresh, ["balance"])
    for name in ("bulk_pre_update", "bulk_post_update"):
        event = log.event(name)
        assert event.source is Source.BULK_UPDATE
        assert [n.pk for n in event.new_records] == [o.pk for o in event.old_records] == [a.pk for a in fresh]
        assert all(o.balance == Decimal("10.00") for o in event.old_records)
    assert len(accounts) == 20


def test_bulk_update_returns_rows_updated():
    accounts = AccountFactory.create_batch(3)
    for a in accounts:
        a.status = "x"
    assert Account.objects.bulk_update(accounts, ["status"]) == 3


def test_bulk_update_without_fields_writes_and_reports_the_changed_ones(log):
    accounts = AccountFactory.create_batch(3)
    log.listen(Account)
    accounts[0].status = "closed"
    accounts[2].note = "n"
    Account.objects.bulk_update(accounts)
    assert log.event("bulk_post_update").update_fields == ("status", "note")
    assert Account.objects.get(pk=accounts[0].pk).status == "closed"
    assert Account.objects.get(pk=accounts[2].pk).note == "n"


def test_bulk_update_without_fields_and_without_receivers_writes_every_field():
    accounts = AccountFactory.create_batch(2)
    accounts[1].name = "renamed"
    assert Account.objects.bulk_update(accounts) == 2
    assert Account.objects.get(pk=accounts[1].pk).name == "renamed"


def test_before_receiver_change_is_written_when_fields_are_detected():
    @before_update(Account)
    def stamp(sender, event):
        for a in event.new_records:
            a.note = "by receiver"

    accounts = AccountFactory.create_batch(2)
    accounts[0].status = "closed"
    Account.objects.bulk_update(accounts)
    assert set(Account.objects.values_list("note", flat=True)) == {"by receiver"}


def test_has_changed_filters_records_in_before_and_after(log):
    accounts = AccountFactory.create_batch(10)
    seen = {}

    @before_update(Account, when=HasChanged("status"))
    def before(sender, event):
        seen["before"] = [n.pk for n in event.new_records]

    @after_update(Account, when=HasChanged("status"))
    def after(sender, event):
        seen["after"] = [n.pk for n in event.new_records]

    for a in accounts[:3]:
        a.status = "closed"
    Account.objects.bulk_update(accounts, ["status"])
    expected = [a.pk for a in accounts[:3]]
    assert seen == {"before": expected, "after": expected}


def test_receiver_not_called_when_nothing_matches():
    accounts = AccountFactory.create_batch(3)
    calls = []

    @after_update(Account, when=HasChanged("status"))
    def after(sender, event):
        calls.append(event)

    Account.objects.bulk_update(accounts, ["status"])
    assert calls == []


def test_validate_runs_before_before_and_raising_writes_nothing(log):
    accounts = AccountFactory.create_batch(2)
    order = []

    @validate_update(Account)
    def validate(sender, event):
        order.append("validate")
        raise ValidationError("bad")

    @before_update(Account)
    def before(sender, event):
        order.append("before")

    for a in accounts:
        a.status = "closed"
    with pytest.raises(ValidationError):
        Account.objects.bulk_update(accounts, ["status"])
    assert order == ["validate"]
    assert not Account.objects.filter(status="closed").exists()


def test_after_receiver_raising_rolls_the_write_back():
    accounts = AccountFactory.create_batch(2)

    @after_update(Account)
    def boom(sender, event):
        raise RuntimeError("after failed")

    for a in accounts:
        a.status = "closed"
    with pytest.raises(RuntimeError), transaction.atomic():
        Account.objects.bulk_update(accounts, ["status"])
    assert not Account.objects.filter(status="closed").exists()


def test_bulk_update_requires_primary_keys():
    with pytest.raises(ValueError, match="primary key"):
        Account.objects.bulk_update([Account(name="x")], ["name"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_abulk_update_fires(log):
    account = await Account.objects.acreate(name="a")
    log.listen(Account)
    account.status = "closed"
    assert await Account.objects.abulk_update([account], ["status"]) == 1
    assert log.names == ["bulk_validate_update", "bulk_pre_update", "bulk_post_update"]


def test_nothing_changed_returns_the_rows_matched_like_django(log, django_assert_num_queries):
    # Django returns the rows matched: with or without receivers, with or without fields, the same number.
    accounts = AccountFactory.create_batch(3)
    assert Account.objects.bulk_update(accounts) == 3  # no receivers: every field written
    log.listen(Account)
    with django_assert_num_queries(1):  # SELECT old rows (no savepoint of ours): no UPDATE
        assert Account.objects.bulk_update(accounts) == 3
    assert log.event("bulk_post_update").update_fields == ()
    log.calls.clear()
    with django_assert_num_queries(2):  # fields given: Django's UPDATE runs, as it would without receivers
        assert Account.objects.bulk_update(accounts, ["status"]) == 3
    assert log.event("bulk_post_update").update_fields == ("status",)


def test_primary_keys_given_as_strings_are_updated_and_deleted(log):
    # Ids from a URL or JSON arrive as strings: Django matches them, so must the old-row lookup.
    accounts = AccountFactory.create_batch(2)
    log.listen(Account)
    stale = [Account(pk=str(a.pk), name="renamed", balance=a.balance, status=a.status) for a in accounts]
    assert Account.objects.bulk_update(stale, ["name"]) == 2
    assert set(Account.objects.values_list("name", flat=True)) == {"renamed"}
    assert len(log.event("bulk_post_update").old_records) == 2
    assert Account.objects.bulk_delete([Account(pk=str(accounts[0].pk))]) == (1, {"tests.Account": 1})
    assert [o.pk for o in log.event("bulk_post_delete").old_records] == [accounts[0].pk]


def test_without_fields_or_receivers_only_the_changed_fields_are_written(django_assert_num_queries):
    accounts = AccountFactory.create_batch(3, status="open", note="kept")
    accounts[1].status = "closed"
    Account.objects.filter(pk=accounts[2].pk).update(name="changed elsewhere", bypass_signals=True)
    accounts[2].name = "changed elsewhere"  # equal to what is stored: not a change
    with django_assert_num_queries(2) as ctx:  # SELECT the stored values, UPDATE the changed field
        assert Account.objects.bulk_update(accounts) == 3
    update = ctx.captured_queries[1]["sql"]
    assert '"status"' in update and '"note"' not in update and '"name"' not in update
    assert list(Account.objects.order_by("pk").values_list("status", flat=True)) == ["open", "closed", "open"]
    with django_assert_num_queries(1):  # nothing changed: the SELECT only, Django's number
        assert Account.objects.bulk_update(accounts) == 3
    assert Account.objects.bulk_update([]) == 0


def test_rows_read_are_the_old_rows_and_save_the_select_the_rest_are_read(log):
    """handover.rows_read: rows the caller read (under its lock) are paired as they are; objects whose pk is
    not among them are read as usual; one bulk_update per block; other models and databases ignore it."""
    from bulk_signals_django.handover import rows_read

    from tests.conftest import count

    a, b = AccountFactory.create_batch(2, balance=Decimal("1.00"))
    log.listen(Account)
    with transaction.atomic():
        read = list(Account.objects.select_for_update().filter(pk=a.pk))
        new_a, new_b = Account.objects.get(pk=a.pk), Account.objects.get(pk=b.pk)
        new_a.balance = new_b.balance = Decimal("2.00")
        with rows_read(Account, "default", read):
            counted = count(lambda: Account.objects.bulk_update([new_a, new_b], ["balance"]))
            Account.objects.bulk_update([new_a], ["status"])  # a second bulk_update in the block reads again
    # b's old row was selected (one SELECT, by pk: a's was handed over), then the UPDATE.
    selects = [sql for sql in counted.sql if sql.startswith("SELECT")]
    assert len(selects) == 1 and str(b.pk) in selects[0] and f"{a.pk}," not in selects[0]
    first, second = [event for name, event in log.calls if name == "bulk_post_update"]
    assert [old is read[0] for _, old in first.pairs()] == [True, False]
    assert [(o.balance, n.balance) for n, o in first.pairs()] == [(Decimal("1.00"), Decimal("2.00"))] * 2
    assert second.old_records[0] is not read[0] and second.old_records[0].balance == Decimal("2.00")


def test_rows_read_of_another_model_or_database_is_ignored(log):
    from bulk_signals_django.handover import rows_read

    a = AccountFactory.create(balance=Decimal("1.00"))
    stale = Account(pk=a.pk, balance=Decimal("-9.00"))
    log.listen(Account)
    a.balance = Decimal("3.00")
    with transaction.atomic(), rows_read(Account, "other", [stale]):
        Account.objects.bulk_update([a], ["balance"])
    ((_, old),) = log.event("bulk_post_update").pairs()
    assert old.balance == Decimal("1.00")


def test_rows_read_is_used_up_by_a_bulk_update_that_reads_no_old_rows(log):
    from bulk_signals_django.handover import rows_read

    a = AccountFactory.create(balance=Decimal("1.00"))
    log.listen(Account)
    with transaction.atomic():
        read = list(Account.objects.select_for_update().filter(pk=a.pk))
        a.balance = Decimal("2.00")
        with rows_read(Account, "default", read):
            Account.objects.bulk_update([a], ["balance"], bypass_signals=True)
            a.balance = Decimal("3.00")
            Account.objects.bulk_update([a], ["balance"])
    ((_, old),) = log.event("bulk_post_update").pairs()
    assert old.balance == Decimal("2.00") and old is not read[0]
