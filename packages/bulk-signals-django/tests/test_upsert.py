import pytest
from bulk_signals_django import Operation, Source
from bulk_signals_django.decorators import before_update

from tests.conftest import count
from tests.factories import MembershipFactory, ProductFactory
from tests.models import Membership, PlainProduct, Product

pytestmark = pytest.mark.django_db


def _upsert(objs, **kwargs):
    return Product.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["sku"], update_fields=["name", "price"], **kwargs
    )


def test_existing_rows_fire_update_with_old_values_and_new_rows_fire_create(log):
    ProductFactory.create(sku="A", price=1)
    log.listen(Product)
    _upsert([Product(sku="B", name="b", price=2), Product(sku="A", name="a2", price=10)])
    assert log.names == [
        "bulk_validate_create",
        "bulk_validate_update",
        "bulk_pre_create",
        "bulk_pre_update",
        "bulk_post_create",
        "bulk_post_update",
    ]
    created, updated = log.event("bulk_post_create"), log.event("bulk_post_update")
    assert created.source is Source.UPSERT and updated.source is Source.UPSERT
    assert [p.sku for p in created.new_records] == ["B"]
    ((new, old),) = updated.pairs()
    assert (new.sku, old.price, new.price) == ("A", 1, 10)
    assert updated.operation is Operation.UPDATE and updated.update_fields == ("name", "price")
    assert new.pk == old.pk
    assert Product.objects.get(sku="A").price == 10


def test_upsert_of_1000_rows_works_on_sqlite_and_classifies_with_one_query_under_one_lock(log):
    # Peer bugs: an OR of 1000 terms crashes SQLite; existing rows reported as creates.
    PlainProduct.objects.bulk_create([PlainProduct(sku=f"S{i}", name="old") for i in range(500)])
    Product.objects.bulk_create([Product(sku=f"S{i}", name="old") for i in range(500)])
    log.listen(Product)
    vanilla = count(
        lambda: PlainProduct.objects.bulk_create(
            [PlainProduct(sku=f"S{i}", name="new", price=i) for i in range(1000)],
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["name", "price"],
        )
    )
    ours = count(lambda: _upsert([Product(sku=f"S{i}", name="new", price=i) for i in range(1000)]))
    assert ours.data == vanilla.data + 2  # the keys' lock, then the one set-based SELECT of existing keys
    assert sum("SELECT" in sql and " OR " in sql for sql in ours.sql) == 0
    assert len(log.event("bulk_post_update").new_records) == 500
    assert len(log.event("bulk_post_create").new_records) == 500
    assert Product.objects.filter(name="new").count() == 1000


def test_composite_key_upsert_classifies_exact_tuples(log):
    MembershipFactory.create(team="red", member="ann", role="member")
    MembershipFactory.create(team="blue", member="bob", role="member")
    log.listen(Membership)
    Membership.objects.bulk_create(
        [Membership(team="red", member="bob", role="x"), Membership(team="red", member="ann", role="owner")],
        update_conflicts=True,
        unique_fields=["team", "member"],
        update_fields=["role"],
    )
    assert [(m.team, m.member) for m in log.event("bulk_post_create").new_records] == [("red", "bob")]
    ((new, old),) = log.event("bulk_post_update").pairs()
    assert (new.member, old.role, new.role) == ("ann", "member", "owner")


def test_before_update_receiver_of_upsert_sees_old_not_equal_new():
    ProductFactory.create(sku="A", price=1)
    seen = []

    @before_update(Product)
    def look(sender, event):
        seen.extend((old.price, new.price) for new, old in event.pairs())

    _upsert([Product(sku="A", name="a", price=5)])
    assert seen == [(1, 5)]
