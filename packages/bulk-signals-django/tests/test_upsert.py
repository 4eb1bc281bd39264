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


def _known_rows(skus):
    """What a caller of rows_known hands over: the rows of ``skus``, read (here without its own lock: the
    test runs alone) as they are before the upsert."""
    return list(Product._base_manager.filter(sku__in=skus))


def test_rows_known_pairs_the_given_rows_without_the_lock_and_select_of_their_keys(log):
    from bulk_signals_django.upsert import rows_known
    from django.db import transaction

    ProductFactory.create(sku="A", name="a", price=1)
    rows = _known_rows(["A", "B"])
    log.listen(Product)
    with transaction.atomic(), rows_known(Product, "default", ["sku"], {("A",), ("B",)}, rows):
        counted = count(lambda: _upsert([Product(sku="A", name="a2", price=10), Product(sku="B", name="b")]))
    # Only the INSERT ... ON CONFLICT: no lock, no SELECT.
    assert not any("pg_advisory_xact_lock" in sql or "WHERE 0 = 1" in sql for sql in counted.sql)
    assert not any(sql.startswith("SELECT") for sql in counted.sql)
    ((new, old),) = log.event("bulk_post_update").pairs()
    assert (old.name, old.price, new.name, new.price) == ("a", 1, "a2", 10)
    assert old is rows[0]  # the caller's row is the old record
    assert [p.sku for p in log.event("bulk_post_create").new_records] == ["B"]


def test_rows_known_still_selects_the_keys_it_was_not_told_about(log):
    from bulk_signals_django.upsert import rows_known
    from django.db import transaction

    ProductFactory.create(sku="A", name="a", price=1)
    ProductFactory.create(sku="C", name="c", price=3)
    log.listen(Product)
    with transaction.atomic(), rows_known(Product, "default", ["sku"], {("A",)}, _known_rows(["A"])):
        counted = count(lambda: _upsert([Product(sku="A", name="a2"), Product(sku="C", name="c2")]))
    assert any("SELECT" in sql and '"sku"' in sql for sql in counted.sql)  # C's row: selected as usual
    pairs = sorted((old.sku, old.name, new.name) for new, old in log.event("bulk_post_update").pairs())
    assert pairs == [("A", "a", "a2"), ("C", "c", "c2")]


def test_rows_known_serves_one_upsert_and_only_of_its_model_database_and_key(log):
    from bulk_signals_django.upsert import rows_known
    from django.db import transaction

    ProductFactory.create(sku="A", name="a", price=1)
    stale = Product(sku="A", name="stale", price=-1, pk=Product.objects.get().pk)  # not what the table holds
    log.listen(Product)
    with transaction.atomic():
        with rows_known(Product, "default", ["sku", "name"], {("A",)}, [stale]):  # another key: ignored
            _upsert([Product(sku="A", name="a2")])
        with rows_known(Product, "other", ["sku"], {("A",)}, [stale]):  # another database: ignored
            _upsert([Product(sku="A", name="a3")])
        fresh = _known_rows(["A"])
        with rows_known(Product, "default", ["sku"], {("A",)}, fresh):
            _upsert([Product(sku="A", name="a4")])
            _upsert([Product(sku="A", name="a5")])  # the second upsert in the block selects again
    olds = [[old.name for _, old in event.pairs()] for name, event in log.calls if name == "bulk_post_update"]
    assert olds == [["a"], ["a2"], ["a3"], ["a4"]]


def test_rows_known_is_used_up_by_an_upsert_that_does_not_classify(log):
    """An upsert without signals (bypass_signals) is still the next upsert: a later one in the block selects."""
    from bulk_signals_django.upsert import rows_known
    from django.db import transaction

    ProductFactory.create(sku="A", name="a", price=1)
    rows = _known_rows(["A"])
    log.listen(Product)
    with transaction.atomic(), rows_known(Product, "default", ["sku"], {("A",)}, rows):
        _upsert([Product(sku="A", name="a2")], bypass_signals=True)
        _upsert([Product(sku="A", name="a3")])
    ((_, old),) = log.event("bulk_post_update").pairs()
    assert old.name == "a2" and old is not rows[0]
