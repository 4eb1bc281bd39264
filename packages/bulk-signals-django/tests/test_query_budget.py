"""Query budget against vanilla Django on the same data (PlainAccount / PlainProduct), 1000 rows,
outside any transaction. "data" = SELECT/INSERT/UPDATE/DELETE; our outermost atomic adds a BEGIN that
SQLite captures (PostgreSQL's is implicit). Each test asserts the exact total with
django_assert_num_queries and the exact data-statement difference."""

from decimal import Decimal

import pytest
from bulk_signals_django.decorators import (
    after_create,
    after_delete,
    after_update,
    before_create,
    before_delete,
    before_update,
)
from django.db.models import F, OuterRef, Subquery

from tests.conftest import count, our_tx_statements
from tests.models import Account, PlainAccount, PlainProduct, Product

pytestmark = pytest.mark.django_db(transaction=True)
N = 1000


def _noop(sender, event):
    return None


@pytest.fixture
def receivers():
    for decorator in (before_create, after_create, before_update, after_update, before_delete, after_delete):
        decorator(Account)(_noop)
        decorator(Product)(_noop)


def _rows(model, n=N):
    return model.objects.bulk_create([model(name=f"n{i}", balance=Decimal("1.00")) for i in range(n)])


def _assert_budget(django_assert_num_queries, vanilla, ours_fn, extra_data, extra_tx):
    with django_assert_num_queries(vanilla.data + extra_data + vanilla.tx + extra_tx):
        ours_fn()


def test_bulk_update_is_vanilla_plus_one(receivers, django_assert_num_queries):
    plain, ours = _rows(PlainAccount), _rows(Account)
    for obj in plain + ours:
        obj.status = "closed"
    vanilla = count(lambda: PlainAccount.objects.bulk_update(plain, ["status"]))
    _assert_budget(django_assert_num_queries, vanilla, lambda: Account.objects.bulk_update(ours, ["status"]), 1, 0)


def test_bulk_update_with_detected_fields_is_vanilla_plus_one(receivers, django_assert_num_queries):
    plain, ours = _rows(PlainAccount), _rows(Account)
    for obj in plain + ours:
        obj.status = "closed"
    vanilla = count(lambda: PlainAccount.objects.bulk_update(plain, ["status"]))
    _assert_budget(django_assert_num_queries, vanilla, lambda: Account.objects.bulk_update(ours), 1, 0)


def test_queryset_update_with_a_value_is_vanilla_plus_one(receivers, django_assert_num_queries):
    _rows(PlainAccount), _rows(Account)
    vanilla = count(lambda: PlainAccount.objects.update(status="closed"))
    ours = lambda: Account.objects.update(status="closed")  # noqa: E731
    _assert_budget(django_assert_num_queries, vanilla, ours, 1, our_tx_statements())


@pytest.mark.parametrize("expression", ["f", "subquery"])
def test_queryset_update_with_an_expression_is_vanilla_plus_one(expression, receivers, django_assert_num_queries):
    # The written values come back with the UPDATE (RETURNING): no SELECT after it.
    def value(model):
        if expression == "f":
            return F("balance") + 1
        return Subquery(model.objects.filter(pk=OuterRef("pk")).values("balance")[:1])

    _rows(PlainAccount), _rows(Account)
    vanilla = count(lambda: PlainAccount.objects.update(balance=value(PlainAccount)))
    ours = lambda: Account.objects.update(balance=value(Account))  # noqa: E731
    _assert_budget(django_assert_num_queries, vanilla, ours, 1, our_tx_statements())


def test_queryset_delete_is_vanilla_plus_one(receivers, django_assert_num_queries):
    _rows(PlainAccount), _rows(Account)
    vanilla = count(lambda: PlainAccount.objects.all().delete())
    assert vanilla.data == 1
    _assert_budget(django_assert_num_queries, vanilla, lambda: Account.objects.all().delete(), 1, 0)


def test_bulk_delete_is_vanilla_plus_one(receivers, django_assert_num_queries):
    plain, ours = _rows(PlainAccount), _rows(Account)
    vanilla = count(lambda: PlainAccount.objects.filter(pk__in=[o.pk for o in plain]).delete())
    _assert_budget(django_assert_num_queries, vanilla, lambda: Account.objects.bulk_delete(ours), 1, 0)


def _insert_tx(vanilla):
    """Django < 6.0 wraps every bulk_create in a transaction; 6.0 only one of several batches, so a
    single-batch insert there is one bare statement, and ours adds the BEGIN/COMMIT that keeps the
    after receivers atomic with the write."""
    return 0 if vanilla.tx else our_tx_statements()


def test_bulk_create_is_vanilla(receivers, django_assert_num_queries):
    vanilla = count(lambda: _rows(PlainAccount))
    _assert_budget(django_assert_num_queries, vanilla, lambda: _rows(Account), 0, _insert_tx(vanilla))


def test_upsert_is_vanilla_plus_two(receivers, django_assert_num_queries):
    def upsert(model):
        return model.objects.bulk_create(
            [model(sku=f"S{i}", name="x", price=i) for i in range(N)],
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["name", "price"],
        )

    PlainProduct.objects.bulk_create([PlainProduct(sku=f"S{i}", name="old") for i in range(0, N, 2)])
    Product.objects.bulk_create([Product(sku=f"S{i}", name="old") for i in range(0, N, 2)], bypass_signals=True)
    vanilla = count(lambda: upsert(PlainProduct))
    # + the keys' lock (keylocks.py) + the SELECT of existing keys
    _assert_budget(django_assert_num_queries, vanilla, lambda: upsert(Product), 2, _insert_tx(vanilla))


@pytest.mark.parametrize(
    "path",
    ["bulk_create", "bulk_update", "update_value", "update_expression", "delete", "bulk_delete", "upsert"],
)
def test_without_receivers_every_path_costs_exactly_vanilla(path, django_assert_num_queries):
    plain, ours = _rows(PlainAccount), _rows(Account)
    calls = {
        "bulk_create": lambda m, objs: _rows(m, 10),
        "bulk_update": lambda m, objs: m.objects.bulk_update(objs, ["status"]),
        "update_value": lambda m, objs: m.objects.update(status="x"),
        "update_expression": lambda m, objs: m.objects.update(balance=F("balance") + 1),
        "delete": lambda m, objs: m.objects.all().delete(),
        "bulk_delete": lambda m, objs: (
            m.objects.filter(pk__in=[o.pk for o in objs]).delete() if m is PlainAccount else m.objects.bulk_delete(objs)
        ),
        "upsert": lambda m, objs: m.objects.bulk_create(
            [m(pk=o.pk, name="u") for o in objs], update_conflicts=True, unique_fields=["pk"], update_fields=["name"]
        ),
    }
    vanilla = count(lambda: calls[path](PlainAccount, plain))
    with django_assert_num_queries(vanilla.total):
        calls[path](Account, ours)


def test_ignore_conflicts_is_vanilla_plus_two(receivers, django_assert_num_queries):
    def insert(model):
        return model.objects.bulk_create([model(sku=f"S{i}", name="x") for i in range(N)], ignore_conflicts=True)

    PlainProduct.objects.bulk_create([PlainProduct(sku=f"S{i}", name="old") for i in range(0, N, 2)])
    Product.objects.bulk_create([Product(sku=f"S{i}", name="old") for i in range(0, N, 2)], bypass_signals=True)
    vanilla = count(lambda: insert(PlainProduct))
    # + the keys' lock (keylocks.py) + the SELECT of existing keys
    _assert_budget(django_assert_num_queries, vanilla, lambda: insert(Product), 2, _insert_tx(vanilla))


def test_save_of_an_existing_row_is_vanilla_plus_the_old_row_and_a_transaction(receivers, django_assert_num_queries):
    plain, ours = PlainAccount.objects.create(name="a"), Account.objects.create(name="a")
    plain.status = ours.status = "closed"
    vanilla = count(plain.save)
    # + the old row's SELECT; + BEGIN/COMMIT: Django's single-table save has no transaction, ours keeps the
    # after receivers atomic with the write
    _assert_budget(django_assert_num_queries, vanilla, ours.save, 1, our_tx_statements())


def test_full_clean_of_an_existing_row_with_validate_receivers_reads_it_once(django_assert_num_queries):
    from bulk_signals_django.decorators import validate_update

    validate_update(Account)(_noop)
    plain, ours = PlainAccount.objects.create(name="a", note="n"), Account.objects.create(name="a", note="n")
    vanilla = count(plain.full_clean)
    with django_assert_num_queries(vanilla.total + 1):  # the stored row, for the event's old record
        ours.full_clean()
