"""What the bulk-drf benchmarks share: their own PostgreSQL database, and the example project booted on it."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def ensure_database(url: str, name: str) -> None:
    """Create the database ``name`` on the server of ``url`` when missing (a benchmark's own: it truncates)."""
    import psycopg

    admin = psycopg.connect(url, autocommit=True)
    try:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


def boot_example_project(url: str, name: str, configure: Callable[[Any], None]) -> None:
    """Boot tests-integration's example project on the database ``name`` (created when missing) and migrate it;
    ``configure(settings)`` adjusts the settings first (the cache, page sizes)."""
    ensure_database(url, name)
    os.environ["DATABASE_URL"] = url
    os.environ["BULK_DB_NAME"] = name
    os.environ.setdefault("BULK_STATE_DIR", tempfile.mkdtemp(prefix=f"{name}-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django
    from django.conf import settings

    configure(settings)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
