"""``bulk_drf.csv_io``, kept from 0.1: it lives in ``bulk_drf.jobs.csv_io``."""

from __future__ import annotations

from .jobs.csv_io import (
    FORMULA_PREFIXES,
    CSVParser,
    CSVRecords,
    CSVRenderer,
    csv_lines,
    neutralise,
)

__all__ = ["FORMULA_PREFIXES", "CSVParser", "CSVRecords", "CSVRenderer", "csv_lines", "neutralise"]
