"""Fixtures shared by the synchronous-layer tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from tests.celery_app import app as celery_app  # noqa: F401 - the project's Celery app, as a project imports it


@pytest.fixture(autouse=True)
def _fresh_throttle_history() -> None:
    """The job-creation throttle (on by default) counts in the cache, per user id; ids are reused after each
    test's rollback, so the jobs of one test's "user 1" must not count against the next test's."""
    caches["default"].clear()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob", password="pw")


@pytest.fixture
def api(user: Any) -> APIClient:
    """An ``APIClient`` authenticated as ``user`` (no authentication queries per request)."""
    client = APIClient()
    client.force_authenticate(user)
    return client
