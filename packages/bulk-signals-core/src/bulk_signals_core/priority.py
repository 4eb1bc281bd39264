"""Receiver priorities: lower numbers run first, ties run in connection order."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Priority"]


class Priority(IntEnum):
    """Named priorities. Any ``int`` is accepted where a priority is expected."""

    HIGHEST = 0
    HIGH = 25
    NORMAL = 50
    LOW = 75
    LOWEST = 100
