"""The one rule for building instances without ``__init__`` (``builders.can_build_without_init``) and the
builders that follow it: ``new_record_factory`` gives what ``Model(**values)`` (and ``Model()`` plus a
``setattr`` per value) gives, field for field; ``fetch_rows`` gives what ``list(queryset)`` gives. Models
the rule refuses get Django's own construction, and the instances show it."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest
from bulk_signals_django import BulkSignalModelMixin
from bulk_signals_django.builders import can_build_without_init, fetch_rows, new_record_factory
from bulk_signals_django.decorators import after_delete, before_update
from django.db import models, transaction
from django.db.models import F
from django.db.models.signals import post_init, pre_init
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.models import (
    Account,
    Attachment,
    FromDbOwned,
    InitAfterModel,
    Initialised,
    Keyworded,
    Kinds,
    NewOwned,
    Restaurant,
    SetAttrOwned,
    Tag,
    Ticket,
)

pytestmark = pytest.mark.django_db

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def plain(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    obj = model()
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


def same(a: models.Model, b: models.Model) -> None:
    """Same attributes in the same order, same values and types, same state."""
    da, db = dict(vars(a)), dict(vars(b))
    sa, sb = da.pop("_state"), db.pop("_state")
    assert list(da) == list(db)
    assert da == db
    assert {k: type(v) for k, v in da.items()} == {k: type(v) for k, v in db.items()}
    assert (sa.adding, sa.db, sorted(sa.fields_cache)) == (sb.adding, sb.db, sorted(sb.fields_cache))


# -- the rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [Account, Ticket, Restaurant, Tag, Keyworded, Kinds])
def test_models_built_the_way_django_builds_them_qualify(model):
    # Restaurant: multi-table inheritance (the parent link and the parent's columns are concrete fields);
    # Tag: a GenericForeignKey (a private field, set by __init__ only when given); Keyworded: a field
    # named "from" (record_loop sets it with setattr).
    assert can_build_without_init(model)


@pytest.mark.parametrize(
    "model",
    [
        Initialised,  # its own __init__
        InitAfterModel,  # a mixin's __init__ after Model in the MRO (Model.__init__'s super().__init__())
        NewOwned,  # its own __new__
        SetAttrOwned,  # its own __setattr__
        FromDbOwned,  # its own from_db
        Attachment,  # a FileField's descriptor
        BulkSignalModelMixin,  # abstract
    ],
)
def test_models_needing_their_own_construction_do_not(model):
    assert not can_build_without_init(model)


@pytest.mark.parametrize("signal", [pre_init, post_init])
def test_init_receivers_of_the_model_or_of_every_sender_count_while_connected(signal):
    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver, sender=Account)
    try:
        assert not can_build_without_init(Account)
        assert can_build_without_init(Ticket)  # another model's receivers do not count
    finally:
        signal.disconnect(receiver, sender=Account)
    assert can_build_without_init(Account)
    signal.connect(receiver)
    try:
        assert not can_build_without_init(Account) and not can_build_without_init(Ticket)
    finally:
        signal.disconnect(receiver)
    assert can_build_without_init(Account)


# -- new records -----------------------------------------------------------------------------------


def test_a_model_the_rule_refuses_gets_model_and_setattr():
    for model in (Initialised, InitAfterModel, NewOwned, SetAttrOwned):
        build = new_record_factory(model)
        assert build.__name__ == "plain"
        same(build({"name": "x"}), plain(model, {"name": "x"}))
    assert new_record_factory(InitAfterModel)({"name": "x"}).flagged
    assert new_record_factory(NewOwned)({"name": "x"}).made_by_new
    assert new_record_factory(SetAttrOwned)({"name": "x"}).name == "X"


def test_new_records_of_qualifying_models_are_models_own():
    build = new_record_factory(Restaurant)
    assert build.__name__ == "build"
    values = {"name": "r", "seats": 3}
    same(build(values), Restaurant(**values))
    tag = new_record_factory(Tag)({"label": "t", "target": Account(pk=7, name="a")})
    same(tag, Tag(label="t", target=Account(pk=7, name="a")))
    assert (tag.object_id, tag.content_type.model) == (7, "account")


def test_callable_defaults_are_evaluated_per_record():
    build = new_record_factory(Kinds)
    a, b = build({}), build({})
    assert a.data == b.data == {} and a.data is not b.data and a._state is not b._state


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)  # storable text
_AWARE = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 1, 1), timezones=st.just(datetime.UTC)
)
_KIND_VALUES = {
    "title": _TEXT,
    "count": st.integers(-(2**31), 2**31 - 1),
    "ratio": st.none() | st.floats(allow_nan=False, allow_infinity=False),
    "amount": st.decimals(min_value=-999999, max_value=999999, places=2, allow_nan=False, allow_infinity=False),
    "day": st.none() | st.dates(),
    "stamp": st.none() | _AWARE,
    "active": st.booleans(),
    "color": st.sampled_from(["red", "green"]),
    "data": st.dictionaries(_TEXT, st.integers(-100, 100) | _TEXT | st.none(), max_size=3),
    "token": st.none() | st.uuids(),
}


@st.composite
def kinds_values(draw: st.DrawFn) -> dict[str, Any]:
    """Any subset of Kinds' fields, in any order; the foreign key as an id or as an (unsaved) instance."""
    values = draw(st.fixed_dictionaries({}, optional=_KIND_VALUES))
    account = draw(
        st.sampled_from(["none", "id", "object"]).flatmap(
            lambda how: (
                st.just(("none", None))
                if how == "none"
                else st.tuples(st.just(how), st.none() | st.integers(1, 2**31 - 1))
            )
        )
    )
    if account[0] == "id":
        values["account_id"] = account[1]
    elif account[0] == "object":
        values["account"] = Account(pk=account[1], name="a")
    return dict(draw(st.permutations(list(values.items()))))


@PROPERTY
@given(values=kinds_values())
def test_new_records_equal_model_init_field_by_field(values):
    built = new_record_factory(Kinds)(values)
    same(built, Kinds(**values))
    same(built, plain(Kinds, values))
    assert built._state.adding is True  # and _state.db as Django sets it (a related instance's router)


@PROPERTY
@given(values=kinds_values())
def test_with_a_post_init_receiver_new_records_are_still_model_init(values):
    seen = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Kinds)
    try:
        build = new_record_factory(Kinds)
        built = build(values)
    finally:
        post_init.disconnect(receiver, sender=Kinds)
    assert build.__name__ == "plain" and seen == [built]
    same(built, Kinds(**values))


# -- fetched rows ----------------------------------------------------------------------------------


@PROPERTY
@given(rows=st.lists(kinds_values(), min_size=1, max_size=4))
def test_fetched_rows_equal_djangos_field_by_field(rows):
    with transaction.atomic():  # each example in its own savepoint, rolled back
        Kinds.objects.bulk_create([Kinds(**{k: v for k, v in row.items() if k != "account"}) for row in rows])
        queryset = Kinds.objects.order_by("pk")
        mine, theirs = fetch_rows(queryset), list(queryset)
        transaction.set_rollback(True)
    assert len(mine) == len(theirs) == len(rows)
    for a, b in zip(mine, theirs, strict=True):
        same(a, b)
        assert a._state.adding is False and a._state.db == "default"


def test_a_mixins_init_after_model_runs_for_old_records():
    # Fixed: the old rule looked at model.__init__ only, which is Model.__init__ here.
    InitAfterModel.objects.bulk_create([InitAfterModel(name="a"), InitAfterModel(name="b")])
    seen: list[Any] = []
    before_update(InitAfterModel)(lambda sender, event: seen.append(event))
    InitAfterModel.objects.update(level=F("level") + 1)
    (event,) = seen
    assert [o.flagged for o in event.old_records] == [True, True]
    assert [(o.level, n.level) for n, o in event.pairs()] == [(0, 1), (0, 1)]


def test_an_own_new_runs_for_old_records():
    # Fixed: records were made with object.__new__, skipping the model's own __new__.
    NewOwned.objects.bulk_create([NewOwned(name="a")])
    deleted: list[Any] = []
    after_delete(NewOwned)(lambda sender, event: deleted.append(event))
    NewOwned.objects.all().delete()
    (event,) = deleted
    assert [o.made_by_new for o in event.old_records] == [True]


def test_decimal_values_keep_their_type_through_the_builder():
    built = new_record_factory(Kinds)({"amount": decimal.Decimal("1.50")})
    assert type(built.amount) is decimal.Decimal and str(built.amount) == "1.50"
