"""bulk-signals-core: a fast, typed, thread-safe in-process signal dispatcher."""

from . import signal as _signal_module
from .background import BackgroundEmitter, BackgroundStats, WhenFull
from .exceptions import BulkSignalsError, InvalidReceiver, QueueFull, ReceiversFailed
from .group import SignalGroup
from .priority import Priority
from .receivers import ANY
from .signal import Receiver, Signal
from .strategies import ErrorStrategy
from .switches import all_muted, disable_all, enable_all, globally_enabled

__version__ = "0.1.0"

compiled: bool = not (_signal_module.__file__ or "").endswith(".py")
"""True when the mypyc-compiled build is loaded (a wheel built with ``HATCH_BUILD_HOOK_ENABLE_MYPYC=1``)."""

__all__ = [
    "ANY",
    "BackgroundEmitter",
    "BackgroundStats",
    "BulkSignalsError",
    "ErrorStrategy",
    "InvalidReceiver",
    "Priority",
    "QueueFull",
    "Receiver",
    "ReceiversFailed",
    "Signal",
    "SignalGroup",
    "WhenFull",
    "__version__",
    "all_muted",
    "compiled",
    "disable_all",
    "enable_all",
    "globally_enabled",
]
