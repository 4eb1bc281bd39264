"""System checks of bulk-signals-django."""

from __future__ import annotations

from bulk_signals_django import BulkSignalModelMixin
from bulk_signals_django.checks import check_keyword_fields, keyword_field_errors
from django.db import models
from django.test.utils import isolate_apps


@isolate_apps("tests")
def test_a_field_named_like_our_keywords_is_an_error_naming_it_and_the_way_out() -> None:
    class Flagged(BulkSignalModelMixin, models.Model):
        bypass_signals = models.BooleanField(default=False)
        bypass_validation = models.BooleanField(default=False)
        name = models.CharField(max_length=10)

    class PlainFlagged(models.Model):  # Django's own manager: update() takes the field, no error
        bypass_signals = models.BooleanField(default=False)

    assert keyword_field_errors(PlainFlagged) == []
    errors = keyword_field_errors(Flagged)
    assert [(e.id, e.obj.name) for e in errors] == [
        ("bulk_signals_django.E001", "bypass_signals"),
        ("bulk_signals_django.E001", "bypass_validation"),
    ]
    assert "tests.Flagged.bypass_signals" in errors[0].msg
    assert "db_column='bypass_signals'" in errors[0].hint


def test_the_test_models_pass_the_keyword_check() -> None:
    assert check_keyword_fields() == []
