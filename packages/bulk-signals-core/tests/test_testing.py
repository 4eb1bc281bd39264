"""bulk_signals_core.testing.record: what users' tests use to see emissions."""

from __future__ import annotations

from typing import Any

import pytest
from bulk_signals_core import ErrorStrategy, Priority, Signal
from bulk_signals_core.testing import record


class Model:
    """A sender."""


def test_record_captures_sender_and_payload_of_each_emission() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as rec:
        signal.send(Model, 1)
        signal.send("other", 2)
    assert rec.calls == [(Model, 1), ("other", 2)]
    assert rec.senders == [Model, "other"]
    assert rec.payloads == [1, 2]
    assert len(rec) == 2
    rec.assert_sent()
    rec.assert_sent(times=2)


def test_record_disconnects_when_the_block_ends() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as rec:
        assert len(signal) == 1
    signal.send(Model, 1)
    assert rec.calls == []
    assert len(signal) == 0


def test_record_runs_before_other_receivers_so_a_failing_emission_is_recorded() -> None:
    signal: Signal[int] = Signal("s")

    def explodes(sender: Any, payload: int) -> None:
        raise ValueError("x")

    signal.connect(explodes, priority=Priority.HIGHEST)
    with record(signal) as rec, pytest.raises(ValueError):
        signal.send(Model, 1)
    assert rec.payloads == [1]


def test_muted_sends_are_not_recorded() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as rec:
        with signal.muted():
            signal.send(Model, 1)
        rec.assert_not_sent()


def test_record_with_a_sender_records_only_that_senders_emissions() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal, sender=Model) as rec:
        signal.send(Model, 1)
        signal.send(object(), 2)
    assert rec.payloads == [1]


def test_two_recorders_on_one_signal_both_record() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as first, record(signal) as second:
        signal.send(Model, 1)
    assert first.payloads == second.payloads == [1]


def test_record_does_not_change_results_of_collect() -> None:
    signal: Signal[int] = Signal("s", errors=ErrorStrategy.COLLECT)

    def ok(sender: Any, payload: int) -> int:
        return payload

    signal.connect(ok)
    with record(signal):
        results = signal.send(Model, 5)
    assert results[-1] == (ok, 5)


def test_assert_sent_fails_when_nothing_was_sent() -> None:
    signal: Signal[int] = Signal("quiet")
    with record(signal) as rec:
        pass
    with pytest.raises(AssertionError, match="signal 'quiet' was not sent"):
        rec.assert_sent()


def test_assert_sent_times_fails_on_a_different_count() -> None:
    signal: Signal[int] = Signal("twice")
    with record(signal) as rec:
        signal.send(Model, 1)
        signal.send(Model, 2)
    with pytest.raises(AssertionError, match="signal 'twice' was sent 2 time\\(s\\), not 1"):
        rec.assert_sent(times=1)


def test_assert_not_sent_fails_when_something_was_sent() -> None:
    signal: Signal[int] = Signal("s")
    with record(signal) as rec:
        signal.send(Model, 1)
    with pytest.raises(AssertionError, match="was sent 1 time"):
        rec.assert_not_sent()
