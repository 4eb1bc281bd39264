"""fetch_rows(): the rows our writes load must be the instances Django would build."""

import pytest
from bulk_signals_django.records import RecordState, fetch_rows
from django.db.models.signals import post_init

from tests.factories import AccountFactory
from tests.models import Account, Restaurant

pytestmark = pytest.mark.django_db


def test_plain_queryset_rows_equal_djangos_instances():
    AccountFactory.create_batch(3)
    ours = fetch_rows(Account.objects.order_by("pk"))
    django = list(Account.objects.order_by("pk"))
    assert [type(r._state) for r in ours] == [RecordState] * 3
    for mine, theirs in zip(ours, django, strict=True):
        assert {k: v for k, v in mine.__dict__.items() if k != "_state"} == {
            k: v for k, v in theirs.__dict__.items() if k != "_state"
        }
        assert list(mine.__dict__) == list(theirs.__dict__)  # same key order
        assert (mine._state.db, mine._state.adding) == (theirs._state.db, theirs._state.adding)
        assert mine == theirs and mine.get_deferred_fields() == set()


def test_mti_rows_carry_the_parent_columns():
    Restaurant.objects.create(name="r", city="c", seats=3)
    (row,) = fetch_rows(Restaurant.objects.all())
    assert (row.name, row.city, row.seats, row.place_ptr_id) == ("r", "c", 3, row.pk)


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Account.objects.only("name"),
        lambda: Account.objects.defer("note"),
        lambda: Account.objects.extra(select={"x": "1"}),
        lambda: Account.objects.values("pk"),
    ],
)
def test_other_querysets_are_listed_by_django(queryset):
    AccountFactory.create()
    rows = fetch_rows(queryset())
    assert rows == list(queryset()) and not any(isinstance(getattr(r, "_state", None), RecordState) for r in rows)


def test_post_init_receivers_get_djangos_instances():
    AccountFactory.create()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Account)
    try:
        (row,) = fetch_rows(Account.objects.all())
    finally:
        post_init.disconnect(receiver, sender=Account)
    assert seen == [row.pk] and type(row._state) is not RecordState


def test_share_equal_values_only_shares_interchangeable_values():
    from decimal import Decimal

    from bulk_signals_django.records import share_equal_values

    AccountFactory.create(name="same", status="open", balance=Decimal("1.00"))
    (row,) = fetch_rows(Account.objects.all())
    obj = Account(pk=row.pk, name="".join(["sa", "me"]), status="closed", balance=Decimal("1.0"))
    share_equal_values(Account, [(obj, row)])
    assert row.name is obj.name  # equal str: one object
    assert row.status == "open" and row.status is not obj.status  # changed: the stored value stays
    assert str(row.balance) == "1.00"  # equal Decimal, different digits: the stored value stays
    assert row.pk == obj.pk
