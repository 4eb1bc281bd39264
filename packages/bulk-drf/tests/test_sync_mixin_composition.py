"""The viewset mixins compose as DRF's do: arrays (``BulkOperationsMixin``), ``/bulk/`` jobs (``BulkJobsMixin``),
both (``BulkViewSetMixin``). That ``bulk_drf.sync`` imports nothing of ``bulk_drf.jobs`` is import-linter's
contract (``.importlinter``, run by ``make lint``)."""

import bulk_drf
import pytest
from bulk_drf.jobs.mixins import BulkJobsMixin, BulkViewSetMixin
from bulk_drf.sync.mixins import BulkOperationsMixin
from django.test import override_settings
from rest_framework import routers

from tests.views import GadgetViewSet, ThingViewSet

pytestmark = pytest.mark.django_db


def _url_names(viewset):
    router = routers.SimpleRouter()
    router.register("x", viewset, basename="x")
    return {url.name for url in router.get_urls()}


def test_the_sync_mixin_brings_no_job_routes():
    assert not issubclass(BulkOperationsMixin, BulkJobsMixin)
    assert _url_names(GadgetViewSet) == {"x-list", "x-detail"}


def test_the_convenience_class_is_both_and_routes_bulk():
    assert BulkViewSetMixin.__mro__[1:3] == (BulkJobsMixin, BulkOperationsMixin)
    assert _url_names(ThingViewSet) == {"x-list", "x-detail", "x-bulk", "x-bulk-jobs", "x-bulk-export"}


def test_the_root_exports_the_three_mixins_and_the_old_paths_still_import():
    from bulk_drf import exceptions, mixins, models, tasks

    assert bulk_drf.BulkOperationsMixin is mixins.BulkOperationsMixin is BulkOperationsMixin
    assert bulk_drf.BulkJobsMixin is mixins.BulkJobsMixin is BulkJobsMixin
    assert bulk_drf.BulkViewSetMixin is mixins.BulkViewSetMixin is BulkViewSetMixin
    assert models.BulkJob._meta.app_label == "bulk_drf"
    assert tasks.run_bulk_job.name == "bulk_drf.run_job"
    assert exceptions.IllegalTransition.__module__ == "bulk_drf.jobs.errors"


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=1, BULK_DRF_AUTO_ASYNC=True)
def test_a_sync_only_viewset_answers_413_without_a_bulk_url_even_with_auto_async(api):
    response = api.post("/gadgets/", [{"name": "a", "sku": "A"}, {"name": "b", "sku": "B"}], format="json")

    assert response.status_code == 413
    assert response.data["detail"].code == "too_many_items"
    assert "/bulk/" not in response.data["detail"]
