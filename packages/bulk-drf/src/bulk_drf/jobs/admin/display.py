"""How the admin pages show errors."""

from __future__ import annotations

from typing import Any

__all__ = ["error_text"]


def error_text(detail: Any) -> str:
    """A DRF error detail (a string, or lists and dicts of them, as a 400 carries) or a record's errors
    (``{field: [{"message", "code"}]}``) as one readable line."""
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {error_text(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(error_text(value) for value in detail)
    return str(detail)
