"""The Celery app, wired the way Celery's Django guide does it (settings under the ``CELERY_`` namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smokeproj.settings")

app = Celery("smokeproj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="smokeproj.add")
def add(x: int, y: int) -> int:
    """A task the check runs on the worker."""
    return x + y
