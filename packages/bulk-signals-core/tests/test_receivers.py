"""Receivers: accepted shapes, Django-style receivers, bad input, weak references, dead senders."""

from __future__ import annotations

import functools
import gc
import weakref
from typing import Any

import bulk_signals_core
import pytest
from bulk_signals_core import InvalidReceiver, Signal
from bulk_signals_core.receivers import ANY, describe


class Model:
    """A sender."""


# -- receiver shapes -------------------------------------------------------------------------------


def test_django_style_receiver_gets_signal_and_the_payload_under_payload_name() -> None:
    signal: Signal[int] = Signal("s", payload_name="event")
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append((sender, kwargs))

    signal.connect(receiver)
    signal.send(Model, 5)
    assert seen == [(Model, {"signal": signal, "event": 5})]


def test_payload_name_defaults_to_payload() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs["payload"])

    signal.connect(receiver)
    signal.send(Model, 5)
    assert seen == [5]


def test_django_style_receiver_with_optional_named_arguments_gets_them_by_keyword() -> None:
    # Django calls receiver(signal=..., sender=..., **named): a Django receiver such as
    # `def on_saved(sender, instance=None, **kwargs)` must not get the payload as `instance`.
    signal: Signal[int] = Signal("s", payload_name="event")
    seen: list[Any] = []

    def on_saved(sender: Any, instance: Any = None, **kwargs: Any) -> None:
        seen.append((sender, instance, kwargs))

    def on_event(sender: Any, event: Any = None, **kwargs: Any) -> None:
        seen.append((sender, event, kwargs))

    class Listener:
        def on_saved(self, sender: Any, instance: Any = None, **kwargs: Any) -> None:
            seen.append((sender, instance, kwargs))

    listener = Listener()
    signal.connect(on_saved)
    signal.connect(on_event, sender=Model)
    signal.connect(listener.on_saved)
    signal.send(Model, 5)
    assert seen == [
        (Model, None, {"signal": signal, "event": 5}),
        (Model, 5, {"signal": signal}),
        (Model, None, {"signal": signal, "event": 5}),
    ]


def test_receiver_with_two_required_arguments_and_kwargs_is_called_positionally() -> None:
    signal: Signal[int] = Signal("s", payload_name="event")
    seen: list[Any] = []

    def receiver(sender: Any, payload: int, **kwargs: Any) -> None:
        seen.append((sender, payload, kwargs))

    def wrapper(*args: Any, **kwargs: Any) -> None:  # e.g. a functools.wraps decorator's wrapper
        seen.append((args, kwargs))

    signal.connect(receiver)
    signal.connect(wrapper)
    signal.send(Model, 5)
    assert seen == [(Model, 5, {}), ((Model, 5), {})]


def test_keywords_only_receiver_gets_sender_by_keyword() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[Any] = []

    def receiver(**kwargs: Any) -> None:
        seen.append(kwargs)

    signal.connect(receiver)
    signal.send(Model, 5)
    assert seen == [{"signal": signal, "sender": Model, "payload": 5}]


def test_django_receiver_decorator_connects_with_sender_and_dispatch_uid() -> None:
    # What django.dispatch.receiver does: signal.connect(func, **kwargs), for one or many signals.
    def receiver_decorator(signal: Any, **kwargs: Any) -> Any:
        def _decorator(func: Any) -> Any:
            for s in signal if isinstance(signal, list | tuple) else [signal]:
                s.connect(func, **kwargs)
            return func

        return _decorator

    first: Signal[int] = Signal("first")
    second: Signal[int] = Signal("second")
    seen: list[Any] = []

    @receiver_decorator([first, second], sender=Model, dispatch_uid="audit", weak=False)
    def audit(sender: Any, **kwargs: Any) -> None:
        seen.append((kwargs["signal"].name, kwargs["payload"]))

    first.send(Model, 1)
    second.send(Model, 2)
    first.send(object(), 3)
    assert seen == [("first", 1), ("second", 2)]
    assert first.receiver_ids() == ["audit"]


def test_varargs_receiver_is_called_positionally() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[Any] = []

    def receiver(*args: Any) -> None:
        seen.append(args)

    signal.connect(receiver)
    signal.send(Model, 5)
    assert seen == [(Model, 5)]


def test_receiver_with_an_optional_third_argument_is_accepted() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[Any] = []

    def receiver(sender: Any, payload: int, extra: str = "default", *, flag: bool = False) -> None:
        seen.append((payload, extra, flag))

    signal.connect(receiver)
    signal.send(Model, 5)
    assert seen == [(5, "default", False)]


def test_bound_method_receiver() -> None:
    class Listener:
        def __init__(self) -> None:
            self.seen: list[int] = []

        def on_event(self, sender: Any, payload: int) -> None:
            self.seen.append(payload)

    signal: Signal[int] = Signal("s")
    listener = Listener()
    signal.connect(listener.on_event)
    signal.connect(listener.on_event)  # a new bound-method object, the same receiver
    signal.send(Model, 1)
    assert listener.seen == [1]
    assert signal.disconnect(listener.on_event) is True


def test_bound_methods_of_two_objects_are_two_receivers() -> None:
    class Listener:
        def __init__(self) -> None:
            self.seen: list[int] = []

        def on_event(self, sender: Any, payload: int) -> None:
            self.seen.append(payload)

    signal: Signal[int] = Signal("s")
    a, b = Listener(), Listener()
    signal.connect(a.on_event)
    signal.connect(b.on_event)
    signal.send(Model, 1)
    assert (a.seen, b.seen) == ([1], [1])


def test_callable_object_receiver() -> None:
    class Counter:
        def __init__(self) -> None:
            self.count = 0

        def __call__(self, sender: Any, payload: int) -> None:
            self.count += payload

    signal: Signal[int] = Signal("s")
    counter = Counter()
    signal.connect(counter)
    signal.send(Model, 3)
    assert counter.count == 3
    assert signal.receiver_ids() == [f"{__name__}.test_callable_object_receiver.<locals>.Counter"]


def test_functools_partial_receiver() -> None:
    seen: list[Any] = []

    def receiver(tag: str, sender: Any, payload: int) -> None:
        seen.append((tag, payload))

    signal: Signal[int] = Signal("s")
    bound = functools.partial(receiver, "tagged")
    signal.connect(bound)
    signal.send(Model, 3)
    assert seen == [("tagged", 3)]


def test_builtin_without_a_signature_is_trusted() -> None:
    signal: Signal[int] = Signal("s")
    signal.connect(max)  # inspect.signature(max) raises ValueError
    assert signal.send(2, 5) == [(max, 5)]


def test_non_weakrefable_receiver_is_held_strongly() -> None:
    class Slotted:  # __slots__ without __weakref__: cannot be weakly referenced
        __slots__ = ("seen",)

        def __init__(self) -> None:
            self.seen: list[int] = []

        def __call__(self, sender: Any, payload: int) -> None:
            self.seen.append(payload)

    signal: Signal[int] = Signal("s")
    signal.connect(Slotted())  # no other reference to it
    gc.collect()
    [(receiver, _)] = signal.send(Model, 1)
    assert receiver.seen == [1]


def test_a_bound_builtin_method_is_a_weak_reference_pitfall_like_a_lambda() -> None:
    store: dict[Any, Any] = {}
    signal: Signal[int] = Signal("s")
    signal.connect(store.setdefault)  # a new method object on each attribute access
    gc.collect()
    assert len(signal) == 0
    signal.connect(store.setdefault, weak=False)
    signal.send("key", 1)
    assert store == {"key": 1}


def test_describe_names_module_and_qualname() -> None:
    def local(sender: Any, payload: Any) -> None: ...

    assert describe(local) == f"{__name__}.test_describe_names_module_and_qualname.<locals>.local"
    assert describe(max) == "builtins.max"


def test_any_has_a_stable_repr_and_pickles_to_itself() -> None:
    import pickle

    assert repr(ANY) == "ANY"
    assert pickle.loads(pickle.dumps(ANY)) is ANY
    assert type(ANY)() is ANY


# -- bad input -------------------------------------------------------------------------------------


def test_a_non_callable_receiver_is_rejected() -> None:
    signal: Signal[int] = Signal("s")
    with pytest.raises(InvalidReceiver, match="receiver 42 is not callable"):
        signal.connect(42)  # type: ignore[call-overload]


@pytest.mark.parametrize("priority", ["high", None, 1.5, True, False])
def test_a_priority_that_is_not_an_int_is_rejected_naming_the_receiver(priority: Any) -> None:
    signal: Signal[int] = Signal("s")

    def charge(sender: Any, payload: int) -> None: ...

    with pytest.raises(InvalidReceiver, match=r"priority of receiver .*charge must be an int"):
        signal.connect(charge, priority=priority)
    assert len(signal) == 0


def test_an_id_that_is_not_a_str_is_rejected() -> None:
    signal: Signal[int] = Signal("s")

    def charge(sender: Any, payload: int) -> None: ...

    with pytest.raises(InvalidReceiver, match=r"id of receiver .*charge must be a str, not 7"):
        signal.connect(charge, id=7)  # type: ignore[call-overload]


def test_invalid_receiver_is_a_type_error() -> None:
    assert issubclass(InvalidReceiver, TypeError)


def test_a_receiver_taking_one_argument_is_rejected_naming_it() -> None:
    signal: Signal[int] = Signal("s")

    def only_sender(sender: Any) -> None: ...

    with pytest.raises(
        InvalidReceiver,
        match=r"receiver .*only_sender takes only one positional argument \(sender\), but a receiver is called "
        r"with two, \(sender, payload\)",
    ):
        signal.connect(only_sender)  # type: ignore[call-overload]


def test_a_receiver_taking_no_argument_is_told_what_is_wrong() -> None:
    """A lambda with no arguments: the message says it takes none and how a receiver is called."""
    signal: Signal[int] = Signal("s")
    with pytest.raises(InvalidReceiver) as caught:
        signal.connect(lambda: None, weak=False)  # type: ignore[call-overload]
    assert str(caught.value) == (
        f"receiver {__name__}.test_a_receiver_taking_no_argument_is_told_what_is_wrong.<locals>.<lambda> "
        "takes no arguments, but a receiver is called with two, (sender, payload): define it as "
        "`def receiver(sender, payload)` (or Django-style `def receiver(sender, **kwargs)`)"
    )


def test_a_receiver_requiring_three_arguments_is_rejected() -> None:
    signal: Signal[int] = Signal("s")

    def three(sender: Any, payload: int, extra: str) -> None: ...

    with pytest.raises(InvalidReceiver, match=r"three requires 3 positional arguments \(sender, payload, extra\)"):
        signal.connect(three)  # type: ignore[call-overload]


def test_a_receiver_with_required_keyword_only_arguments_is_rejected() -> None:
    signal: Signal[int] = Signal("s")

    def needs_flag(sender: Any, payload: int, *, flag: bool) -> None: ...

    with pytest.raises(InvalidReceiver, match=r"needs_flag .*requires keyword-only argument\(s\) flag"):
        signal.connect(needs_flag)


def test_a_callable_object_with_the_wrong_signature_is_rejected() -> None:
    class Bad:
        def __call__(self) -> None: ...

    signal: Signal[int] = Signal("s")
    with pytest.raises(InvalidReceiver, match=r"Bad takes no arguments, but a receiver is called with two"):
        signal.connect(Bad())  # type: ignore[call-overload]


def test_a_callable_object_with_required_keyword_only_arguments_is_rejected() -> None:
    class Bad:
        def __call__(self, sender: Any, payload: Any, *, token: str) -> None: ...

    signal: Signal[int] = Signal("s")
    with pytest.raises(InvalidReceiver, match="keyword-only argument"):
        signal.connect(Bad())


def test_a_bound_method_with_the_wrong_signature_is_rejected() -> None:
    class Listener:
        def handle(self, sender: Any) -> None: ...

    signal: Signal[int] = Signal("s")
    with pytest.raises(InvalidReceiver, match=r"Listener.handle takes only one positional argument \(sender\)"):
        signal.connect(Listener().handle)  # type: ignore[call-overload]


def test_a_bad_error_strategy_is_rejected() -> None:
    with pytest.raises(TypeError, match="errors must be an ErrorStrategy"):
        Signal("s", errors="collect")  # type: ignore[arg-type]


def test_a_non_callable_on_error_is_rejected() -> None:
    with pytest.raises(TypeError, match="on_error must be callable"):
        Signal("s", on_error="log")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["sender", "signal", "", "not a name", 3])
def test_a_payload_name_django_style_receivers_cannot_take_is_rejected(name: Any) -> None:
    # Django-style receivers are called (sender, signal=..., <payload_name>=payload): "sender" or
    # "signal" would collide there and only fail at the first send, far from the mistake.
    expected = f"payload_name must be an identifier other than sender and signal, not {name!r}"
    if bulk_signals_core.compiled and not isinstance(name, str):
        expected = "str object expected; got int"  # the compiled build checks the annotation first
    with pytest.raises(TypeError, match=expected):
        Signal("s", payload_name=name)


# -- weak references -------------------------------------------------------------------------------


def test_a_collected_function_disappears() -> None:
    signal: Signal[int] = Signal("s")

    def receiver(sender: Any, payload: int) -> None: ...

    signal.connect(receiver)
    assert len(signal) == 1
    del receiver
    gc.collect()
    assert len(signal) == 0
    assert signal.receiver_ids() == []
    assert signal.send(Model, 1) == []
    assert signal.has_receivers() is False


def test_a_collected_bound_method_disappears() -> None:
    class Listener:
        def on_event(self, sender: Any, payload: int) -> None: ...

    signal: Signal[int] = Signal("s")
    listener = Listener()
    signal.connect(listener.on_event)
    assert len(signal) == 1
    del listener
    gc.collect()
    assert len(signal) == 0
    assert signal.receiver_ids() == []


def test_a_weakly_held_lambda_is_collected_at_once() -> None:
    # The pitfall weak=False exists for: nothing else references the lambda.
    signal: Signal[int] = Signal("s")
    signal.connect(lambda sender, payload: None)
    gc.collect()
    assert len(signal) == 0


def test_weak_false_keeps_a_lambda() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[int] = []
    signal.connect(lambda sender, payload: seen.append(payload), weak=False)
    gc.collect()
    signal.send(Model, 4)
    assert seen == [4]
    assert len(signal) == 1


def test_a_dead_senders_receivers_go_away() -> None:
    signal: Signal[int] = Signal("s")
    seen: list[int] = []

    def receiver(sender: Any, payload: int) -> None:
        seen.append(payload)

    sender = Model()
    signal.connect(receiver, sender=sender)
    signal.send(sender, 1)
    assert len(signal) == 1
    del sender
    gc.collect()
    assert len(signal) == 0
    assert signal.receiver_ids() == []


def _recycled_sender(dead_id: int) -> Model:
    """A new Model at the address of a collected one (CPython reuses freed memory at once)."""
    keep = []
    for _ in range(10_000):
        candidate = Model()
        if id(candidate) == dead_id:
            return candidate
        keep.append(candidate)
    raise AssertionError("CPython did not reuse the address")  # pragma: no cover


@pytest.mark.parametrize("sent_before", [False, True], ids=["not-cached", "cached"])
def test_a_recycled_sender_id_never_reaches_the_dead_senders_receivers(sent_before: bool) -> None:
    # Django ticket 35801: django.dispatch keys by id(sender), so a new object at the address of a
    # dead sender received the dead sender's signals.
    signal: Signal[int] = Signal("s")
    seen: list[int] = []

    def receiver(sender: Any, payload: int) -> None:
        seen.append(payload)

    signal.connect(receiver, sender=Model)  # keeps the signal in filtered mode
    sender = Model()
    signal.connect(receiver, sender=sender)
    if sent_before:
        signal.send(sender, 1)
    dead_id = id(sender)
    del sender
    gc.collect()
    newcomer = _recycled_sender(dead_id)
    seen.clear()
    assert signal.send(newcomer, 2) == []
    assert seen == []


def test_a_recycled_id_is_not_matched_even_if_the_slot_is_still_there() -> None:
    # Belt and braces: plans compare the sender's identity, not only its id.
    signal: Signal[int] = Signal("s")
    seen: list[int] = []

    def receiver(sender: Any, payload: int) -> None:
        seen.append(payload)

    sender = Model()
    signal.connect(receiver, sender=sender)
    slot = next(iter(signal._keys.values()))
    dead_id = id(sender)
    del sender
    gc.collect()
    newcomer = _recycled_sender(dead_id)
    with signal._lock:  # re-insert the dead slot, as a racing connect could
        signal._keys[slot[3]] = slot
        signal._changed()
    assert signal.send(newcomer, 1) == []
    assert seen == []


def test_a_dead_receiver_leaves_the_registry_without_any_send() -> None:
    signal: Signal[int] = Signal("s")

    def keep(sender: Any, payload: int) -> None: ...

    def dies(sender: Any, payload: int) -> None: ...

    signal.connect(keep)
    signal.connect(dies)
    del dies
    gc.collect()
    assert len(signal._keys) == 1  # removed by the weakref callback itself
    assert signal.receiver_ids() == [describe(keep)]


def test_a_weakref_callback_firing_inside_another_prune_removes_each_dead_receiver_once() -> None:
    # Garbage collection can start on any allocation, also while _prune builds its list of dead
    # slots; the nested _prune (same thread, re-entrant lock) then deleted keys the outer one
    # was about to delete, and the outer one died with a KeyError inside a weakref callback.
    signal: Signal[int] = Signal("s")

    def alive(sender: Any, payload: int) -> None: ...

    def doomed(sender: Any, payload: int) -> None: ...

    signal.connect(alive)
    signal.connect(doomed, id="doomed")
    nested = []

    class CollectingDuringItems(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            snapshot = list(super().items())
            if not nested:
                nested.append(True)
                signal._prune(None)  # what a weakref callback fired by GC right here would do
            return snapshot

    dead_ref = weakref.ref(Model())  # a weak reference whose receiver is gone
    slot = signal._keys["doomed"]
    signal._keys = CollectingDuringItems(signal._keys)
    signal._keys["doomed"] = (dead_ref, *slot[1:])

    signal._prune(None)

    assert nested == [True]
    assert list(signal._keys) == [id(alive)]
    assert signal.receiver_ids() == [describe(alive)]


def test_a_generated_id_shared_by_two_functions_is_refused_not_guessed() -> None:
    from bulk_signals_core import Signal

    sig: Signal[int] = Signal("ambiguous")

    def make() -> Any:
        def receiver(sender: object, payload: int) -> None:
            pass

        return receiver

    first, second = make(), make()
    sig.connect(first, weak=False)
    sig.connect(second, weak=False)
    label = describe(first)
    with pytest.raises(ValueError, match="generated id of 2 different receivers"):
        sig.disconnect(id=label)
    assert len(sig) == 2
    assert sig.disconnect(first) and len(sig) == 1
    assert sig.disconnect(id=label) and len(sig) == 0
