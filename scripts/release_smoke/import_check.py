"""Run inside a fresh virtual environment holding one package's wheel and its dependencies, nothing else.

``python import_check.py PACKAGE VERSION`` imports the package and every module in it (a file left out of the
wheel fails here), checks ``__version__`` and ``py.typed``, and for the Django packages sets Django up, runs the
system checks and, for bulk-drf, applies its migrations and checks that they match its models. The core's
environment must not contain Django. Prints one line per check; exits 1 on the first failure.
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import pkgutil
import sys

OPTIONAL = {"drf_spectacular"}  # modules of an extra (bulk-drf[openapi]) that a plain install does not have


def say(msg: str) -> None:
    print(f"  ok  {msg}", flush=True)


def import_all(package: str) -> int:
    root = importlib.import_module(package)
    count = 1
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if exc.name not in OPTIONAL:
                raise
            print(f"  --  {info.name} needs {exc.name} (an extra), not installed: skipped", flush=True)
            continue
        count += 1
    return count


def setup_django(apps: list[str]) -> None:
    import django
    from django.conf import settings

    # The admin too (bulk-drf registers its job admin), with what its system checks ask for.
    contrib = ["admin", "auth", "contenttypes", "sessions", "messages"]
    settings.configure(
        INSTALLED_APPS=[f"django.contrib.{app}" for app in contrib] + apps,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        # No cache or Celery app is configured here: the job wiring checks are exercised by worker_check.py.
        SILENCED_SYSTEM_CHECKS=["bulk_drf.W002", "bulk_drf.W003"],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
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
        ],
    )
    django.setup()
    say(f"Django {django.get_version()} set up with {', '.join(apps)}")


def main(package: str, version: str) -> None:
    module = package.replace("-", "_")
    if module == "bulk_signals_core":
        if importlib.util.find_spec("django") is not None:
            raise SystemExit("FAIL django is installed next to bulk-signals-core alone")
        say("Django is not installed with the core")
    elif module == "bulk_signals_django":
        setup_django(["bulk_signals_django"])
    else:
        setup_django(["rest_framework", "bulk_signals_django", "bulk_drf"])
    mod = importlib.import_module(module)
    if mod.__version__ != version:
        raise SystemExit(f"FAIL {module}.__version__ is {mod.__version__}, the wheel is {version}")
    say(f"import {module}: __version__ {mod.__version__}")
    if not importlib.resources.files(module).joinpath("py.typed").is_file():
        raise SystemExit(f"FAIL {module} has no py.typed")
    say("py.typed")
    say(f"{import_all(module)} modules import")
    if module == "bulk_signals_core":
        from bulk_signals_core import Signal

        seen: list[int] = []
        sig: Signal[int] = Signal("release_check")
        sig.connect(lambda sender, n: seen.append(n), weak=False)
        sig.send(None, 1)
        if seen != [1]:
            raise SystemExit("FAIL a send did not reach its receiver")
        say("a send reaches its receiver")
        return
    from django.core.management import call_command

    call_command("check", fail_level="ERROR")
    say("manage.py check")
    if module == "bulk_drf":
        call_command("migrate", verbosity=0)
        call_command("makemigrations", "bulk_drf", check=True, dry_run=True, verbosity=0)
        say("bulk_drf's migrations apply and match its models")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
