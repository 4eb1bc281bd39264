"""Settings for Django's own ``runtests.py`` in the compat gate (``--settings=compat_settings``).

Environment: ``COMPAT_MODE`` (vanilla | silent | listening | async), ``COMPAT_BACKEND`` (sqlite | postgresql),
``COMPAT_DB_PREFIX`` (PostgreSQL test database names), ``DATABASE_URL`` (PostgreSQL server),
``COMPAT_RESULTS`` (where the runner writes each test's outcome, JSON).
"""

import os
from urllib.parse import urlsplit

import compat_graft

# Django's own test settings of this version (tests/test_sqlite.py, next to runtests.py), then ours.
from test_sqlite import *  # noqa: F403

BACKEND = os.environ.get("COMPAT_BACKEND", "sqlite")

if BACKEND == "postgresql":
    _url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"))
    _prefix = os.environ.get("COMPAT_DB_PREFIX", "compat")

    def _pg(alias: str) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": _url.hostname or "127.0.0.1",
            "PORT": _url.port or 5432,
            "USER": _url.username or "postgres",
            "PASSWORD": _url.password or "",
            "NAME": f"{_prefix}_{alias}",
            "TEST": {"NAME": f"test_{_prefix}_{alias}"},
        }

    DATABASES = {"default": _pg("default"), "other": _pg("other")}

TEST_RUNNER = "compat_runner.CompatRunner"

compat_graft.install()
