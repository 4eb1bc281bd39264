"""The instances our writes build themselves (old rows and new records of ``QuerySet.update()``/
``delete()``): the same as Django's, independent of each other, and Django's own instances whenever a
model or a queryset needs them (``__init__`` override, post_init receivers, deferred fields)."""

import datetime
from decimal import Decimal

import pytest
from bulk_signals_django.decorators import after_delete, after_update, before_update
from bulk_signals_django.records import RecordState
from django.db import connection
from django.db.models import F
from django.db.models.base import ModelState
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from tests.conftest import is_tx
from tests.factories import AccountFactory
from tests.models import Account, Initialised, Product, Restaurant, Ticket

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {k: v for k, v in vars(obj).items() if k != "_state"}


def _capture(model, decorator=before_update):
    seen = []
    decorator(model)(lambda sender, event: seen.append(event))
    return seen


def test_update_old_rows_are_djangos_instances_field_for_field():
    AccountFactory.create_batch(3)
    django = list(Account.objects.order_by("pk"))
    seen = _capture(Account)
    Account.objects.order_by("pk").update(balance=F("balance") + 1)
    (event,) = seen
    for mine, theirs, new in zip(event.old_records, django, event.new_records, strict=True):
        assert _fields(mine) == _fields(theirs) and list(vars(mine)) == list(vars(theirs))
        assert type(mine.balance) is Decimal and new.balance == theirs.balance + 1
        assert list(vars(new)) == list(vars(theirs))


def test_update_records_are_independent_instances():
    AccountFactory.create_batch(2, note="kept")

    @before_update(Account)
    def edit(sender, event):
        for new, old in event.pairs():
            assert new is not old and new._state is not old._state
            assert type(new._state) is type(old._state) is RecordState
            assert (new._state.adding, new._state.db, old._state.adding, old._state.db) == (
                False,
                "default",
                False,
                "default",
            )
            new.note = "changed"
            new._state.fields_cache["x"] = new
        assert [o.note for o in event.old_records] == ["kept", "kept"]
        assert [o._state.fields_cache for o in event.old_records] == [{}, {}]

    seen = _capture(Account, after_update)
    assert Account.objects.update(status="closed") == 2
    (event,) = seen
    assert [o.note for o in event.old_records] == ["kept", "kept"]
    assert [(n.note, n.status) for n in event.new_records] == [("changed", "closed")] * 2
    assert sorted(Account.objects.values_list("note", "status")) == [("changed", "closed")] * 2


def test_foreign_keys_on_old_and_new_records(django_assert_num_queries):
    first, second = AccountFactory.create_batch(2)
    opened = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    Ticket.objects.bulk_create([Ticket(account=first, title="t", opened=opened, amount=Decimal("1.5"))])
    seen = _capture(Ticket)
    Ticket.objects.update(account=second)
    (event,) = seen
    (old,), (new,) = event.old_records, event.new_records
    with django_assert_num_queries(0):
        assert new.account is second and new.account_id == second.pk
    with django_assert_num_queries(1):
        assert old.account == first
    assert (old.opened, old.amount, new.opened, new.amount) == (opened, Decimal("1.500"), opened, Decimal("1.500"))
    Ticket.objects.update(account=None, amount=F("amount") * 2)
    new = seen[-1].new_records[0]
    assert new.account_id is None and new.account is None and new.amount == Decimal("3.000")
    assert seen[-1].old_records[0].account_id == second.pk


def test_post_init_receivers_get_django_instances_for_update_and_delete():
    AccountFactory.create_batch(2, status="open")
    built = []

    def receiver(sender, instance, **kwargs):
        built.append(instance)

    seen = _capture(Account)
    deleted = _capture(Account, after_delete)
    post_init.connect(receiver, sender=Account)
    try:
        Account.objects.update(status="closed")
        (event,) = seen
        assert all(any(o is b for b in built) for o in event.old_records)
        assert [type(o._state) for o in event.old_records] == [ModelState] * 2
        assert [(o.status, n.status) for n, o in event.pairs()] == [("open", "closed")] * 2
        built.clear()
        Account.objects.all().delete()
        assert all(any(o is b for b in built) for o in deleted[0].old_records) and len(built) == 2
    finally:
        post_init.disconnect(receiver, sender=Account)


def test_a_model_overriding_init_gets_its_own_instances():
    Initialised.objects.bulk_create([Initialised(name="a"), Initialised(name="b")])
    seen = _capture(Initialised)
    deleted = _capture(Initialised, after_delete)
    Initialised.objects.update(level=F("level") + 1)
    (event,) = seen
    assert [o.initialised for o in event.old_records] == [True, True]
    assert [(o.level, n.level) for n, o in event.pairs()] == [(0, 1), (0, 1)]
    Initialised.objects.all().delete()
    assert [o.initialised for o in deleted[0].old_records] == [True, True]


def test_deferred_fields_stay_deferred():
    AccountFactory.create(note="long", status="open")
    seen = _capture(Account)
    Account.objects.defer("note").update(status="closed")
    (event,) = seen
    (old,), (new,) = event.old_records, event.new_records
    assert old.get_deferred_fields() == {"note"} and new.status == "closed" and old.status == "open"


def test_mti_children_carry_every_table():
    Restaurant.objects.create(name="r", city="c", seats=3)
    seen = _capture(Restaurant)
    Restaurant.objects.update(seats=F("seats") + 2, city="d")
    (event,) = seen
    (old,), (new,) = event.old_records, event.new_records
    assert (old.name, old.city, old.seats, old.place_ptr_id) == ("r", "c", 3, old.pk)
    assert (new.name, new.city, new.seats, new.place_ptr_id) == ("r", "d", 5, old.pk)


def test_nothing_to_load_is_no_query():
    _capture(Account)
    _capture(Account, after_delete)
    with CaptureQueriesContext(connection) as context:
        assert Account.objects.filter(pk__in=[]).update(status="x") == 0
        assert Account.objects.filter(pk__in=[]).delete() == (0, {})
    assert [q["sql"] for q in context.captured_queries if not is_tx(q["sql"])] == []


@pytest.mark.parametrize("sku", ['q"uote', "back\\slash", "com,ma", "{brace}", "NULL", " space ", ""])
def test_upsert_keys_with_array_literal_characters(sku):
    Product.objects.bulk_create([Product(sku=sku, name="old")])
    seen = _capture(Product)
    Product.objects.bulk_create(
        [Product(sku=sku, name="new"), Product(sku=sku + "x", name="other")],
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=["name"],
    )
    (event,) = [e for e in seen if e.old_records]
    assert [o.sku for o in event.old_records] == [sku] and [n.name for n in event.new_records] == ["new"]


def test_save_old_row_is_djangos_instance_field_for_field():
    account = AccountFactory.create(note="before")
    django = Account.objects.get(pk=account.pk)
    seen = _capture(Account)
    account.note = "after"
    account.save()
    (old,) = seen[0].old_records
    assert _fields(old) == _fields(django) and list(vars(old)) == list(vars(django))
    assert type(old._state) is RecordState and (old._state.adding, old._state.db) == (False, "default")
    assert old is not account and old.note == "before" and type(old.balance) is Decimal


def test_save_old_row_of_models_needing_django():
    obj = Initialised.objects.create(name="a")
    seen = _capture(Initialised)
    obj.level = 2
    obj.save()
    (old,) = seen[0].old_records
    assert old.initialised is True and (old.name, old.level) == ("a", 0)
    restaurant = Restaurant.objects.create(name="r", city="c", seats=3)
    seen = _capture(Restaurant)
    restaurant.seats = 4
    restaurant.save()
    (old,) = seen[0].old_records
    assert (old.name, old.city, old.seats, old.place_ptr_id) == ("r", "c", 3, restaurant.pk)


def test_save_with_a_string_primary_key_finds_the_row():
    account = AccountFactory.create(note="before")
    seen = _capture(Account)
    same = Account(pk=str(account.pk), name=account.name, balance=account.balance, note="after")
    same._state.adding = False
    same.save()
    assert seen[0].old_records[0].note == "before" and seen[0].old_records[0].pk == account.pk


@pytest.mark.parametrize("model_name", ["SelectFormatted", "ColumnFormatted"])
def test_save_old_row_is_read_as_django_reads_a_formatted_column(model_name):
    from bulk_signals_django import HasChanged

    from tests import models

    model = getattr(models, model_name)
    model.objects.create(title="HeLLo")
    obj = model.objects.get()
    django = model.objects.get()
    assert obj.title == "hello"
    seen = _capture(model)
    title_changed = []
    before_update(model, when=HasChanged("title"))(lambda sender, event: title_changed.append(event))
    obj.note = "x"
    obj.save()
    (event,) = seen
    assert event.update_fields == ("note",) and title_changed == []
    assert _fields(event.old_records[0]) == _fields(django)


@pytest.mark.parametrize("model_name", ["SelectFormatted", "ColumnFormatted"])
def test_update_new_records_are_read_as_django_reads_a_formatted_column(model_name):
    from django.db.models import Value
    from django.db.models.functions import Concat

    from tests import models

    model = getattr(models, model_name)
    model.objects.bulk_create([model(title="HeLLo"), model(title="WoRLD")])
    before = list(model.objects.order_by("pk"))
    seen = _capture(model, after_update)
    model.objects.order_by("pk").update(title=Concat(F("title"), Value("ABC")))
    (event,) = seen
    assert [_fields(o) for o in event.old_records] == [_fields(o) for o in before]
    assert [_fields(n) for n in event.new_records] == [_fields(o) for o in model.objects.order_by("pk")]
    assert [n.title for n in event.new_records] == ["helloabc", "worldabc"]


def test_a_field_named_like_a_keyword_is_built_with_setattr():
    from tests.models import Keyworded

    Keyworded.objects.bulk_create([Keyworded(name="a", **{"from": 1}), Keyworded(name="b", **{"from": 2})])
    seen = _capture(Keyworded)
    deleted = _capture(Keyworded, after_delete)
    Keyworded.objects.order_by("pk").update(**{"from": F("from") + 10}, name="c")
    (event,) = seen
    assert [(o.name, getattr(o, "from")) for o in event.old_records] == [("a", 1), ("b", 2)]
    assert [(n.name, getattr(n, "from")) for n in event.new_records] == [("c", 11), ("c", 12)]
    assert [type(o._state) for o in event.old_records] == [RecordState] * 2
    Keyworded.objects.all().delete()
    assert sorted(getattr(o, "from") for o in deleted[0].old_records) == [11, 12]


def test_a_field_name_python_would_normalise_is_built_with_setattr():
    from tests.models import Ligatured

    name = "\ufb01le"  # U+FB01: in source code Python reads it as "file"
    Ligatured.objects.bulk_create([Ligatured(name="a", **{name: "one"}), Ligatured(name="b", **{name: "two"})])
    django = list(Ligatured.objects.order_by("pk"))
    seen = _capture(Ligatured)
    deleted = _capture(Ligatured, after_delete)
    Ligatured.objects.order_by("pk").update(**{name: "new"})
    (event,) = seen
    for mine, theirs in zip(event.old_records, django, strict=True):
        assert _fields(mine) == _fields(theirs) and list(vars(mine)) == list(vars(theirs))
    assert [getattr(n, name) for n in event.new_records] == ["new", "new"]
    assert all("file" not in vars(r) for r in (*event.old_records, *event.new_records))
    obj = Ligatured.objects.get(name="a")
    setattr(obj, name, "saved")
    obj.save()
    assert getattr(seen[-1].old_records[0], name) == "new" and seen[-1].update_fields == (name,)
    Ligatured.objects.all().delete()
    assert sorted(getattr(o, name) for o in deleted[0].old_records) == ["new", "saved"]


def test_records_survive_pickle_and_copy_when_modelstate_pickles_only_its_dict(monkeypatch):
    # Django 6.1's ModelState.__getstate__ returns self.__dict__ (minus "peers"); RecordState keeps db,
    # adding and the related cache in slots, which that would drop (a copy would then save() as an INSERT).
    import copy
    import pickle

    def getstate_as_in_django_6_1(self):
        state = self.__dict__.copy()
        state.pop("peers", None)
        return state

    monkeypatch.setattr(ModelState, "__getstate__", getstate_as_in_django_6_1, raising=False)
    AccountFactory.create_batch(2)
    seen = _capture(Account, after_update)
    Account.objects.update(status="closed")
    record = seen[0].old_records[0]
    assert isinstance(record._state, RecordState)
    record._state.fields_cache["owner"] = "cached"
    for clone in (pickle.loads(pickle.dumps(record)), copy.copy(record), copy.deepcopy(record)):
        assert (clone._state.db, clone._state.adding) == ("default", False)
        assert clone._state.fields_cache == {"owner": "cached"}
        assert clone._state.fields_cache is not record._state.fields_cache
