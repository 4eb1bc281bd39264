"""Cheaper rows for the two tables a job writes most.

- ``BulkJobResult`` (a row per record): no foreign key constraint on ``job`` (one check per row at commit;
  ``jobs.deletion`` keeps result rows from outliving their job; backwards, result rows without a job are deleted
  before the constraint comes back), no index on ``job`` alone (the unique
  ``(job, index)`` serves every lookup by job), and the kind index holds only the failed and unprocessed rows
  (the succeeded list is read along ``(job, index)``): a check and two index entries fewer per succeeded record.
- PostgreSQL 14+ built with lz4: export pages (``BulkJobResultPage.rows``) compressed with lz4, about 4x smaller and
  quicker to write than uncompressed (pglz, slower than writing them as they are, is why 0005 stored them
  uncompressed). Without lz4 (or older than 14), and on other databases, they stay as 0005 left them.
"""

from typing import Any

import django.db.models.deletion
from django.db import DatabaseError, migrations, models, transaction

PAGES = ("bulk_drf_bulkjobresultpage", "rows")


def _store_pages(schema_editor: Any, storage: str, compression: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    table, column = (connection.ops.quote_name(name) for name in PAGES)
    try:
        with transaction.atomic(using=connection.alias):  # a savepoint: an lz4-less server refuses it
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {compression}, "
                f"ALTER COLUMN {column} SET STORAGE {storage}"
            )
    except DatabaseError:
        return


def delete_orphan_results(apps: Any, schema_editor: Any) -> None:
    """Backwards, before the foreign key comes back: result rows whose job is gone would make it fail."""
    results, jobs = apps.get_model("bulk_drf", "BulkJobResult"), apps.get_model("bulk_drf", "BulkJob")
    alias = schema_editor.connection.alias
    results.objects.using(alias).exclude(job_id__in=jobs.objects.using(alias).values("pk")).delete()


def compress_pages(apps: Any, schema_editor: Any) -> None:
    _store_pages(schema_editor, "EXTENDED", "lz4")


def uncompress_pages(apps: Any, schema_editor: Any) -> None:
    _store_pages(schema_editor, "EXTERNAL", "DEFAULT")


class Migration(migrations.Migration):

    dependencies = [
        ('bulk_drf', '0007_lz4_record_compression'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='bulkjobresult',
            name='bulk_drf_result_kind_idx',
        ),
        migrations.AlterField(
            model_name='bulkjobresult',
            name='job',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='results', to='bulk_drf.bulkjob'),
        ),
        migrations.RunPython(migrations.RunPython.noop, delete_orphan_results, elidable=True),
        migrations.AddIndex(
            model_name='bulkjobresult',
            index=models.Index(condition=models.Q(('kind', 'succeeded'), _negated=True), fields=['job', 'index'], name='bulk_drf_result_unsucceeded'),
        ),
        migrations.RunPython(compress_pages, uncompress_pages, elidable=True),
    ]
