"""API bulk writes go through bulk-signals-django: model receivers fire, once per request."""

import pytest
from bulk_signals_core.testing import record
from bulk_signals_django import signals
from bulk_signals_django.events import Source
from django.core.exceptions import ValidationError

from tests.factories import ThingFactory
from tests.models import Thing

pytestmark = pytest.mark.django_db


def test_create_fires_one_bulk_create_event_with_every_row(api):
    with record(signals.bulk_post_create, sender=Thing) as created:
        api.post("/things/", [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}], format="json")

    created.assert_sent(1)
    event = created.payloads[0]
    assert event.source == Source.BULK_CREATE
    assert [t.sku for t in event.new_records] == ["A", "B"]


def test_update_fires_with_old_and_new_values(api):
    thing = ThingFactory(quantity=1)

    with record(signals.bulk_post_update, sender=Thing) as updated:
        api.patch("/things/", [{"id": thing.pk, "quantity": 2}], format="json")

    updated.assert_sent(1)
    ((new, old),) = updated.payloads[0].pairs()
    assert (old.quantity, new.quantity) == (1, 2)


def test_upsert_fires_create_for_new_rows_and_update_for_existing_ones(api):
    ThingFactory(sku="A", name="old")

    with (
        record(signals.bulk_post_create, sender=Thing) as created,
        record(signals.bulk_post_update, sender=Thing) as updated,
    ):
        api.post("/things/?unique_fields=sku", [{"name": "new", "sku": "A"}, {"name": "b", "sku": "B"}], format="json")

    assert [t.sku for t in created.payloads[0].new_records] == ["B"]
    assert [(new.name, old.name) for new, old in updated.payloads[0].pairs()] == [("new", "old")]


def test_delete_fires_with_the_deleted_rows(api):
    a, b = ThingFactory.create_batch(2)

    with record(signals.bulk_post_delete, sender=Thing) as deleted:
        api.delete(f"/things/?ids={a.pk},{b.pk}")

    deleted.assert_sent(1)
    assert sorted(t.pk for t in deleted.payloads[0].old_records) == sorted([a.pk, b.pk])


def test_a_model_validate_receiver_refusing_the_batch_is_a_400_and_nothing_is_written(api):
    def refuse(sender, event):
        raise ValidationError("no writes today", code="closed")

    signals.bulk_validate_create.connect(refuse, sender=Thing, id="tests.refuse", weak=False)
    try:
        response = api.post("/things/", [{"name": "a", "sku": "A"}], format="json")
    finally:
        signals.bulk_validate_create.disconnect(id="tests.refuse", sender=Thing)

    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["no writes today"]}
    assert not Thing.objects.exists()
