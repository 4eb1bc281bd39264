"""Is the job plumbing connected? The rules behind system checks ``bulk_drf.W002``/``bulk_drf.W003``, the
refusal of a job that no worker could ever run (503), and the worker's own check at start.

A job is run by a Celery worker in another process, which reports progress through the Django cache
(``BULK_DRF_CACHE_ALIAS``). Two misconfigurations used to make a job hang silently:

- a process-local cache (``LocMemCache``, ``DummyCache``): the worker finishes, the web process keeps
  answering the progress it cached itself;
- no Celery app at all (the project's ``celery.py`` missing, or not imported by the project's
  ``__init__.py``): Celery's fallback app sends the task to ``amqp://localhost`` and no worker ever sees it.

Neither matters when tasks run eagerly (``task_always_eager``, tests) or when only the synchronous
endpoints are used, so both are warnings at ``manage.py check``; submitting a job with no Celery app is
refused with a 503, and a worker started with a process-local cache logs an error at start.

A third problem can only be seen when a job is submitted: a broker that does not answer
(``broker_problem``). The job is refused with a 503 naming the broker, before it leaves ``Open``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning

from ..conf import bulk_settings

__all__ = [
    "broker_problem",
    "celery_app",
    "celery_is_configured",
    "job_plumbing_problems",
    "process_local_cache",
    "runs_eagerly",
]

PROCESS_LOCAL_CACHES = frozenset(
    {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}
)


def celery_app() -> Any:
    """The current Celery app (the project's, once its ``celery.py`` is imported)."""
    from celery import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]  # a Proxy at runtime


def celery_is_configured() -> bool:
    """Whether a Celery app was created. When none was, Celery makes a fallback app named ``default`` that is
    never set as current (``celery._state``); a project's own app is current (and Celery's Django fixup makes
    it the default app too)."""
    app = celery_app()
    return not (app.main == "default" and app.set_as_current is False)


def runs_eagerly() -> bool:
    """Whether tasks run in the calling process (``task_always_eager``): no worker, no broker, one cache."""
    return bool(celery_app().conf.task_always_eager)


def broker_problem() -> tuple[str, str] | None:
    """``(broker URL, error)`` when the Celery broker cannot be connected to now, else None.

    Connects afresh (a pooled connection would look alive after the broker died), with the app's
    ``broker_connection_timeout`` per attempt and the retries of its ``task_publish_retry_policy`` (what a
    publish would spend; about half a second by default for a refused connection), not the worker's
    ``broker_connection_max_retries``, which may be "forever". The URL's password is masked (``**``).
    """
    app = celery_app()
    policy = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
    policy.update(app.conf.task_publish_retry_policy or {})
    connection = app.connection_for_write()
    try:
        connection.ensure_connection(
            max_retries=policy["max_retries"],
            interval_start=policy["interval_start"],
            interval_step=policy["interval_step"],
            interval_max=policy["interval_max"],
        )
    except Exception as exc:  # kombu's OperationalError, a transport's own errors, a missing client library
        return connection.as_uri(), str(exc) or type(exc).__name__
    finally:
        connection.release()
    return None


def process_local_cache() -> str | None:
    """The backend of ``BULK_DRF_CACHE_ALIAS`` when it is process-local (each process has its own), else None."""
    backend = settings.CACHES.get(bulk_settings.CACHE_ALIAS, {}).get("BACKEND")
    return backend if backend in PROCESS_LOCAL_CACHES else None


def job_plumbing_problems() -> list[Any]:
    """``bulk_drf.W002``: a process-local cache holds job progress; ``bulk_drf.W003``: no Celery app configured.
    Neither applies when Celery runs tasks eagerly."""
    if runs_eagerly():
        return []
    problems: list[Any] = []
    backend = process_local_cache()
    if backend is not None:
        problems.append(
            Warning(
                f"BULK_DRF_CACHE_ALIAS {bulk_settings.CACHE_ALIAS!r} is a {backend.rsplit('.', 1)[-1]}: each process "
                "has its own, so the job status endpoint never sees the progress a Celery worker writes (a finished "
                "job keeps showing its first status).",
                hint="Point BULK_DRF_CACHE_ALIAS at a cache every process shares: Redis "
                "(django.core.cache.backends.redis.RedisCache), Memcached, the database or a file cache.",
                id="bulk_drf.W002",
            )
        )
    if not celery_is_configured():
        problems.append(
            Warning(
                "No Celery app is configured: background jobs would be sent to Celery's default broker "
                "(amqp://localhost) and no worker of yours would run them. Submitting a job answers 503.",
                hint="Create the app in your project's celery.py (Celery(...), config_from_object("
                "'django.conf:settings', namespace='CELERY'), autodiscover_tasks()) and import it in the "
                "project's __init__.py, as docs/jobs.md shows.",
                id="bulk_drf.W003",
            )
        )
    return problems
