"""Read docs/tutorial.md as a list of steps: the files it tells the reader to write and the commands to run.

The Markdown conventions this reads (docs/tutorial.md follows them; the docs site shows the titles):

- ```` ```python title="inventory/models.py" ````: write this file, in full, relative to the current folder;
  ``title="mysite/settings.py (add at the end)"``: append the block to that existing file.
- ```` ```console ````: commands after ``$ `` (a line ending in ``\\`` continues on the next), each followed by
  the output the page shows; ``title="second terminal"`` (any title naming a terminal): commands that keep
  running, started in the background.
- ``<!-- output checked -->`` on the line before a console block: the shown output must appear, line by line
  and in order, in what the command prints.
- Any other block (```` ```text ````, ```` ```sh ````) is illustration and is not run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Command", "FileStep", "Step", "parse"]

APPEND = " (add at the end)"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<rest>.*)$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')


@dataclass(frozen=True)
class FileStep:
    """Write (or append to) ``path``, relative to the folder the reader is in at this point."""

    path: str
    text: str
    append: bool
    line: int


@dataclass(frozen=True)
class Command:
    """One shell command as the page shows it, with the output shown under it (checked when ``checked``)."""

    text: str
    shown_output: list[str] = field(default_factory=list)
    background: bool = False
    checked: bool = False
    line: int = 0

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)


Step = FileStep | Command


def parse(path: Path) -> list[Step]:
    """The steps of the page at ``path``, in order."""
    lines = path.read_text().splitlines()
    steps: list[Step] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start = index
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        body = lines[start + 1 : end]
        title_match = TITLE.search(fence["rest"])
        title = title_match["title"] if title_match else ""
        previous = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        if fence["lang"] == "python" and title:
            append = title.endswith(APPEND)
            steps.append(
                FileStep(path=title.removesuffix(APPEND), text="\n".join(body) + "\n", append=append, line=start + 1)
            )
        elif fence["lang"] == "console":
            steps.extend(
                _commands(
                    body, background="terminal" in title, checked=previous == "<!-- output checked -->", line=start + 1
                )
            )
        index = end + 1
    return steps


def _commands(body: list[str], *, background: bool, checked: bool, line: int) -> list[Command]:
    first_line, line = line, line
    commands: list[Command] = []
    text: str | None = None
    output: list[str] = []
    continued = False
    for offset, raw in enumerate(body, start=1):
        if continued:
            assert text is not None
            text = text[:-1].rstrip() + " " + raw.strip()
            continued = raw.endswith("\\")
        elif raw.startswith("$ "):
            if text is not None:
                commands.append(Command(text, output, background, checked, line))
            text, output, line = raw[2:], [], first_line + offset
            continued = raw.endswith("\\")
        else:
            assert text is not None, f"line {line + offset}: output before any command"
            output.append(raw)
    if text is not None:
        commands.append(Command(text, output, background, checked, line))
    return commands
