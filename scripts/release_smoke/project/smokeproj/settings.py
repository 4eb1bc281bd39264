"""Settings of the smoke project: a Redis broker and Django's RedisCache, nothing else beyond Django's defaults.

``REDIS_URL`` (redis://127.0.0.1:6379), ``BULK_REDIS_BROKER_DB`` (10) and ``BULK_REDIS_CACHE_DB`` (11) say where.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "release-smoke-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "bulk_signals_django",
    "bulk_drf",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}

_REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
_BROKER_DB = os.environ.get("BULK_REDIS_BROKER_DB", "10")
_CACHE_DB = os.environ.get("BULK_REDIS_CACHE_DB", "11")

# The web process and the worker share this cache: job progress is written by one and read by the other.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"{_REDIS}/{_CACHE_DB}",
        "KEY_PREFIX": "release-smoke",
    }
}
CELERY_BROKER_URL = f"{_REDIS}/{_BROKER_DB}"
CELERY_RESULT_BACKEND = f"{_REDIS}/{_BROKER_DB}"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
