"""Misconfigured job plumbing is loud: system checks bulk_drf.W002/W003, a 503 for a job no worker could run.

The tests process imports the test project's Celery app (conftest.py). A project that forgot its app is a
fresh process that never imports one: those cases run ``manage.py check`` and a job submission in a
subprocess with the same settings (SQLite in memory).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bulk_drf.checks import job_plumbing_problems
from django.test import override_settings

HERE = Path(__file__).resolve().parent.parent


def _in_a_project_without_celery_app(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=HERE, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_process_local_progress_cache_is_a_warning_unless_tasks_run_eagerly() -> None:
    from celery import current_app

    # tests/settings.py: the default cache is a LocMemCache.
    assert [p.id for p in job_plumbing_problems()] == ["bulk_drf.W002"]
    assert "LocMemCache" in job_plumbing_problems()[0].msg
    current_app.conf.task_always_eager = True
    try:
        assert job_plumbing_problems() == []
    finally:
        current_app.conf.task_always_eager = False
    with override_settings(BULK_DRF_CACHE_ALIAS="down"):  # a Redis cache: shared by every process
        assert job_plumbing_problems() == []


def test_check_names_a_missing_celery_app() -> None:
    done = _in_a_project_without_celery_app(
        """
        from django.core.management import call_command
        call_command("check")
        """
    )
    assert "bulk_drf.W003" in done.stderr + done.stdout, done.stderr
    assert "No Celery app is configured" in done.stderr + done.stdout


def test_a_job_submitted_without_a_celery_app_is_a_503_and_stays_open() -> None:
    done = _in_a_project_without_celery_app(
        """
        from django.core.management import call_command
        from django.test.utils import override_settings
        override_settings(ROOT_URLCONF="tests.jobs_urls").enable()
        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient
        from bulk_drf.models import BulkJob
        user = get_user_model().objects.create_superuser(username="u", password="p")
        client = APIClient()
        client.force_authenticate(user)
        response = client.post("/gadgets/bulk/", [{"sku": "G1", "name": "g", "price": "1.00", "qty": 1}], format="json")
        print(response.status_code, response.json()["detail"])
        print([job.state for job in BulkJob.objects.all()])
        """
    )
    assert done.returncode == 0, done.stderr
    status, states = done.stdout.strip().splitlines()[-2:]
    assert status.startswith("503 background jobs are not available: no Celery app is configured")
    assert states in ("['Open']", "[]")
