"""pytest plugin: the documentation as tests (sybil). Loaded by tests-docs/pytest.ini (``-p docs_plugin``).

Every fenced code block of README.md, docs/*.md and packages/*/README.md is one test, run in the document's
order (docs_runtime.py says how each kind runs), or explicitly not run: ``<!-- skip: next "reason" -->`` before
it (sybil's skip directive; a reason is required). A block without a language fails: say what it is
(```` ```text ```` for output, diagrams and file trees). ``json`` blocks right after a console block are that
block's expected answer; other ``text``/``json``/``toml``/... blocks are not code and are not run.

Why sybil: it collects Markdown into pytest items, runs a document's blocks in one namespace in order (as a
reader pastes them), has a skip directive with a reason, invisible blocks for context a snippet assumes, and
lets each block kind have its own evaluator (our console runner, the JSON answer check). pytest-examples runs
each block alone and only Python; phmdoctest generates files and is no longer maintained.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from typing import Any

import docs_runtime
import pytest
from sybil import Document, Region, Sybil
from sybil.evaluators.skip import Skipper
from sybil.parsers.markdown import CodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

# Documents whose blocks another test runs, as that test's input.
TESTED_ELSEWHERE = {
    "docs/tutorial.md": "tests-integration builds the tutorial's project from its blocks (the tutorial test)",
}


class SkipWithReasonParser(SkipParser):
    """sybil's skip directive, with a reason required: a block is not run for a reason the reader can see."""

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            action, reason = region.parsed
            if action in ("next", "start") and not reason:
                line = document.text.count("\n", 0, region.start) + 1
                raise ValueError(f'{document.path}:{line}: `skip: {action}` needs a reason: skip: {action} "why"')
            yield region


_ANY_FENCE = RawFencedCodeBlockLexer(
    info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE), mapping={"info": "info", "source": "source"}
)


def _unlabelled(example: Any) -> str:
    return "a code block without a language: say what it is (```python, ```console, ```text for output)"


def unlabelled_blocks(document: Document) -> Iterable[Region]:
    """Every fence with no language is a failing test."""
    for region in _ANY_FENCE(document):
        if not region.lexemes["info"].strip():
            region.evaluator = _unlabelled
            yield region


def responses(document: Document) -> Iterable[Region]:
    """A ``json`` block right after a console block: compared with that block's last answer."""
    fences = list(_ANY_FENCE(document))
    for previous, region in itertools.pairwise(fences):
        language = region.lexemes["info"].strip()
        if (
            language == "json"
            and previous.lexemes["info"].strip() in docs_runtime.CONSOLE_LANGUAGES
            and not document.text[previous.end : region.start].strip()
        ):
            region.parsed = region.lexemes["source"]
            region.evaluator = docs_runtime.response_evaluator
            yield region


console = docs_runtime.ConsoleEvaluator()
python = docs_runtime.PythonEvaluator()
EVALUATORS: dict[str, Any] = {"python": python, **dict.fromkeys(docs_runtime.CONSOLE_LANGUAGES, console)}


def annotated_blocks(document: Document) -> Iterable[Region]:
    """A fence with attributes after its language (```python title="app.py"```) runs as its language too:
    sybil's parsers match the whole info string, so such a block would otherwise be left out silently."""
    for region in _ANY_FENCE(document):
        info = region.lexemes["info"].strip()
        language = info.split(maxsplit=1)[0] if info else ""
        if language in EVALUATORS and info != language:
            region.parsed = region.lexemes["source"]
            region.evaluator = EVALUATORS[language]
            yield region


sybil = Sybil(
    parsers=[
        SkipWithReasonParser(),
        CodeBlockParser(language="python", evaluator=python),
        *(CodeBlockParser(language=language, evaluator=console) for language in docs_runtime.CONSOLE_LANGUAGES),
        annotated_blocks,
        responses,
        unlabelled_blocks,
    ],
    path=str(docs_runtime.ROOT),
    patterns=["README.md", "docs/*.md", "packages/*/README.md"],
    excludes=list(TESTED_ELSEWHERE),
    setup=docs_runtime.setup_document,
    teardown=docs_runtime.teardown_document,
)

pytest_collect_file = sybil.pytest()


def pytest_configure(config: Any) -> None:
    docs_runtime.configure_django()


def pytest_unconfigure(config: Any) -> None:
    for folder in console.state_dirs.values():  # the example project's SQLite files
        shutil.rmtree(folder, ignore_errors=True)


def _kind(item: Any) -> str:
    example = getattr(item, "example", None)
    if example is None:
        return "other"
    if isinstance(example.region.evaluator, Skipper):
        return "directive"
    if "directive" in (example.region.lexemes or {}):
        return "invisible"  # <!-- invisible-code-block: python ... -->: runs, but is not a block a reader sees
    return "block"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many blocks ran and how many are marked not runnable, per document."""
    per_document: dict[str, Counter[str]] = {}
    invisible = 0
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            kind = getattr(report, "docs_kind", "other")
            if report.when == "call" and kind == "invisible":
                invisible += 1
            if kind != "block" or report.when not in ("call", "setup") or (report.when, outcome) == ("setup", "passed"):
                continue
            document = report.nodeid.split("::")[0]
            per_document.setdefault(document, Counter())[outcome] += 1
    if not per_document:
        return
    total: Counter[str] = sum(per_document.values(), Counter())
    terminalreporter.write_sep("-", "documentation code blocks")
    for document, counts in sorted(per_document.items()):
        terminalreporter.write_line(f"{document:<40} {_counts(counts)}")
    terminalreporter.write_line(
        f"docs: {total['passed'] + total['failed'] + total['error']} code blocks executed "
        f"({total['failed'] + total['error']} failing), {total['skipped']} marked not runnable, "
        f"in {len(per_document)} documents (and {invisible} invisible blocks: context a snippet assumes, checks)"
    )


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "error", "skipped") if counts[k])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """Tag each report with what its item is (a code block, or a skip directive), for the summary; a skipped
    block is reported at its place in the document with its reason."""
    outcome = yield
    report = outcome.get_result()
    report.docs_kind = _kind(item)
    example = getattr(item, "example", None)
    if report.skipped and example is not None and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        report.longrepr = (str(item.path.relative_to(docs_runtime.ROOT)), example.line, reason)
