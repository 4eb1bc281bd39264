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


def test_ignore_conflicts_reports_only_the_rows_it_inserts(log):
    # Rows the database skips (an existing key, or a key repeated in the same call) are no creates.
    from tests.factories import MembershipFactory, ProductFactory
    from tests.models import Membership, Product

    ProductFactory.create(sku="A", name="kept")
    log.listen(Product, Membership)
    objs = [Product(sku="A", name="skipped"), Product(sku="B", name="b"), Product(sku="B", name="repeat")]
    assert Product.objects.bulk_create(objs, ignore_conflicts=True) == objs
    for name in ("bulk_validate_create", "bulk_pre_create", "bulk_post_create"):
        assert [p.name for p in log.event(name).new_records] == ["b"]
    assert sorted(Product.objects.values_list("sku", "name")) == [("A", "kept"), ("B", "b")]

    MembershipFactory.create(team="red", member="ann")
    Membership.objects.bulk_create(
        [Membership(team="red", member="ann"), Membership(team="blue", member="ann")], ignore_conflicts=True
    )
    created = [e for n, e in log.calls if n == "bulk_post_create" and e.model is Membership]
    assert [(m.team, m.member) for m in created[-1].new_records] == [("blue", "ann")]


def test_ignore_conflicts_with_every_row_skipped_sends_no_create(log):
    from tests.factories import ProductFactory
    from tests.models import Product

    ProductFactory.create(sku="A")
    log.listen(Product)
    Product.objects.bulk_create([Product(sku="A", name="x")], ignore_conflicts=True)
    assert log.calls == [] and Product.objects.count() == 1
