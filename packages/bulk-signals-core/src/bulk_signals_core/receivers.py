"""Receiver records: what ``connect`` learns once so that ``send`` never has to ask again.

A :class:`ReceiverRecord` holds the receiver (weakly by default), the sender it listens to, its
priority and id, and how to call it. Everything ``send`` needs per receiver is decided here, at
connect time: inspecting a receiver on every send is what makes other dispatchers slow.
"""

from __future__ import annotations

import inspect
import itertools
import types
import weakref
from collections.abc import Callable
from typing import Any, Final

from .exceptions import InvalidReceiver

__all__ = ["ANY", "CallKind", "ReceiverRecord", "describe", "inspect_receiver", "make_ref", "receiver_key"]


class _AnySender:
    """The sender that matches every sender."""

    _instance: _AnySender | None = None

    def __new__(cls) -> _AnySender:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"

    def __reduce__(self) -> str:
        return "ANY"


ANY: Final[Any] = _AnySender()
"""Connect with ``sender=ANY`` (the default) to receive every sender's sends."""


class CallKind:
    """How a receiver is called. Bit 2 marks ``async def`` receivers."""

    POSITIONAL = 0  # receiver(sender, payload)
    KEYWORDS = 1  # receiver(sender, signal=..., <payload_name>=payload): Django-style (sender, **kwargs)
    ONLY_KEYWORDS = 2  # receiver(signal=..., sender=..., <payload_name>=payload): (**kwargs)
    ASYNC = 4


_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
_CO_COROUTINE = inspect.CO_COROUTINE


def describe(receiver: object) -> str:
    """A readable name for a receiver: ``module.qualname`` when it has one."""
    func = getattr(receiver, "__func__", receiver)
    qualname = getattr(func, "__qualname__", None) or type(receiver).__qualname__
    module = getattr(func, "__module__", None) or type(receiver).__module__
    return f"{module}.{qualname}"


def inspect_receiver(receiver: object) -> int:
    """Return the receiver's :class:`CallKind`, or raise :class:`InvalidReceiver` naming it."""
    if not callable(receiver):
        raise InvalidReceiver(f"receiver {receiver!r} is not callable")
    func: Any = receiver
    skip = 0
    if isinstance(receiver, types.MethodType):
        func = receiver.__func__
        skip = 1
    if type(func) is types.FunctionType:
        # Reading the code object directly costs ~0.2 µs; inspect.signature costs ~5 µs.
        code = func.__code__
        flags = code.co_flags
        capacity = code.co_argcount - skip
        required = capacity - len(func.__defaults__ or ())
        kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
        required_kwonly = [n for n in kwonly if n not in (func.__kwdefaults__ or {})]
        var_positional = bool(flags & _CO_VARARGS)
        var_keywords = bool(flags & _CO_VARKEYWORDS)
        is_async = bool(flags & _CO_COROUTINE)
    else:
        try:
            sig = inspect.signature(receiver)
        except (TypeError, ValueError):  # some builtins have no signature: trust them
            return CallKind.POSITIONAL
        params = list(sig.parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        capacity = len(positional)
        required = sum(1 for p in positional if p.default is p.empty)
        required_kwonly = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
        var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
        var_keywords = any(p.kind is p.VAR_KEYWORD for p in params)
        call = getattr(receiver, "__call__", None)  # noqa: B004 - we want the bound __call__
        is_async = inspect.iscoroutinefunction(receiver) or inspect.iscoroutinefunction(call)
    kind: int
    if required_kwonly:
        raise InvalidReceiver(
            f"receiver {describe(receiver)} cannot take (sender, payload): "
            f"it requires keyword-only argument(s) {', '.join(required_kwonly)}"
        )
    if required <= 2 and (capacity >= 2 or var_positional):
        kind = CallKind.POSITIONAL
    elif var_keywords and required <= 1:
        kind = CallKind.KEYWORDS if capacity >= 1 else CallKind.ONLY_KEYWORDS
    else:
        raise InvalidReceiver(
            f"receiver {describe(receiver)} cannot take (sender, payload): it accepts {capacity} positional "
            f"argument(s) and requires {required}; define it as `def receiver(sender, payload)` "
            f"(or Django-style `def receiver(sender, **kwargs)`)"
        )
    return kind | CallKind.ASYNC if is_async else kind


def make_ref(obj: Any, weak: bool, callback: Callable[[Any], None] | None) -> Callable[[], Any]:
    """A zero-argument callable returning ``obj``, or ``None`` once a weakly held ``obj`` has died.

    Strong references use ``itertools.repeat(obj).__next__``: a C-level callable, so dereferencing
    costs the same as a weak reference's call and ``send`` needs no branch.
    """
    if weak:
        try:
            if type(obj) is types.MethodType:
                return weakref.WeakMethod(obj, callback)
            return weakref.ref(obj, callback)
        except TypeError:  # not weakly referenceable (builtins, some C callables): hold it strongly
            pass
    return itertools.repeat(obj).__next__


def receiver_key(receiver: object) -> object:
    """Identity of a receiver: bound methods are equal when their object and function are."""
    if type(receiver) is types.MethodType:
        return (id(receiver.__self__), id(receiver.__func__))
    return id(receiver)


class ReceiverRecord:
    """One connected receiver. Immutable once built; ``send`` reads ``ref``, ``kind`` and ``id``."""

    __slots__ = ("id", "key", "kind", "order", "priority", "ref", "sender", "sender_ref")

    def __init__(
        self,
        *,
        id: str,
        key: object,
        ref: Callable[[], Any],
        kind: int,
        priority: int,
        order: int,
        sender: object,
        sender_ref: Callable[[], Any] | None,
    ) -> None:
        self.id = id
        self.key = key
        self.ref = ref
        self.kind = kind
        self.priority = priority
        self.order = order
        self.sender = sender  # ANY, or the sender's identity key (never the sender itself)
        self.sender_ref = sender_ref  # None for ANY

    def sort_key(self) -> tuple[int, int]:
        return (self.priority, self.order)

    def is_alive(self) -> bool:
        if self.ref() is None:
            return False
        return self.sender_ref is None or self.sender_ref() is not None

    def __repr__(self) -> str:
        return f"<ReceiverRecord {self.id!r} priority={self.priority}>"
