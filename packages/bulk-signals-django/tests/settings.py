"""Test settings: SQLite by default, PostgreSQL when DATABASE_URL is set (own test database name)."""

import os
from urllib.parse import unquote, urlparse

SECRET_KEY = "tests"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "bulk_signals_django", "tests"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database(alias: str = "default") -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:", "TEST": {"NAME": ":memory:"}}
    test_name = os.environ.get("BULK_SIGNALS_DJANGO_TEST_DB", "bulk_signals_django_test")
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "TEST": {"NAME": test_name if alias == "default" else f"{test_name}_{alias}"},
    }


# "other": a second database for the multi-database tests (a router sends writes there).
DATABASES = {"default": _database(), "other": _database("other")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite in memory is one connection's (or a shared cache's, which refuses instead of waiting):
    # concurrency tests use a file, where connections wait for SQLite's write lock as in production.
    import tempfile

    _file = os.path.join(tempfile.gettempdir(), f"bulk_signals_django_concurrency_{os.getpid()}.sqlite3")
    DATABASES["concurrent"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _file,
        "TEST": {"NAME": _file, "DEPENDENCIES": []},
        "OPTIONS": {"timeout": 30},
    }
