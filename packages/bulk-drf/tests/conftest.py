"""Fixtures shared by the synchronous-layer tests."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient


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
