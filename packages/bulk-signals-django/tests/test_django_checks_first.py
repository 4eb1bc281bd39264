"""Django's own argument checks run first: with receivers connected, a call Django refuses raises
Django's own exception and message (for the installed version), before any receiver and any query.

Each case runs the same call on a plain Django ``QuerySet`` to learn what Django raises, then through
our manager with a receiver on every signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, models
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from .models import Account, Author, Post, Product, Restaurant

pytestmark = pytest.mark.django_db


def plain(model: type[models.Model]) -> models.QuerySet[Any]:
    return models.QuerySet(model=model)


CASES: dict[str, Callable[[Callable[[type[models.Model]], models.QuerySet[Any]]], Any]] = {
    "update ordered by an aggregate": lambda qs: qs(Author).annotate(c=Count("posts")).order_by("c").update(name="x"),
    "update of an unknown field": lambda qs: qs(Account).update(nope=1),
    "update of a reverse relation": lambda qs: qs(Author).update(posts=1),
    "update of a sliced queryset": lambda qs: qs(Account).all()[:1].update(name="x"),
    "update of a union": lambda qs: qs(Account).all().union(qs(Account).all()).update(name="x"),
    "update with an aggregate value": lambda qs: qs(Author).update(name=Count("posts")),
    "delete after distinct(fields)": lambda qs: qs(Account).distinct("name").delete(),
    "delete after values()": lambda qs: qs(Account).values("name").delete(),
    "delete of a sliced queryset": lambda qs: qs(Account).all()[:1].delete(),
    "upsert on a reverse relation": lambda qs: qs(Author).bulk_create(
        [Author(name="a")], update_conflicts=True, unique_fields=["posts"], update_fields=["name"]
    ),
    "upsert without update_fields": lambda qs: qs(Product).bulk_create(
        [Product(sku="a", name="a")], update_conflicts=True, unique_fields=["sku"]
    ),
    "upsert updating the key": lambda qs: qs(Product).bulk_create(
        [Product(sku="a", name="a")], update_conflicts=True, unique_fields=["sku"], update_fields=["pk"]
    ),
    "both conflict options": lambda qs: qs(Product).bulk_create(
        [Product(sku="a", name="a")], ignore_conflicts=True, update_conflicts=True
    ),
    "bulk_create with batch_size 0": lambda qs: qs(Account).bulk_create([Account(name="a")], batch_size=0),
    "bulk_create with an unsaved related object": lambda qs: qs(Post).bulk_create(
        [Post(title="p", author=Author(name="unsaved"))]
    ),
    "bulk_update without fields": lambda qs: qs(Account).bulk_update([Account(pk=1, name="a")], []),
    "bulk_update of the primary key": lambda qs: qs(Account).bulk_update([Account(pk=1, name="a")], ["id"]),
    "bulk_update of a reverse relation": lambda qs: qs(Author).bulk_update([Author(pk=1, name="a")], ["posts"]),
    "bulk_update without a primary key": lambda qs: qs(Account).bulk_update(
        [Account(pk=1, name="a"), Account(name="b")], ["name"]
    ),
    "bulk_update with batch_size 0": lambda qs: qs(Account).bulk_update([Account(pk=1)], ["name"], batch_size=0),
}


def managed(model: type[models.Model]) -> models.QuerySet[Any]:
    return model._default_manager.all()


@pytest.mark.parametrize("with_rows", [False, True], ids=["empty table", "with rows"])
@pytest.mark.parametrize("name", CASES)
def test_django_refuses_before_any_receiver_or_query(name: str, with_rows: bool, log: Any) -> None:
    if with_rows:
        author = Author.objects.create(name="a")
        Post.objects.create(author=author, title="t")
        Account.objects.create(name="a")
    call = CASES[name]
    with pytest.raises(Exception) as django_error:
        call(plain)
    log.listen(Account, Author, Product, Restaurant)
    with CaptureQueriesContext(connection) as queries, pytest.raises(type(django_error.value)) as ours:
        call(managed)
    assert str(ours.value) == str(django_error.value)
    assert log.names == []
    assert queries.captured_queries == []
