"""Settings for mypy's django-stubs plugin (`hatch run types:drf`): the apps whose models it reads, nothing more."""

SECRET_KEY = "typing"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "bulk_signals_django",
    "bulk_drf",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
