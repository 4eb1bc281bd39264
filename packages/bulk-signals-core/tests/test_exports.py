"""The public surface: names, version, typing marker, and no dependency beyond the standard library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bulk_signals_core
import bulk_signals_core.signal
import bulk_signals_core.testing


def test_all_is_pinned() -> None:
    assert bulk_signals_core.__all__ == [
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


def test_every_exported_name_exists() -> None:
    for name in bulk_signals_core.__all__:
        assert getattr(bulk_signals_core, name) is not None, name


def test_testing_module_exports() -> None:
    assert bulk_signals_core.testing.__all__ == ["Recording", "record"]


def test_version_is_a_semver_string() -> None:
    major, minor, patch = bulk_signals_core.__version__.split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_the_package_is_marked_as_typed() -> None:
    assert (Path(bulk_signals_core.__file__).parent / "py.typed").is_file()


def test_priorities_have_the_documented_values() -> None:
    from bulk_signals_core import Priority

    assert [(p.name, int(p)) for p in Priority] == [
        ("HIGHEST", 0),
        ("HIGH", 25),
        ("NORMAL", 50),
        ("LOW", 75),
        ("LOWEST", 100),
    ]


def test_importing_the_package_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import bulk_signals_core, bulk_signals_core.testing; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    third_party = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("bulk_signals_core")
        and not name.endswith("__mypyc")  # the compiled build's shared runtime, shipped in its wheel
    ]
    assert third_party == []


def test_compiled_says_which_build_is_loaded() -> None:
    # make test runs this suite twice: the pure build (core) and the mypyc build (core-compiled,
    # which sets BULK_SIGNALS_EXPECT_COMPILED=1). A stray compiled module in the pure tree fails here.
    expected = os.environ.get("BULK_SIGNALS_EXPECT_COMPILED") == "1"
    assert bulk_signals_core.compiled is expected
    suffix = Path(bulk_signals_core.signal.__file__ or "").suffix
    assert (suffix != ".py") is expected
