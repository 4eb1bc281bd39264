"""The CSV options of a job (Salesforce Bulk API 2.0's ``columnDelimiter`` and ``lineEnding``).

A job's ``column_delimiter`` and ``line_ending`` are chosen when it is created; its CSV uploads are parsed
with the delimiter and every CSV download of its results is written with both.
"""

from __future__ import annotations

from django.db import models

__all__ = ["DELIMITERS", "LINE_TERMINATORS", "ColumnDelimiter", "LineEnding"]


class ColumnDelimiter(models.TextChoices):
    """The character between two cells, by its Salesforce name."""

    COMMA = "COMMA"
    SEMICOLON = "SEMICOLON"
    TAB = "TAB"
    PIPE = "PIPE"
    CARET = "CARET"
    BACKQUOTE = "BACKQUOTE"


class LineEnding(models.TextChoices):
    """What ends a line of a CSV download (uploads may use either)."""

    LF = "LF"
    CRLF = "CRLF"


DELIMITERS: dict[str, str] = {
    ColumnDelimiter.COMMA: ",",
    ColumnDelimiter.SEMICOLON: ";",
    ColumnDelimiter.TAB: "\t",
    ColumnDelimiter.PIPE: "|",
    ColumnDelimiter.CARET: "^",
    ColumnDelimiter.BACKQUOTE: "`",
}
"""The character of each ``ColumnDelimiter``."""

LINE_TERMINATORS: dict[str, str] = {LineEnding.LF: "\n", LineEnding.CRLF: "\r\n"}
"""The line terminator of each ``LineEnding``."""
