"""A receiver whose payload type does not match the signal's: `mypy --strict` must reject it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulk_signals_core import Signal


@dataclass(frozen=True)
class OrderPlaced:
    order_id: int


@dataclass(frozen=True)
class UserCreated:
    username: str


order_placed: Signal[OrderPlaced] = Signal("order_placed")


def on_user(sender: object, payload: UserCreated) -> None:
    print(payload.username)


order_placed.connect(on_user)  # mypy-error: wrong payload type, called form


@order_placed.connect(priority=10)  # mypy-error: wrong payload type, decorator form
def on_user_decorated(sender: object, payload: UserCreated) -> None:
    print(payload.username)


order_placed.send(object(), UserCreated("x"))  # mypy-error: wrong payload sent


def on_user_django_style(sender: object, payload: UserCreated = UserCreated("x"), **kwargs: Any) -> None:
    print(payload.username)  # gets payload=OrderPlaced by keyword


order_placed.connect(on_user_django_style)  # mypy-error: wrong payload type behind a Django-style **kwargs
