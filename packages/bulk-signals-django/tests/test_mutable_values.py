"""Mutable values (a JSONField's dict) on old and new records: every new record owns its values, no old
record shares one with a new record, the caller's arguments are never changed, and a before receiver's
in-place edit of a new record's value is a change that is written."""

import pytest
from bulk_signals_django.decorators import after_update, before_update
from django.db.models import F
from django.db.models.signals import post_init

from tests.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["built", "django"])
def instances(request):
    """``built``: records built by our compiled loops; ``django``: a post_init receiver makes the rows
    Django's own instances (the new records are copies of them)."""
    if request.param == "django":

        def noop(sender, instance, **kwargs):
            return None

        post_init.connect(noop, sender=Profile)
        yield request.param
        post_init.disconnect(noop, sender=Profile)
    else:
        yield request.param


def _capture(decorator):
    seen = []
    decorator(Profile)(lambda sender, event: seen.append(event))
    return seen


def _stored():
    return list(Profile.objects.order_by("pk").values_list("name", "data"))


def test_update_in_place_edit_of_an_unchanged_value_is_written(instances):
    Profile.objects.create(name="a", data={"k": 1})

    @before_update(Profile)
    def touch(sender, event):
        for new, old in event.pairs():
            assert new.data is not old.data
            new.data["touched"] = True
            assert old.data == {"k": 1}

    after = _capture(after_update)
    Profile.objects.update(level=1)
    assert _stored() == [("a", {"k": 1, "touched": True})]
    (event,) = after
    assert event.old_records[0].data == {"k": 1}
    assert event.new_records[0].data == {"k": 1, "touched": True}
    assert event.update_fields == ("level", "data")  # update()'s fields, then those receivers changed


def test_update_value_is_copied_for_each_record_and_the_callers_dict_is_kept(instances):
    Profile.objects.bulk_create([Profile(name=n) for n in "abc"])
    payload = {"tier": 1, "tags": ["x"]}

    @before_update(Profile)
    def only_first(sender, event):
        first, second = event.new_records[:2]
        assert first.data is not second.data and first.data is not payload
        assert first.data["tags"] is not payload["tags"]
        first.data["vip"] = True
        first.data["tags"].append("y")
        event.meta["kwargs"]["data"]["meta"] = True

    after = _capture(after_update)
    assert Profile.objects.order_by("pk").update(data=payload) == 3
    assert payload == {"tier": 1, "tags": ["x"]}
    first = {"tier": 1, "tags": ["x", "y"], "vip": True}
    assert _stored() == [("a", first), ("b", {"tier": 1, "tags": ["x"]}), ("c", {"tier": 1, "tags": ["x"]})]
    (event,) = after
    assert [n.data for n in event.new_records] == [first, {"tier": 1, "tags": ["x"]}, {"tier": 1, "tags": ["x"]}]
    assert [o.data for o in event.old_records] == [{}, {}, {}]
    assert event.update_fields == ("data",)


def test_update_without_receivers_changing_anything_keeps_old_and_new_apart(instances):
    Profile.objects.bulk_create([Profile(name="a", data={"k": [1]}), Profile(name="b", data={"k": [2]})])
    before = _capture(before_update)
    after = _capture(after_update)
    Profile.objects.order_by("pk").update(level=F("level") + 1)
    (event,) = before
    for new, old in event.pairs():
        assert new.data == old.data and new.data is not old.data and new.data["k"] is not old.data["k"]
    assert after[0].update_fields == ("level",)
    assert [n.level for n in after[0].new_records] == [1, 1]


def test_bulk_update_in_place_edit_is_written_and_old_rows_keep_theirs():
    Profile.objects.bulk_create([Profile(name="a", data={"k": 1}), Profile(name="b", data={"k": 2})])
    objs = list(Profile.objects.order_by("pk"))

    @before_update(Profile)
    def touch(sender, event):
        for new, old in event.pairs():
            assert new.data is not old.data
            new.data["touched"] = True

    after = _capture(after_update)
    for obj in objs:
        obj.level = 5
    Profile.objects.bulk_update(objs)
    assert _stored() == [("a", {"k": 1, "touched": True}), ("b", {"k": 2, "touched": True})]
    (event,) = after
    assert [o.data for o in event.old_records] == [{"k": 1}, {"k": 2}]
    assert event.update_fields == ("data", "level")


def test_upsert_old_rows_do_not_share_values_with_the_new_records():
    Profile.objects.create(name="a", data={"k": 1})
    seen = _capture(before_update)
    payload = {"k": 2}
    Profile.objects.bulk_create(
        [Profile(name="a", data=payload)], update_conflicts=True, unique_fields=["name"], update_fields=["data"]
    )
    (event,) = seen
    ((new, old),) = event.pairs()
    assert new.data is payload and old.data == {"k": 1} and old.data is not payload


def test_save_in_place_edit_is_detected_and_the_old_row_keeps_its_value():
    obj = Profile.objects.create(name="a", data={"k": 1})

    @before_update(Profile)
    def touch(sender, event):
        ((new, old),) = event.pairs()
        assert new is obj and new.data is not old.data
        new.data["touched"] = True

    after = _capture(after_update)
    obj.level = 2
    obj.save()
    assert _stored() == [("a", {"k": 1, "touched": True})]
    (event,) = after
    assert event.old_records[0].data == {"k": 1} and event.update_fields == ("data", "level")


def test_records_built_with_setattr_own_their_values_too():
    from tests.models import Keyworded

    Keyworded.objects.bulk_create([Keyworded(name="a", data={"k": [1]}), Keyworded(name="b", data={"k": [2]})])
    seen = []
    before_update(Keyworded)(lambda sender, event: seen.append(event))
    payload = {"tags": ["x"]}
    Keyworded.objects.order_by("pk").update(name="c")
    Keyworded.objects.order_by("pk").update(data=payload)
    first, second = seen
    for new, old in first.pairs():
        assert new.data == old.data and new.data is not old.data and new.data["k"] is not old.data["k"]
    a, b = second.new_records
    assert a.data == b.data == payload and a.data is not b.data and payload is not a.data and payload is not b.data
    assert a.data["tags"] is not payload["tags"]


def test_own_value_copies_what_can_change_and_shares_what_cannot():
    import datetime
    import threading
    import uuid
    from collections import OrderedDict
    from decimal import Decimal

    from bulk_signals_django.records import own_value
    from django.core.files.storage import FileSystemStorage
    from django.db.models.fields.files import FieldFile

    shared = [
        "x",
        1,
        1.5,
        None,
        True,
        b"b",
        Decimal("1.0"),
        uuid.uuid4(),
        datetime.date(2024, 1, 1),
        datetime.timedelta(1),
        (1, "a", (2, frozenset({3}))),
        frozenset({"a"}),
    ]
    for value in shared:
        assert own_value(value) is value
    tree = {"a": [1, {"b": "c"}], "t": (1, [2]), 3: "x"}
    copied = own_value(tree)
    assert copied == tree and copied is not tree and copied["a"] is not tree["a"]
    assert copied["a"][1] is not tree["a"][1] and copied["t"][1] is not tree["t"][1]
    assert copied["a"][1]["b"] is tree["a"][1]["b"]  # immutable leaves are shared
    ordered = OrderedDict(a=[1])
    assert own_value(ordered) == ordered and own_value(ordered)["a"] is not ordered["a"]

    class Key:
        pass

    odd_keys = {Key(): [1]}  # a key of no immutable type: the dict is deep-copied (keys too)
    (copied_key, copied_list), ((key, value),) = own_value(odd_keys).popitem(), odd_keys.items()
    assert type(copied_key) is Key and copied_key is not key and copied_list == value and copied_list is not value
    lock = threading.Lock()
    assert own_value(lock) is lock and own_value([lock])[0] is lock  # deepcopy refuses a lock: shared
    from django.db.models import FileField

    stored = FieldFile(Profile(), FileField(storage=FileSystemStorage()), "a.txt")
    copy = own_value(stored)
    assert copy is not stored and copy.name == "a.txt" and copy.storage is stored.storage
