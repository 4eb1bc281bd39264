"""Error strategies RAISE / COLLECT / LOG / GROUP, on_error, per-send overrides, exception types."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from bulk_signals_core import BulkSignalsError, ErrorStrategy, ReceiversFailed, Signal


class Model:
    """A sender."""


def build(errors: ErrorStrategy = ErrorStrategy.RAISE) -> tuple[Signal[int], list[str], list[tuple[str, Any]]]:
    """A signal with receivers ok1, bad1 (ValueError), ok2, bad2 (KeyError), ok3, in that order."""
    failures: list[tuple[str, Any]] = []
    signal: Signal[int] = Signal("orders", errors=errors, on_error=lambda rid, exc: failures.append((rid, exc)))
    calls: list[str] = []

    def make(name: str, exc: Exception | None) -> Any:
        def receiver(sender: Any, payload: int) -> str:
            calls.append(name)
            if exc is not None:
                raise exc
            return name

        return receiver

    for name, exc in (("ok1", None), ("bad1", ValueError("v")), ("ok2", None), ("bad2", KeyError("k")), ("ok3", None)):
        signal.connect(make(name, exc), id=name, weak=False)
    return signal, calls, failures


def test_raise_stops_at_the_first_error_and_reraises_it() -> None:
    signal, calls, failures = build(ErrorStrategy.RAISE)
    with pytest.raises(ValueError, match="v"):
        signal.send(Model, 1)
    assert calls == ["ok1", "bad1"]
    assert [(rid, type(exc)) for rid, exc in failures] == [("bad1", ValueError)]


def test_raise_is_the_default() -> None:
    signal, calls, _ = build()
    with pytest.raises(ValueError):
        signal.send(Model, 1)
    assert calls == ["ok1", "bad1"]


def test_collect_runs_every_receiver_and_returns_failures_as_results() -> None:
    signal, calls, failures = build(ErrorStrategy.COLLECT)
    results = signal.send(Model, 1)
    assert calls == ["ok1", "bad1", "ok2", "bad2", "ok3"]
    values = [value for _, value in results]
    assert values[0] == "ok1" and values[2] == "ok2" and values[4] == "ok3"
    assert isinstance(values[1], ValueError) and isinstance(values[3], KeyError)
    assert [rid for rid, _ in failures] == ["bad1", "bad2"]


def test_log_logs_each_failure_with_the_receiver_id_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    signal, calls, failures = build(ErrorStrategy.LOG)
    with caplog.at_level(logging.ERROR, logger="bulk_signals_core"):
        results = signal.send(Model, 1)
    assert calls == ["ok1", "bad1", "ok2", "bad2", "ok3"]
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["receiver bad1 of signal 'orders' failed", "receiver bad2 of signal 'orders' failed"]
    assert all(record.exc_info is not None for record in caplog.records)
    assert isinstance(results[1][1], ValueError)
    assert len(failures) == 2


def test_group_runs_every_receiver_then_raises_an_exception_group_of_all_failures() -> None:
    signal, calls, failures = build(ErrorStrategy.GROUP)
    with pytest.raises(ReceiversFailed) as info:
        signal.send(Model, 1)
    assert calls == ["ok1", "bad1", "ok2", "bad2", "ok3"]
    group = info.value
    assert isinstance(group, ExceptionGroup) and isinstance(group, BulkSignalsError)
    assert [type(e) for e in group.exceptions] == [ValueError, KeyError]
    assert "2 receiver(s) of signal 'orders' failed" in str(group)
    assert len(failures) == 2


def test_group_can_be_caught_with_except_star() -> None:
    signal, _, _ = build(ErrorStrategy.GROUP)
    caught: list[type[BaseException]] = []
    try:
        signal.send(Model, 1)
    except* KeyError as group:
        caught += [type(e) for e in group.exceptions]
    except* ValueError as group:
        caught += [type(e) for e in group.exceptions]
    assert sorted(caught, key=lambda t: t.__name__) == [KeyError, ValueError]


def test_group_without_failures_returns_results() -> None:
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.GROUP)

    def ok(sender: Any, payload: int) -> int:
        return payload

    signal.connect(ok)
    assert signal.send(Model, 3) == [(ok, 3)]


def test_on_error_is_called_for_every_failure_with_the_receiver_id() -> None:
    signal, _, failures = build(ErrorStrategy.COLLECT)
    signal.send(Model, 1)
    assert [(rid, type(exc)) for rid, exc in failures] == [("bad1", ValueError), ("bad2", KeyError)]


def test_on_error_gets_the_generated_id_of_a_receiver_without_one() -> None:
    failures: list[str] = []
    signal: Signal[int] = Signal("s", on_error=lambda rid, exc: failures.append(rid))

    def explodes(sender: Any, payload: int) -> None:
        raise RuntimeError("x")

    signal.connect(explodes)
    with pytest.raises(RuntimeError):
        signal.send(Model, 1)
    assert failures == [f"{__name__}.test_on_error_gets_the_generated_id_of_a_receiver_without_one.<locals>.explodes"]


def test_per_send_errors_overrides_the_signal_default() -> None:
    signal, calls, _ = build(ErrorStrategy.RAISE)
    results = signal.send(Model, 1, errors=ErrorStrategy.COLLECT)
    assert len(results) == 5
    calls.clear()
    collecting, _, _ = build(ErrorStrategy.COLLECT)
    with pytest.raises(ValueError):
        collecting.send(Model, 1, errors=ErrorStrategy.RAISE)


def test_a_bad_per_send_strategy_is_rejected() -> None:
    signal, _, _ = build()
    with pytest.raises(TypeError, match="errors must be an ErrorStrategy, not 'collect'"):
        signal.send(Model, 1, errors="collect")  # type: ignore[arg-type]


def test_base_exceptions_are_never_collected() -> None:
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.COLLECT)
    calls: list[str] = []

    def interrupted(sender: Any, payload: int) -> None:
        raise KeyboardInterrupt

    def after(sender: Any, payload: int) -> None:
        calls.append("after")

    signal.connect(interrupted)
    signal.connect(after)
    with pytest.raises(KeyboardInterrupt):
        signal.send(Model, 1)
    assert calls == []


def test_raise_reports_a_failing_django_style_receiver() -> None:
    failures: list[str] = []
    signal: Signal[int] = Signal("s", on_error=lambda rid, exc: failures.append(rid))

    def legacy(sender: Any, **kwargs: Any) -> None:
        raise ValueError("legacy")

    signal.connect(legacy, dispatch_uid="legacy-uid")
    with pytest.raises(ValueError, match="legacy"):
        signal.send(Model, 1)
    assert failures == ["legacy-uid"]


def test_error_strategies_have_stable_values() -> None:
    assert [s.value for s in ErrorStrategy] == ["raise", "collect", "log", "group"]


def test_errors_may_also_be_passed_positionally_and_is_checked() -> None:
    # Not keyword-only (the compiled build's fast argument parsing); still checked.
    signal: Signal[int] = Signal("s")

    def boom(sender: Any, payload: int) -> None:
        raise ValueError("boom")

    signal.connect(boom)
    [(_, result)] = signal.send(None, 1, ErrorStrategy.COLLECT)
    assert isinstance(result, ValueError)
    with pytest.raises(TypeError, match="errors must be an ErrorStrategy"):
        signal.send(None, 1, "collect")  # type: ignore[arg-type]
