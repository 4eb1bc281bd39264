import warnings

import pytest
from bulk_signals_core import Priority
from bulk_signals_django.decorators import MultipleReceiversWarning, after_update, before_update
from bulk_signals_django.signals import bulk_post_update
from django.core import checks
from django.dispatch import receiver
from django.test import override_settings

from tests.factories import AccountFactory
from tests.models import Account, Book

pytestmark = pytest.mark.django_db


def test_django_receiver_decorator_works_with_our_signals():
    seen = []

    @receiver(bulk_post_update, sender=Account, weak=False)
    def on_update(sender, **kwargs):
        seen.append((sender, len(kwargs["event"].new_records), kwargs["signal"] is bulk_post_update))

    AccountFactory.create_batch(2)
    Account.objects.update(status="x")
    assert seen == [(Account, 2, True)]


def test_priority_orders_receivers():
    order = []
    before_update(Account, priority=Priority.LOW)(lambda s, e: order.append("low"))
    before_update(Account, priority=Priority.HIGH)(lambda s, e: order.append("high"))
    AccountFactory.create()
    Account.objects.update(status="x")
    assert order == ["high", "low"]


def test_same_id_connects_once():
    calls = []
    for _ in range(2):
        after_update(Account, id="audit")(lambda s, e: calls.append(1))
    AccountFactory.create()
    Account.objects.update(status="x")
    assert calls == [1]


@override_settings(BULK_SIGNALS_WARN_MULTIPLE_RECEIVERS=True)
def test_warns_on_a_second_receiver_for_one_model_and_signal():
    after_update(Account)(lambda s, e: None)
    with pytest.warns(MultipleReceiversWarning, match="Account has 2 receivers on bulk_post_update"):
        after_update(Account)(lambda s, e: None)
    messages = [m for m in checks.run_checks() if m.id == "bulk_signals_django.W001"]
    assert [m.msg for m in messages] == ["tests.Account has 2 receivers on bulk_post_update"]


def test_no_warning_by_default():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after_update(Account)(lambda s, e: None)
        after_update(Account)(lambda s, e: None)


def test_default_manager_check_passes_for_the_test_models():
    assert [m for m in checks.run_checks() if m.id == "bulk_signals_django.W002"] == []
    assert Book.objects.published().model is Book


def test_async_receiver_runs_to_completion():
    seen = []

    @after_update(Account)
    async def on_update(sender, event):
        seen.append(len(event.new_records))

    AccountFactory.create()
    Account.objects.update(status="x")
    assert seen == [1]
