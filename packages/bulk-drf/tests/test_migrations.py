"""The shipped migrations match the models: ``makemigrations --check`` finds nothing to write."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db  # makemigrations reads the applied-migrations table
def test_makemigrations_check_finds_nothing_for_bulk_drf() -> None:
    out = io.StringIO()
    call_command("makemigrations", "bulk_drf", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()
