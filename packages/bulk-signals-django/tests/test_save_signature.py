"""``save``/``asave``/``adelete`` through the mixin: Django's own errors and warnings, at the caller's line."""

from __future__ import annotations

import warnings
from typing import Any

import django
import pytest
from asgiref.sync import sync_to_async

from tests.models import Account, PlainAccount

pytestmark = pytest.mark.django_db(transaction=True)


def _caught(call: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


@pytest.mark.skipif(not (5, 0) <= django.VERSION < (6, 0), reason="positional save() arguments warn on Django 5.x")
@pytest.mark.parametrize("model", [PlainAccount, Account], ids=["django", "mixin"])
def test_positional_save_warns_like_django_at_the_callers_line(model: Any, log: Any) -> None:
    log.listen(Account)
    obj = model(name="a")
    caught = _caught(lambda: obj.save(False))
    assert [(str(w.message), w.filename) for w in caught] == [
        ("Passing positional arguments to save() is deprecated", __file__)
    ]
    assert model.objects.count() == 1


@pytest.mark.skipif(not (5, 0) <= django.VERSION < (6, 0), reason="positional save() arguments warn on Django 5.x")
@pytest.mark.asyncio
@pytest.mark.parametrize("model", [PlainAccount, Account], ids=["django", "mixin"])
async def test_positional_asave_warns_naming_asave_at_the_callers_line(model: Any) -> None:
    obj = model(name="a")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await obj.asave(False)
    assert [(str(w.message), w.filename) for w in caught] == [
        ("Passing positional arguments to asave() is deprecated", __file__)
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("model", [PlainAccount, Account], ids=["django", "mixin"])
async def test_asave_errors_are_djangos(model: Any) -> None:
    obj = model(name="a")
    with pytest.raises(TypeError) as error:
        await obj.asave(unknown=1)
    assert "unexpected keyword argument 'unknown'" in str(error.value)
    assert "asave()" in str(error.value)


@pytest.mark.asyncio
async def test_asave_and_adelete_keep_the_bypass(log: Any) -> None:
    log.listen(Account)
    obj = Account(name="a")
    await obj.asave(bypass_signals=True)
    await obj.adelete(bypass_signals=True)
    assert log.calls == []
    await obj.asave()
    await obj.adelete()
    assert log.names == ["bulk_pre_create", "bulk_post_create", "bulk_pre_delete", "bulk_post_delete"]
    assert await sync_to_async(Account.objects.count)() == 0
