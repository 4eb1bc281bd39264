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
    """0007: stored records use lz4 where PostgreSQL has it; 0008: export pages too (0005 left them uncompressed)."""
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
            ("bulk_drf_bulkjobresultpage", "rows", "l", "x"),
        ]


@pytest.mark.django_db
def test_the_failed_list_reads_its_partial_index_and_the_succeeded_list_the_unique_one() -> None:
    """0008: a result row has no ``job`` index of its own, and only unsucceeded rows are in the kind index."""
    import uuid

    from bulk_drf.models import BulkJobResult
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "bulk_drf_bulkjobresult")
    plain_indexes = {name for name, c in constraints.items() if c["index"] and not c["unique"] and not c["primary_key"]}
    assert plain_indexes == {"bulk_drf_result_unsucceeded"}  # none on job_id alone
    job = uuid.uuid4()
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: make the planner say which index it would use
        for kind in ("failed", "unprocessed", "succeeded"):
            queryset = BulkJobResult.objects.filter(job_id=job, kind=kind).order_by("index")[:10]
            plans[kind] = queryset.explain()
    assert "bulk_drf_result_unsucceeded" in plans["failed"] and "bulk_drf_result_unsucceeded" in plans["unprocessed"]
    assert "bulk_drf_result_unique_index" in plans["succeeded"]
