"""Global switches: disable, enable or mute every signal of the process at once.

For tests and maintenance (a data migration, a bulk import). The switches cost ``send`` nothing:
each one rewrites the call plan of every live signal once, under that signal's lock, and ``send``
keeps reading only its own plan. A signal created while a switch is off starts switched off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import signal as _signal

__all__ = ["all_muted", "disable_all", "enable_all", "globally_enabled"]


def disable_all() -> None:
    """Stop every signal, existing and future, from delivering until :func:`enable_all`.

    Receivers stay connected. Per-signal state is kept: :func:`enable_all` does not enable a
    signal disabled by its own :meth:`~bulk_signals_core.Signal.disable`.
    """
    _signal._set_switches(disabled=True)


def enable_all() -> None:
    """Undo :func:`disable_all`. An :func:`all_muted` block still mutes until it ends."""
    _signal._set_switches(disabled=False)


@contextmanager
def all_muted() -> Iterator[None]:
    """Deliver nothing from any signal inside the block. Blocks nest, also across threads."""
    _signal._set_switches(muted_delta=1)
    try:
        yield
    finally:
        _signal._set_switches(muted_delta=-1)


def globally_enabled() -> bool:
    """False after :func:`disable_all` and inside an :func:`all_muted` block."""
    return not _signal._globally_off()
