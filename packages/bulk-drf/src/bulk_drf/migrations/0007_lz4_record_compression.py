"""PostgreSQL 14+: a job's stored records (``BulkJobDataChunk.records``) compressed with lz4 instead of pglz.

PostgreSQL compresses a large ``jsonb`` value with pglz by default; lz4 compresses and decompresses several
times faster for a little more bytes (docs/jobs.md, "Storage"). Export pages are not compressed at all
(``STORAGE EXTERNAL``, migration 0005). A server built without lz4 (or older than 14), and every other
database, keep their default: the step is skipped. Rows already stored keep their compression until rewritten.
"""

from typing import Any

from django.db import DatabaseError, migrations, transaction

COLUMNS = (("bulk_drf_bulkjobdatachunk", "records"),)


def _set_compression(apps: Any, schema_editor: Any, method: str | None) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    quote = connection.ops.quote_name
    for table, column in COLUMNS:
        try:
            with transaction.atomic(using=connection.alias):  # a savepoint: an lz4-less server refuses it
                schema_editor.execute(
                    f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method or 'DEFAULT'}"
                )
        except DatabaseError:
            return


def forwards(apps: Any, schema_editor: Any) -> None:
    _set_compression(apps, schema_editor, "lz4")


def backwards(apps: Any, schema_editor: Any) -> None:
    _set_compression(apps, schema_editor, None)


class Migration(migrations.Migration):
    dependencies = [
        ("bulk_drf", "0006_job_facts_and_chunks"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
