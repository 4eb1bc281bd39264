"""The test project's Celery app, created as docs/jobs.md tells a project to (imported by conftest.py).

Its broker is kombu's in-memory transport: tests that run a job do it eagerly (``eager_celery``) or
call the processing functions directly; a job closed without them is queued here and never run.
"""

from celery import Celery

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
