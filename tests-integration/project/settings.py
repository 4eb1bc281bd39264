"""Settings of the example project: embedded defaults (SQLite file, filesystem broker, file cache), or
PostgreSQL / Redis when ``DATABASE_URL`` / ``REDIS_URL`` are set.

Environment knobs (used by the demo and the integration tests to point a worker process at the same
database, broker and cache as the web process):

- ``BULK_STATE_DIR``: where the SQLite file, the filesystem broker's queue and the file cache live
  (default ``tests-integration/.state``).
- ``BULK_DB_NAME``: the database name (a path for SQLite) to use instead of the default one; the
  integration suite sets it to pytest-django's test database for its worker process.
- ``BULK_QUEUE``: the Celery queue (default ``bulk-integration``); ``BULK_VISIBILITY_TIMEOUT``:
  seconds before Redis redelivers an unacknowledged task (default 3600: above the longest job).
- ``BULK_DRF_CHUNK_SIZE``: records per chunk (default 5000, bulk-drf's); ``BULK_DRF_EXPORT_PAGE_SIZE``: rows per
  export page (default 5000).
- ``BULK_REDIS_BROKER_DB`` / ``BULK_REDIS_CACHE_DB``: the Redis db numbers of the broker and the cache
  (default 2 and 3, the integration suite's; the demo uses 5 so it never meets the tests' queues).
- ``BULK_REDIS_BROKER_URL`` / ``BULK_REDIS_CACHE_URL``: a whole Redis URL for the broker / the cache, over
  ``REDIS_URL`` (the fault tests point one of them at a Redis of their own that they kill and restart).
- ``BULK_INTEGRATION_TEST_DB``: the name of the PostgreSQL test database (default ``bulk_integration_test``),
  so two runs of the suite can share one server.
- ``BULK_STALE_AFTER``: ``BULK_DRF_STALE_AFTER``, seconds before the reaper requeues a job (default 600);
  ``BULK_REAPER_EVERY``: seconds between two runs of the reaper under celery beat (default 60).

With drf-spectacular installed (the integration environment has it: the fuzzer reads the schema), the
API documents itself at ``/api/schema/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("BULK_STATE_DIR", BASE_DIR / ".state"))
STATE_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = "bulk-signals-example-project"  # an example project: never deploy this key
DEBUG = os.environ.get("BULK_DEBUG", "") == "1"
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "bulk_signals_django",
    "bulk_drf",
    "ledger",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "project.urls"
STATIC_URL = "static/"


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    name = os.environ.get("BULK_DB_NAME")
    if url:
        parts = urlparse(url)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name or unquote(parts.path.lstrip("/")) or "postgres",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "TEST": {"NAME": os.environ.get("BULK_INTEGRATION_TEST_DB", "bulk_integration_test")},
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name or str(STATE_DIR / "db.sqlite3"),
        # The worker and the web process share the file: wait for locks, take the write lock up front.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        "TEST": {"NAME": str(STATE_DIR / "test-db.sqlite3")},  # on disk: the worker process must see it
    }


DATABASES = {"default": _database()}

REDIS_URL = os.environ.get("REDIS_URL", "").rstrip("/")
if REDIS_URL:
    _cache_db, _broker_db = os.environ.get("BULK_REDIS_CACHE_DB", "3"), os.environ.get("BULK_REDIS_BROKER_DB", "2")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("BULK_REDIS_CACHE_URL") or f"{REDIS_URL}/{_cache_db}",
        }
    }
    CELERY_BROKER_URL = os.environ.get("BULK_REDIS_BROKER_URL") or f"{REDIS_URL}/{_broker_db}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("BULK_VISIBILITY_TIMEOUT", 3600))}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(STATE_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = STATE_DIR / "broker"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),  # default: "control" in the current directory
    }

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BULK_QUEUE", "bulk-integration")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long tasks + late ack: do not let one worker hoard jobs
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A broker that restarts: keep reconnecting (at start too), never give up. With acks_late a task whose
# message was in flight is redelivered after visibility_timeout; one that Redis lost with its restart
# (no persistence) is queued again by the reaper below.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# The reaper and the purges (bulk_drf.schedule): run celery beat, or a worker with -B.
from bulk_drf.schedule import beat_schedule  # noqa: E402 - settings read top to bottom

CELERY_BEAT_SCHEDULE = beat_schedule(requeue_every=float(os.environ.get("BULK_REAPER_EVERY", 60)))
BULK_DRF_STALE_AFTER = float(os.environ.get("BULK_STALE_AFTER", 600))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

try:
    import drf_spectacular  # noqa: F401  (the OpenAPI schema: bulk-drf[openapi])
except ImportError:  # pragma: no cover - environments without the openapi extra (the benchmarks)
    HAS_SCHEMA = False
else:
    HAS_SCHEMA = True
    INSTALLED_APPS.append("drf_spectacular")
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
    SPECTACULAR_SETTINGS = {"TITLE": "bulk-signals example ledger API", "VERSION": "1"}

BULK_DRF_CHUNK_SIZE = int(os.environ.get("BULK_DRF_CHUNK_SIZE", 5000))
BULK_DRF_EXPORT_PAGE_SIZE = int(os.environ.get("BULK_DRF_EXPORT_PAGE_SIZE", 5000))
BULK_DRF_PROGRESS_UPDATE_INTERVAL = BULK_DRF_CHUNK_SIZE
BULK_DRF_MAX_RECORDS = 200_000
# BULK_DRF_TASK_SOFT_TIME_LIMIT from the environment: the broker fault test makes a job hop through the broker.
BULK_DRF_TASK_SOFT_TIME_LIMIT = (
    float(os.environ["BULK_DRF_TASK_SOFT_TIME_LIMIT"]) if os.environ.get("BULK_DRF_TASK_SOFT_TIME_LIMIT") else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"bulk_drf": {"handlers": ["console"], "level": "WARNING"}},
}
