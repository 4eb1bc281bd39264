"""Every bulk-drf setting is documented in docs/settings.md with its default."""

from pathlib import Path

import pytest
from bulk_drf.conf import DEFAULTS, bulk_settings
from django.test import override_settings

DOCS = Path(__file__).resolve().parents[3] / "docs" / "settings.md"


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_setting_is_documented(name):
    assert f"`BULK_DRF_{name}`" in DOCS.read_text()


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_setting_defaults_and_overrides(name):
    assert getattr(bulk_settings, name) == DEFAULTS[name]
    default = DEFAULTS[name]
    value = True if isinstance(default, bool) else "other" if isinstance(default, str) else 7
    with override_settings(**{f"BULK_DRF_{name}": value}):
        assert getattr(bulk_settings, name) == value
