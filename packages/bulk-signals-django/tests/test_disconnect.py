"""Receivers can be disconnected the ways docs/django.md says, and an async receiver may defer to the commit."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from bulk_signals_core.receivers import describe
from bulk_signals_django.conditions import HasChanged
from bulk_signals_django.decorators import after_create, after_update, before_create
from bulk_signals_django.signals import bulk_post_create, bulk_post_update, bulk_pre_create
from django.db import transaction

from tests.models import Account, Place, Restaurant

pytestmark = pytest.mark.django_db


def test_a_decorated_receiver_disconnects_by_function() -> None:
    @before_create(Account)
    def f(sender: Any, event: Any) -> None:
        raise AssertionError("disconnected")

    assert bulk_pre_create.disconnect(f, sender=Account) is True
    assert not bulk_pre_create.has_receivers(Account)
    Account.objects.create(name="a")


def test_a_decorated_receiver_with_when_and_on_commit_disconnects_by_function() -> None:
    @after_update(Place, when=HasChanged("name"), on_commit=True)
    def f(sender: Any, event: Any) -> None:
        raise AssertionError("disconnected")

    assert bulk_post_update.has_receivers(Restaurant)
    assert bulk_post_update.disconnect(f, sender=Place) is True
    assert not bulk_post_update.has_receivers(Place)
    assert not bulk_post_update.has_receivers(Restaurant)
    assert bulk_post_update.disconnect(f, sender=Place) is False


def test_disconnect_by_generated_id_leaves_no_child_connected() -> None:
    def r(sender: Any, event: Any) -> None:
        pass

    bulk_post_create.connect(r, sender=Place, weak=False)
    assert bulk_post_create.has_receivers(Restaurant)
    assert bulk_post_create.disconnect(id=describe(r)) is True
    assert not bulk_post_create.has_receivers(Place)
    assert not bulk_post_create.has_receivers(Restaurant)


def test_a_generated_id_of_two_functions_is_refused() -> None:
    def make() -> Any:
        def r(sender: Any, event: Any) -> None:
            pass

        return r

    first, second = make(), make()
    bulk_post_create.connect(first, sender=Place, weak=False)
    bulk_post_create.connect(second, sender=Place, weak=False)
    with pytest.raises(ValueError, match="generated id of 2 different receivers"):
        bulk_post_create.disconnect(id=describe(first))
    assert bulk_post_create.disconnect(first, sender=Place) is True
    assert bulk_post_create.disconnect(id=describe(second)) is True
    assert not bulk_post_create.has_receivers(Restaurant)


@pytest.mark.django_db(transaction=True)
def test_an_async_receiver_on_commit_runs_after_the_commit() -> None:
    seen: list[Any] = []

    @after_create(Account, on_commit=True)
    async def f(sender: Any, event: Any) -> None:
        seen.append([r.name for r in event.new_records])

    with transaction.atomic():
        Account.objects.bulk_create([Account(name="a")])
        assert seen == []
    assert seen == [["a"]]
    assert Account.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_async_receiver_on_commit_through_acreate() -> None:
    seen: list[Any] = []

    @after_create(Account, on_commit=True)
    async def f(sender: Any, event: Any) -> None:
        seen.append(event.new_records[0].name)

    await Account.objects.acreate(name="b")
    assert seen == ["b"]
    assert await sync_to_async(Account.objects.count)() == 1
