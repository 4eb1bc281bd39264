"""Merge ``run_compat.py --candidates`` output into expected-differences lines.

``python tests-compat/merge_candidates.py /tmp/candidates.txt [more files]`` prints one line per
(test, reason, mode) with its scope collapsed: ``*`` for the backend when both differ, ``*`` for the
Django version when the test differs in every version of the input that has it (the tests each
version has are read from ``.cache/compat-runs/<version>/*-vanilla.json``), ``*`` for the mode when silent and listening
share the scope. Review the guessed kinds and reasons before pasting the lines in
expected-differences.txt.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

BACKENDS = {"sqlite", "postgresql"}
RUNS = Path(__file__).resolve().parent.parent / ".cache" / "compat-runs"


def tests_of(version: str) -> set[str] | None:
    """The test ids Django ``version`` (``5.2``) has, from the last vanilla runs, or None if unknown."""
    found: set[str] = set()
    for path in RUNS.glob(f"{version}.*/*-vanilla.json"):
        found.update(json.loads(path.read_text()))
    return found or None


def merge(lines: list[str]) -> list[str]:
    """The merged lines, defects first, then by reason and test."""
    versions = set()
    groups: dict[tuple[str, str], dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        mode, backend, version, test, rest = line.split(None, 4)
        versions.add(version)
        groups[(test, rest.strip())][mode].add((backend, version))
    known = {v: tests_of(v) for v in versions}
    out = []
    for (test, rest), modes in groups.items():
        having = {v for v in versions if known[v] is None or test in known[v]}
        by_scope: dict[frozenset[tuple[str, str]], list[str]] = defaultdict(list)
        for mode, pairs in modes.items():
            by_scope[frozenset(pairs)].append(mode)
        for pairs, mode_list in by_scope.items():
            mode = "*" if {"silent", "listening"} <= set(mode_list) else mode_list[0]
            backends = {b for b, _ in pairs}
            found = {v for _, v in pairs}
            if pairs == {(b, v) for b in backends for v in found}:
                b = "*" if backends == BACKENDS else None
                v = "*" if found == having and len(versions) > 1 else None
                combos = [(bb, vv) for bb in ([b] if b else sorted(backends)) for vv in ([v] if v else sorted(found))]
            else:
                combos = sorted(pairs)
            out.extend(f"{mode} {bb} {vv} {test} {rest}" for bb, vv in combos)
    order = {"defect": 0, "extension": 1, "budget": 2, "harness": 3}
    return sorted(out, key=lambda x: (order.get(x.split(None, 4)[4].split(":")[0], 9), x.split(None, 4)[4], x))


if __name__ == "__main__":
    text: list[str] = []
    for name in sys.argv[1:]:
        with open(name) as fh:
            text.extend(fh.read().splitlines())
    print("\n".join(merge(text)))
