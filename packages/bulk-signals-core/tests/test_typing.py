"""Static typing: mypy --strict accepts correct use and rejects a receiver of the wrong payload type."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TYPING_TESTS = Path(__file__).resolve().parent.parent / "typing_tests"


def run_mypy(path: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache_dir), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_correct_usage_passes_mypy_strict(tmp_path: Path) -> None:
    result = run_mypy(TYPING_TESTS / "correct_usage.py", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_a_receiver_of_the_wrong_payload_type_is_rejected(tmp_path: Path) -> None:
    path = TYPING_TESTS / "wrong_payload.py"
    expected_lines = [
        number for number, line in enumerate(path.read_text().splitlines(), start=1) if "# mypy-error" in line
    ]
    result = run_mypy(path, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = {int(m.group(1)): m.group(2) for m in re.finditer(r"wrong_payload\.py:(\d+): error: (.*)", result.stdout)}
    assert sorted(errors) == expected_lines
    called, decorated, sent, django_style = expected_lines
    wrong = 'incompatible type "Callable[[object, UserCreated], None]"; expected "Callable[[Any, OrderPlaced], None]"'
    assert errors[called] == f'Argument 1 to "connect" of "Signal" has {wrong}  [arg-type]'
    assert errors[decorated] == f'Argument 1 to "__call__" of "_Connector" has {wrong}  [arg-type]'
    assert errors[sent] == (
        'Argument 2 to "send" of "Signal" has incompatible type "UserCreated"; expected "OrderPlaced"  [arg-type]'
    )
    # A (sender, payload=..., **kwargs) receiver gets payload= by keyword: its payload type is checked too.
    assert errors[django_style] == (
        'Argument 1 to "connect" of "Signal" has incompatible type "def on_user_django_style(sender: object, '
        'payload: UserCreated = ..., **kwargs: Any) -> None"; expected "Callable[[Any, OrderPlaced], None]"  [arg-type]'
    )
