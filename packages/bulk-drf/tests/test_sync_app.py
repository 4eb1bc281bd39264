"""The Django app, the lazy package exports and the settings checks."""

import subprocess
import sys

import bulk_drf
from bulk_drf.checks import check_settings
from django.apps import apps
from django.test import override_settings


def test_app_label_and_default_auto_field():
    config = apps.get_app_config("bulk_drf")
    assert config.name == "bulk_drf"
    assert config.default_auto_field == "django.db.models.BigAutoField"


def test_public_names_are_exported_lazily():
    from bulk_drf.mixins import BulkOperationsMixin
    from bulk_drf.sync.operations import execute_batch

    assert bulk_drf.BulkOperationsMixin is BulkOperationsMixin
    assert bulk_drf.execute_batch is execute_batch
    assert "BulkOperationsMixin" in dir(bulk_drf)


def test_importing_the_package_loads_neither_drf_views_nor_models():
    code = "import sys, bulk_drf; print('rest_framework.views' in sys.modules, 'django.db.models' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_unknown_attribute_is_an_attribute_error():
    try:
        bulk_drf.Nope  # noqa: B018
    except AttributeError as exc:
        assert "Nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_default_settings_pass_the_checks():
    assert check_settings() == []


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=0, BULK_DRF_BATCH_SIZE=-1)
def test_non_positive_limits_are_errors():
    problems = check_settings()
    assert [p.id for p in problems] == ["bulk_drf.E001", "bulk_drf.E001"]
    assert "BULK_DRF_SYNC_MAX_ITEMS" in problems[0].msg


@override_settings(BULK_DRF_SYNC_MAX_ITEMS=500, BULK_DRF_MAX_RECORDS=100)
def test_sync_limit_above_the_total_limit_is_a_warning():
    assert [p.id for p in check_settings()] == ["bulk_drf.W001"]
