"""What the walkthroughs share: section headers, and the example project set up in a temporary folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 78


def part(text: str) -> None:
    """A part of ``make demo`` (core, synchronous, jobs)."""
    print(f"\n{'#' * WIDTH}\n# {text}\n{'#' * WIDTH}")


def title(text: str) -> None:
    """A section inside a part."""
    line = f"== {text} "
    print("\n" + line + "=" * max(3, WIDTH - len(line)))


def setup_django() -> Any:
    """The example project (``project.settings``) on a state folder of its own, migrated; returns its settings.

    With no servers: SQLite, kombu's filesystem broker and a file cache in a temporary folder. ``REDIS_URL``
    switches the broker and the cache to Redis, ``DATABASE_URL`` the database to PostgreSQL.
    """
    os.environ.setdefault("BULK_STATE_DIR", tempfile.mkdtemp(prefix="bulk-demo-"))
    os.environ.setdefault("BULK_QUEUE", f"bulk-demo-{os.getpid()}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("BULK_REDIS_BROKER_DB", "5")  # with REDIS_URL: a db the test suites never use
    os.environ.setdefault("BULK_REDIS_CACHE_DB", "5")
    project = str(Path(__file__).resolve().parent.parent)
    if project not in sys.path:
        sys.path.insert(0, project)
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return settings
