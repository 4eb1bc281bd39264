"""Peer bugs: a before-update hook that runs after the SQL UPDATE, or that sees old == new (so
``HasChanged`` matches nothing). Checked on every update path."""

import pytest
from bulk_signals_django import HasChanged
from bulk_signals_django.decorators import before_update
from django.db import transaction
from django.db.models import F, Value

from tests.factories import AccountFactory, ProductFactory
from tests.models import Account, Product

pytestmark = pytest.mark.django_db


def _save(account):
    account.status = "closed"
    account.save()


def _save_update_fields(account):
    account.status = "closed"
    account.save(update_fields=["status"])


def _bulk_update(account):
    account.status = "closed"
    Account.objects.bulk_update([account], ["status"])


def _bulk_update_detected(account):
    account.status = "closed"
    Account.objects.bulk_update([account])


PATHS = {
    "save": _save,
    "save_update_fields": _save_update_fields,
    "bulk_update": _bulk_update,
    "bulk_update_detected": _bulk_update_detected,
    "update_value": lambda account: Account.objects.update(status="closed"),
    "update_expression": lambda account: Account.objects.update(status=Value("closed")),
    "update_f": lambda account: Account.objects.update(status=F("note")),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_before_update_runs_before_the_sql_and_sees_old_and_new(path):
    account = AccountFactory.create(status="open", note="closed")
    seen = []

    @before_update(Account, when=HasChanged("status"))
    def look(sender, event):
        stored = Account.objects.values_list("status", flat=True).get(pk=account.pk)
        seen.extend((old.status, new.status, stored) for new, old in event.pairs())

    PATHS[path](account)
    assert seen == [("open", "closed", "open")]
    assert Account.objects.get(pk=account.pk).status == "closed"


def test_before_update_of_an_upsert_runs_before_the_sql_and_matches_has_changed():
    ProductFactory.create(sku="A", price=1)
    seen = []

    @before_update(Product, when=HasChanged("price"))
    def look(sender, event):
        stored = Product.objects.values_list("price", flat=True).get(sku="A")
        seen.extend((old.price, new.price, stored) for new, old in event.pairs())

    Product.objects.bulk_create(
        [Product(sku="A", name="a", price=5)], update_conflicts=True, unique_fields=["sku"], update_fields=["price"]
    )
    assert seen == [(1, 5, 1)]


def test_django_style_receiver_type_error_propagates_and_runs_once():
    # Peer bug: a TypeError raised inside a handler was taken for a signature mismatch and retried.
    from bulk_signals_django.signals import bulk_post_update
    from django.dispatch import receiver

    calls = []

    @receiver(bulk_post_update, sender=Account, weak=False)
    def broken(sender, **kwargs):
        calls.append(1)
        raise TypeError("bug in receiver")

    AccountFactory.create()
    # A savepoint of the caller's, as Django's docs say for catching a write's error inside a transaction.
    with pytest.raises(TypeError, match="bug in receiver"), transaction.atomic():
        Account.objects.update(status="x")
    assert calls == [1] and Account.objects.get().status == "open"
