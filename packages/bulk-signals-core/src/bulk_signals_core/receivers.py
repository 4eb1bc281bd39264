"""Receiver records: what ``connect`` learns once so that ``send`` never has to ask again.

A connected receiver is a :data:`Slot`, a flat tuple ``(ref, kind, label, key, priority, sender,
sender_ref)``; ``send`` reads only ``ref`` (the receiver, or ``None`` once a weakly held receiver
has been collected) and ``kind`` (how to call it, and whether it is ``async def``).

Everything ``send`` needs per receiver is decided here, at connect time: inspecting a receiver on
every send is what makes other dispatchers slow. Slots are plain tuples, not objects, because one
tuple is the cheapest thing to build on connect (about 40 ns against 130 ns for a NamedTuple) and
indexing an exact tuple is the cheapest thing a loop can do per item.
"""

from __future__ import annotations

import inspect
import itertools
import types
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, Final

from .exceptions import InvalidReceiver

__all__ = [
    "ANY",
    "CallKind",
    "Slot",
    "describe",
    "inspect_receiver",
    "make_ref",
    "receiver_id",
    "slot_is_alive",
]


class _AnySender:
    """The sender that matches every sender."""

    _instance: ClassVar[_AnySender | None] = None

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
    """How a receiver is called. The ``ASYNC`` bit marks ``async def`` receivers."""

    POSITIONAL: Final = 0  # receiver(sender, payload)
    KEYWORDS: Final = 1  # receiver(sender, signal=..., <payload_name>=payload): Django-style (sender, **kwargs)
    ONLY_KEYWORDS: Final = 2  # receiver(signal=..., sender=..., <payload_name>=payload): (**kwargs)
    ASYNC: Final = 4


Slot = tuple[
    Callable[[], Any],  # REF: returns the receiver, or None once a weakly held receiver has died
    int,  # KIND: its CallKind
    "str | None",  # LABEL: the id given to connect (or str(dispatch_uid)); None = named after the receiver
    object,  # KEY: the de-duplication key in Signal._keys
    Any,  # PRIORITY: an int; Any so that the compiled build keeps an int subclass as it is
    object,  # SENDER: ANY, or id(sender) (never the sender itself, so the slot does not keep it alive)
    "Callable[[], Any] | None",  # SENDER_REF: returns the sender (None once collected); None for ANY
]
"""One connected receiver: a flat tuple, the cheapest thing to build on connect and to read on send."""

REF: Final = 0
KIND: Final = 1
LABEL: Final = 2
KEY: Final = 3
PRIORITY: Final = 4
SENDER: Final = 5
SENDER_REF: Final = 6

_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
_CO_COROUTINE = inspect.CO_COROUTINE
_FunctionType = types.FunctionType
_MethodType = types.MethodType


def describe(receiver: object) -> str:
    """A readable name for a receiver: ``module.qualname`` when it has one."""
    func = getattr(receiver, "__func__", receiver)
    qualname = getattr(func, "__qualname__", None) or type(receiver).__qualname__
    module = getattr(func, "__module__", None) or type(receiver).__module__
    return f"{module}.{qualname}"


def receiver_id(slot: Slot, receiver: object) -> str:
    """The id under which a connected receiver is reported (``on_error``, logs, ``receiver_ids``)."""
    label = slot[LABEL]
    return label if label is not None else describe(receiver)


def slot_is_alive(slot: Slot) -> bool:
    """Whether the receiver, and the sender it listens to, still exist."""
    if slot[REF]() is None:
        return False
    sender_ref = slot[SENDER_REF]
    return sender_ref is None or sender_ref() is not None


def inspect_receiver(receiver: object) -> int:
    """Return the receiver's :class:`CallKind`, or raise :class:`InvalidReceiver` naming it."""
    if type(receiver) is _FunctionType:
        # The common case, decided from the code object alone (~60 ns; inspect.signature costs ~5 µs).
        code = receiver.__code__
        if code.co_argcount == 2 and not code.co_kwonlyargcount and not code.co_flags & _CO_VARKEYWORDS:
            return CallKind.POSITIONAL | CallKind.ASYNC if code.co_flags & _CO_COROUTINE else CallKind.POSITIONAL
    if not callable(receiver):
        raise InvalidReceiver(f"receiver {receiver!r} is not callable")
    func: Any = receiver
    skip = 0
    if isinstance(receiver, _MethodType):
        func = receiver.__func__
        skip = 1
    if type(func) is _FunctionType:
        code = func.__code__
        flags = code.co_flags
        capacity = code.co_argcount - skip
        names = list(code.co_varnames[skip : code.co_argcount])
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
        names = [p.name for p in positional]
        required = sum(1 for p in positional if p.default is p.empty)
        required_kwonly = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
        var_positional = any(p.kind is p.VAR_POSITIONAL for p in params)
        var_keywords = any(p.kind is p.VAR_KEYWORD for p in params)
        call = getattr(receiver, "__call__", None)  # noqa: B004 - we want the bound __call__
        is_async = inspect.iscoroutinefunction(receiver) or inspect.iscoroutinefunction(call)
    if required_kwonly:
        raise InvalidReceiver(
            f"receiver {describe(receiver)} cannot take (sender, payload): "
            f"it requires keyword-only argument(s) {', '.join(required_kwonly)}"
        )
    kind: int
    if var_keywords and required <= 1 and capacity >= 2 and not var_positional:
        # Django's shape, `def on_saved(sender, instance=None, **kwargs)`: Django passes everything
        # but the sender by name, so the optional arguments must not swallow the payload.
        kind = CallKind.KEYWORDS
    elif required <= 2 and (capacity >= 2 or var_positional):
        kind = CallKind.POSITIONAL
    elif var_keywords and required <= 1:
        kind = CallKind.KEYWORDS if capacity >= 1 else CallKind.ONLY_KEYWORDS
    else:
        raise InvalidReceiver(signature_problem(describe(receiver), names, capacity, required))
    return kind | CallKind.ASYNC if is_async else kind


def signature_problem(name: str, names: list[str], capacity: int, required: int) -> str:
    """Why a receiver with these positional parameters cannot be called as ``(sender, payload)``."""
    if capacity == 0:
        what = "takes no arguments"
    elif capacity < 2:
        what = f"takes only one positional argument ({names[0]})"
    else:
        what = f"requires {required} positional arguments ({', '.join(names[:required])})"
    return (
        f"receiver {name} {what}, but a receiver is called with two, (sender, payload): define it as "
        f"`def receiver(sender, payload)` (or Django-style `def receiver(sender, **kwargs)`)"
    )


def make_ref(obj: Any, weak: bool, callback: Callable[[Any], None] | None) -> Callable[[], Any]:
    """A zero-argument callable returning ``obj``, or ``None`` once a weakly held ``obj`` has died.

    Strong references use ``itertools.repeat(obj).__next__``: a C-level callable, so dereferencing
    costs the same as a weak reference's call and ``send`` needs no branch.
    """
    if weak:
        try:
            if type(obj) is _MethodType:
                return weakref.WeakMethod(obj, callback)
            return weakref.ref(obj, callback)
        except TypeError:  # not weakly referenceable (builtins, some C callables): hold it strongly
            pass
    return itertools.repeat(obj).__next__
