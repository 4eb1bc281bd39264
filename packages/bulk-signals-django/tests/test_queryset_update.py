from decimal import Decimal

import pytest
from bulk_signals_django import HasChanged, Source
from bulk_signals_django.decorators import after_update, before_update
from django.db.models import Case, F, OuterRef, Subquery, Value, When

from tests.factories import AccountFactory
from tests.models import Account, Score

pytestmark = pytest.mark.django_db


def test_plain_value_update_sends_old_and_new(log):
    AccountFactory.create_batch(3, status="open")
    log.listen(Account)
    assert Account.objects.filter(status="open").update(status="closed") == 3
    event = log.event("bulk_post_update")
    assert event.source is Source.QUERYSET_UPDATE and event.update_fields == ("status",)
    assert all((o.status, n.status) == ("open", "closed") for n, o in event.pairs())


def test_filter_kwargs_equal_to_update_kwargs_still_reports_rows(log):
    # django-cqrs #106: re-filtering after the update finds nothing; we take the pks before.
    AccountFactory.create_batch(2, status="open")
    log.listen(Account)
    Account.objects.filter(status="open").update(status="closed")
    assert len(log.event("bulk_post_update").new_records) == 2


def test_f_expression_after_receivers_see_database_values(log):
    AccountFactory.create_batch(2, balance=Decimal("10.00"))
    log.listen(Account)
    Account.objects.update(balance=F("balance") + 5)
    assert [n.balance for n in log.event("bulk_post_update").new_records] == [Decimal("15.00")] * 2


def test_before_receiver_sees_pending_expression_values_before_the_sql_update():
    AccountFactory.create_batch(2, balance=Decimal("10.00"))
    seen = []

    @before_update(Account)
    def look(sender, event):
        stored = list(Account.objects.values_list("balance", flat=True))
        seen.append(([o.balance for o in event.old_records], [n.balance for n in event.new_records], stored))

    Account.objects.update(balance=F("balance") * 2)
    ten, twenty = Decimal("10.00"), Decimal("20.00")
    assert seen == [([ten, ten], [twenty, twenty], [ten, ten])]  # the UPDATE has not run yet


def test_subquery_value(log):
    accounts = AccountFactory.create_batch(2)
    for a in accounts:
        Score.objects.create(account=a, points=a.pk * 100)
    log.listen(Account)
    points = Score.objects.filter(account=OuterRef("pk")).values("points")[:1]
    Account.objects.update(balance=Subquery(points))
    assert [n.balance for n in log.event("bulk_pre_update").new_records] == [Decimal(a.pk * 100) for a in accounts]
    assert [n.balance for n in log.event("bulk_post_update").new_records] == [Decimal(a.pk * 100) for a in accounts]


def test_case_when_has_changed_matches_in_before_and_after():
    accounts = AccountFactory.create_batch(10, status="open")
    seen = {}

    @before_update(Account, when=HasChanged("status"))
    def before(sender, event):
        seen["before"] = sorted(n.pk for n in event.new_records)

    @after_update(Account, when=HasChanged("status"))
    def after(sender, event):
        seen["after"] = sorted(n.pk for n in event.new_records)

    chosen = [a.pk for a in accounts[:4]]
    Account.objects.update(status=Case(When(pk__in=chosen, then=Value("closed")), default=F("status")))
    assert seen == {"before": chosen, "after": chosen}


def test_before_receiver_change_is_written():
    AccountFactory.create_batch(2)

    @before_update(Account)
    def stamp(sender, event):
        for n in event.new_records:
            n.note = "touched"

    Account.objects.update(status="closed")
    assert set(Account.objects.values_list("status", "note")) == {("closed", "touched")}


def test_receiver_reading_a_field_not_updated_costs_no_query(django_assert_num_queries):
    # Peer bug: an .only()-refetch made each read of another field a query.
    AccountFactory.create_batch(50)

    @after_update(Account)
    def read(sender, event):
        assert sum(n.balance for n in event.new_records) >= 0
        assert all(n.name for n in event.new_records)

    # SELECT old rows (+ pending), UPDATE (no savepoint of ours): Value() is written as selected, no re-read
    with django_assert_num_queries(2):
        Account.objects.update(status=Value("closed"))


def test_update_of_no_rows_sends_nothing(log):
    log.listen(Account)
    assert Account.objects.filter(name="nobody").update(status="x") == 0
    assert log.calls == []


def test_sliced_update_is_refused_like_django():
    AccountFactory.create()
    Account.objects.all().update  # noqa: B018
    from bulk_signals_django.decorators import after_update as au

    au(Account)(lambda sender, event: None)
    with pytest.raises(TypeError, match="slice"):
        Account.objects.all()[:1].update(status="x")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_aupdate_fires_and_accepts_bypass(log):
    await Account.objects.acreate(name="a")
    log.listen(Account)
    await Account.objects.aupdate(status="x")
    await Account.objects.aupdate(status="y", bypass_signals=True)
    assert log.names == ["bulk_validate_update", "bulk_pre_update", "bulk_post_update"]


@pytest.mark.parametrize("distinct", [(), ("name",)])
def test_update_after_distinct_does_what_django_does(distinct, log):
    # Django's UPDATE ignores DISTINCT (6.1 refuses DISTINCT ON): so must the SELECT of the old rows.
    def run(**kwargs):
        try:
            return Account.objects.distinct(*distinct).update(status="x", **kwargs)
        except TypeError as exc:
            return str(exc)

    AccountFactory.create_batch(3, name="same")
    vanilla = run(bypass_signals=True)
    Account.objects.update(status="open", bypass_signals=True)
    log.listen(Account)
    assert run() == vanilla
    if isinstance(vanilla, int):
        assert vanilla == 3 and len(log.event("bulk_post_update").new_records) == 3


def test_own_row_expression_after_receivers_see_what_the_database_stored(log):
    # No re-read for F(): the pending value must be rounded as the column rounds it (CAST on PostgreSQL).
    AccountFactory.create_batch(2, balance=Decimal("10.01"))
    log.listen(Account)
    Account.objects.update(balance=F("balance") * Decimal("1.5"))
    stored = sorted(Account.objects.values_list("pk", "balance"))
    assert [(n.pk, n.balance) for n in log.event("bulk_post_update").new_records] == stored


def test_before_receiver_changing_the_updated_field_is_written(log):
    AccountFactory.create_batch(2, status="open")

    @before_update(Account)
    def override(sender, event):
        event.new_records[0].status = "frozen"

    Account.objects.update(status=Case(When(status="open", then=Value("closed")), default=F("status")))
    assert sorted(Account.objects.values_list("status", flat=True)) == ["closed", "frozen"]


def test_any_expression_comes_back_with_the_update(django_assert_num_queries):
    # UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35): what the database wrote, no SELECT after.
    from django.db.models.functions import Length, Upper

    AccountFactory.create_batch(2, name="ab")
    seen = []
    after_update(Account)(lambda sender, event: seen.extend((n.name, n.status) for n in event.new_records))
    # SELECT (+ pending), UPDATE ... RETURNING (no savepoint of ours)
    with django_assert_num_queries(2):
        Account.objects.update(name=Upper("name"))
    with django_assert_num_queries(2):
        Account.objects.update(status=Length("name"))
    assert set(Account.objects.values_list("name", "status")) == {("AB", "2")}
    assert seen == [("AB", "open")] * 2 + [("AB", "2")] * 2


def test_before_receiver_change_of_an_expression_field_wins_over_the_returned_value():
    AccountFactory.create_batch(2, balance=Decimal("1.00"))
    seen = []

    @before_update(Account)
    def override(sender, event):
        event.new_records[0].balance = Decimal("99.00")

    after_update(Account)(lambda sender, event: seen.extend(sorted(n.balance for n in event.new_records)))
    Account.objects.update(balance=F("balance") + 1)
    assert sorted(Account.objects.values_list("balance", flat=True)) == seen == [Decimal("2.00"), Decimal("99.00")]


def test_rows_deleted_before_the_update_leave_the_event(log):
    accounts = AccountFactory.create_batch(3)

    @before_update(Account)
    def drop(sender, event):
        Account.objects.filter(pk=accounts[0].pk).delete(bypass_signals=True)

    log.listen(Account)
    assert Account.objects.update(balance=F("balance") + 1) == 2
    assert sorted(n.pk for n in log.event("bulk_post_update").new_records) == sorted(a.pk for a in accounts[1:])


def test_new_records_behave_like_django_instances(django_assert_num_queries):
    # Their state is a slotted RecordState: pickling, copying, saving and the related cache must work as usual.
    import copy
    import pickle

    AccountFactory.create_batch(2)
    kept = []
    after_update(Account)(lambda sender, event: kept.extend(event.new_records))
    Account.objects.update(status="closed")
    record = kept[0]
    assert record._state.adding is False and record._state.db == "default"
    clone = pickle.loads(pickle.dumps(record))
    assert (clone.pk, clone.status, clone._state.db, clone._state.adding) == (record.pk, "closed", "default", False)
    assert copy.copy(record).status == "closed"
    score = Score(account=record, points=1)
    assert score.account is record
    record._state.fields_cache["x"] = 1
    assert record._state.fields_cache == {"x": 1} and kept[1]._state.fields_cache == {}
    record.note = "saved"
    record.save(update_fields=["note"])
    assert Account.objects.get(pk=record.pk).note == "saved"
