"""ROOT_URLCONF of the documentation project: the ``urlpatterns`` the document being run defines, if any."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
