"""Settings for mypy's django-stubs plugin (`hatch run types:django`): the apps whose models it reads, nothing more."""

SECRET_KEY = "typing"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "bulk_signals_django"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
