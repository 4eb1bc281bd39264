import pytest

from tests.factories import ThingFactory
from tests.models import Thing

pytestmark = pytest.mark.django_db


def test_post_array_creates_rows(api):
    response = api.post("/things/", [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}], format="json")
    assert response.status_code == 201, response.data
    assert response.data["created_count"] == 2
    assert sorted(Thing.objects.values_list("sku", flat=True)) == ["A", "B"]


def test_patch_array(api):
    things = ThingFactory.create_batch(3)
    response = api.patch("/things/", [{"id": t.pk, "quantity": 7} for t in things], format="json")
    assert response.status_code == 200, response.data
    assert set(Thing.objects.values_list("quantity", flat=True)) == {7}
