"""Settings for bulk-drf's tests: SQLite in memory, or PostgreSQL when DATABASE_URL is set.

Kept flat on purpose: the job tests add their INSTALLED_APPS / CACHES / CELERY lines below.
"""

import os
from urllib.parse import unquote, urlparse

SECRET_KEY = "tests"
USE_TZ = True
DEBUG = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "drf_spectacular",
    "bulk_signals_django",
    "bulk_drf",
    "tests",
]

ROOT_URLCONF = "tests.urls"
MIDDLEWARE: list[str] = []
# Test users are created by the hundred: Django's default hasher (PBKDF2) takes most of the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # our own test database: other suites run at the same time (override to run this one twice at once)
        "TEST": {"NAME": os.environ.get("BULK_DRF_TEST_DB", "bulk_drf_test")},
    }


DATABASES = {"default": _database()}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {"TITLE": "bulk-drf tests"}

# Job layer: the app behind the test_job* modules (its own URLs: tests/jobs_urls.py). The Celery app is
# tests/celery_app.py; its broker is in memory (no job runs unless a test runs it).
CELERY_BROKER_URL = "memory://"
INSTALLED_APPS += ["tests.jobs_app"]

# A cache whose Redis never answers (nothing listens on port 1): the tests of a cache outage point
# BULK_DRF_CACHE_ALIAS at it. A real client getting a real "connection refused", not a mock.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "down": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
}

# The job admin (tests/test_job_admin.py, URLs in tests/admin_urls.py): Django's admin and what it needs.
INSTALLED_APPS += ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages"]
MIDDLEWARE += [
    "django.contrib.sessions.middleware.SessionMiddleware",
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
