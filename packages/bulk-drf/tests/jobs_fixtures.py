"""Fixtures of the job-layer tests (imported by the ``test_job*`` modules)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bulk_drf.jobs import lifecycle as jobs
from bulk_drf.models import BulkJob
from celery import current_app
from django.contrib.auth.models import Permission
from django.core.cache import caches
from rest_framework.test import APIClient

GADGET_VIEWSET = "tests.jobs_app.views.GadgetViewSet"


def make_user(
    django_user_model: Any, username: str, *, perms: tuple[str, ...] = ("add", "change", "delete", "view"), **extra: Any
) -> Any:
    user = django_user_model.objects.create_user(username=username, password="pw", **extra)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="jobs_app", codename__in=[f"{p}_gadget" for p in perms])
    )
    return django_user_model.objects.get(pk=user.pk)  # fresh: no stale permission cache


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return make_user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return make_user(django_user_model, "bob")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return make_user(django_user_model, "staff", is_staff=True)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)  # no session or token lookup: requests cost only their own queries
    return client


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run queued tasks in-process (unit tests only; the integration suite runs a real worker)."""
    conf = current_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


def gadgets(n: int, *, start: int = 0, prefix: str = "G") -> list[dict[str, Any]]:
    return [
        {"sku": f"{prefix}{i:05d}", "name": f"gadget {i}", "price": f"{i}.50", "qty": i}
        for i in range(start, start + n)
    ]


def closed_job(
    owner: Any, records: list[Any], *, operation: str = "insert", viewset: str = GADGET_VIEWSET, **kwargs: Any
) -> BulkJob:
    """A job holding ``records``, moved to UploadComplete (not queued: the tests run it themselves)."""
    job = jobs.create_job(owner=owner, viewset=viewset, operation=operation, **kwargs)
    jobs.add_records(job, records)
    jobs.transition(job, "UploadComplete")
    return job
