"""Misconfigured job plumbing is loud: system checks bulk_drf.W002/W003, a 503 for a job no worker could run.

The tests process imports the test project's Celery app (conftest.py). A project that forgot its app is a
fresh process that never imports one: those cases run ``manage.py check`` and a job submission in a
subprocess with the same settings (SQLite in memory). A broker that does not answer is a real Redis client
connecting to a port where nothing listens (connection refused), not a mock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bulk_drf.checks import job_plumbing_problems
from bulk_drf.jobs.errors import BrokerUnreachable
from bulk_drf.jobs.lifecycle import check_queue
from bulk_drf.models import BulkJob
from celery import current_app
from django.test import override_settings

from tests import jobs_fixtures
from tests.jobs_fixtures import client_for, gadgets

HERE = Path(__file__).resolve().parent.parent
alice = jobs_fixtures.alice

# Nothing listens on port 1 (tests/settings.py's "down" cache uses it too); the password must never be shown.
DOWN_BROKER = "redis://:s3cret@127.0.0.1:1/0"


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
        from django.test.utils import override_settings, setup_test_environment
        setup_test_environment()  # ALLOWED_HOSTS takes "testserver": job answers carry absolute URLs
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
        staged = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()["id"]
        client.put(f"/api/bulk-jobs/{staged}/data/", [{"sku": "G2", "name": "g", "price": "1.00", "qty": 1}])
        closing = client.patch(f"/api/bulk-jobs/{staged}/", {"state": "UploadComplete"}, format="json")
        print(closing.status_code, closing.json()["detail"])
        print(BulkJob.objects.get(pk=staged).state)
        """
    )
    assert done.returncode == 0, done.stderr
    status, states, closing, staged_state = done.stdout.strip().splitlines()[-4:]
    # The one-shot request is rolled back whole: no job, no data; the client sends it again.
    assert status.startswith("503 background jobs are not available: no Celery app is configured")
    assert status.endswith("nothing was stored: send the request again once this is fixed")
    assert states == "[]"
    # A staged job refused at its close stays Open, and says so.
    assert closing.startswith("503 background jobs are not available: no Celery app is configured")
    assert closing.endswith("the job was not queued and stays Open: close it again once this is fixed")
    assert staged_state == "Open"


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Point the test project's Celery app at a broker that refuses connections, for the test's duration."""
    conf = current_app.conf
    saved = conf.broker_url, conf.broker_connection_timeout
    conf.broker_url, conf.broker_connection_timeout = DOWN_BROKER, 1
    yield
    conf.broker_url, conf.broker_connection_timeout = saved


def test_check_queue_names_a_broker_that_refuses_connections_and_masks_its_password(broker_down: None) -> None:
    with pytest.raises(BrokerUnreachable) as refused:
        check_queue()
    assert refused.value.code == "job_queue_unavailable"
    assert refused.value.broker == "redis://:**@127.0.0.1:1/0"
    assert "s3cret" not in refused.value.detail
    assert refused.value.detail.startswith("the Celery broker redis://:**@127.0.0.1:1/0 could not be reached (")
    assert "Connection refused" in refused.value.detail
    current_app.conf.task_always_eager = True  # eager tasks need no broker: nothing to check
    try:
        check_queue()
    finally:
        current_app.conf.task_always_eager = False


@pytest.mark.django_db
@pytest.mark.urls("tests.jobs_urls")
def test_closing_a_job_while_the_broker_is_down_is_a_503_and_the_job_stays_open(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    job_id = client.post("/gadgets/bulk/jobs/", {"operation": "insert"}, format="json").json()["id"]
    assert client.put(f"/api/bulk-jobs/{job_id}/data/", gadgets(3), format="json").status_code == 201
    conf = current_app.conf
    saved = conf.broker_url
    conf.broker_url = DOWN_BROKER
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            refused = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "UploadComplete"}, format="json")
    finally:
        conf.broker_url = saved
    assert refused.status_code == 503, refused.content
    detail = refused.json()["detail"]
    assert detail.startswith("the Celery broker redis://:**@127.0.0.1:1/0 could not be reached (")
    assert detail.endswith("the job was not queued and stays Open: close it again once this is fixed")
    assert "s3cret" not in refused.content.decode()
    assert callbacks == []  # nothing committed, nothing sent
    job = BulkJob.objects.get(pk=job_id)
    assert (job.state, job.upload_complete_at, job.total_records) == ("Open", None, 3)
    # The broker answers again (the suite's in-memory one): the same PATCH closes and queues the job.
    with django_capture_on_commit_callbacks(execute=True):
        closed = client.patch(f"/api/bulk-jobs/{job_id}/", {"state": "UploadComplete"}, format="json")
    assert closed.status_code == 200, closed.content
    assert BulkJob.objects.get(pk=job_id).state == "UploadComplete"


@pytest.mark.django_db
@pytest.mark.urls("tests.jobs_urls")
def test_a_one_shot_job_while_the_broker_is_down_is_a_503_and_stores_nothing(alice: Any, broker_down: None) -> None:
    refused = client_for(alice).post("/gadgets/bulk/", gadgets(5), format="json")
    assert refused.status_code == 503, refused.content
    detail = refused.json()["detail"]
    assert detail.startswith("the Celery broker redis://:**@127.0.0.1:1/0 could not be reached (")
    assert detail.endswith("nothing was stored: send the request again once this is fixed")
    assert not BulkJob.objects.exists()
