from types import SimpleNamespace

import pytest
from bulk_signals_django import ChangesFrom, ChangesTo, HasChanged, IsEqual, WasEqual
from bulk_signals_django.decorators import after_update

from tests.factories import AccountFactory
from tests.models import Account

pytestmark = pytest.mark.django_db


def _pair(old_status, new_status):
    return Account(pk=1, name="n", status=new_status), Account(pk=1, name="n", status=old_status)


@pytest.mark.parametrize(
    ("condition", "old", "new", "expected"),
    [
        (HasChanged("status"), "a", "b", True),
        (HasChanged("status"), "a", "a", False),
        (ChangesTo("status", "b"), "a", "b", True),
        (ChangesTo("status", "b"), "b", "b", False),
        (ChangesFrom("status", "a"), "a", "b", True),
        (ChangesFrom("status", "a"), "c", "b", False),
        (IsEqual("status", "b"), "a", "b", True),
        (WasEqual("status", "a"), "a", "b", True),
        (WasEqual("status", "b"), "a", "b", False),
        (HasChanged("status") & IsEqual("status", "b"), "a", "b", True),
        (HasChanged("status") & IsEqual("status", "c"), "a", "b", False),
        (IsEqual("status", "c") | WasEqual("status", "a"), "a", "b", True),
        (~HasChanged("status"), "a", "b", False),
    ],
)
def test_condition_on_an_update_pair(condition, old, new, expected):
    new_record, old_record = _pair(old, new)
    assert condition.check(new_record, old_record) is expected


def test_conditions_on_creates_and_deletes():
    record = Account(name="n", status="b")
    assert HasChanged("status").check(record, None) and ChangesTo("status", "b").check(record, None)
    assert not ChangesFrom("status", "a").check(record, None) and not WasEqual("status", "b").check(record, None)
    assert IsEqual("status", "b").check(None, record) and not HasChanged("status").check(None, record)


def test_unknown_field_is_a_clear_error():
    with pytest.raises(ValueError, match="'nope' does not exist on Account"):
        HasChanged("nope").check(Account(), Account())


def test_when_must_be_a_condition():
    with pytest.raises(TypeError, match="when= must be a Condition"):
        after_update(Account, when=SimpleNamespace())


def test_receiver_gets_only_matching_pairs_still_aligned():
    accounts = AccountFactory.create_batch(6, status="open")
    seen = []

    @after_update(Account, when=ChangesTo("status", "closed") | ChangesTo("status", "frozen"))
    def look(sender, event):
        seen.extend((n.pk, o.pk, o.status, n.status) for n, o in event.pairs())

    accounts[1].status, accounts[4].status, accounts[5].status = "closed", "frozen", "other"
    Account.objects.bulk_update(accounts, ["status"])
    assert seen == [
        (accounts[1].pk, accounts[1].pk, "open", "closed"),
        (accounts[4].pk, accounts[4].pk, "open", "frozen"),
    ]
