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


@pytest.mark.django_db
def test_big_job_values_are_compressed_with_lz4_on_postgresql() -> None:
    """0007: stored records use lz4 where PostgreSQL has it (export pages stay uncompressed: 0005)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL column setting; SQLite has no per-column compression")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL is built without lz4: the migration leaves pglz")
        cursor.execute(
            "SELECT attrelid::regclass::text, attname, attcompression, attstorage FROM pg_attribute "
            "WHERE (attrelid, attname) IN (('bulk_drf_bulkjobresultpage'::regclass, 'rows'), "
            "('bulk_drf_bulkjobdatachunk'::regclass, 'records')) ORDER BY 1"
        )
        assert cursor.fetchall() == [
            ("bulk_drf_bulkjobdatachunk", "records", "l", "x"),  # lz4, compressed (extended)
            ("bulk_drf_bulkjobresultpage", "rows", "", "e"),  # external: out of line, never compressed
        ]
