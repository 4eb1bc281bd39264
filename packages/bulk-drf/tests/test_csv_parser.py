"""``bulk_drf.csv_io.CSVParser`` (kept for projects that used it) reads with the streamed parser's rules."""

from __future__ import annotations

import io

import pytest
from bulk_drf.csv_io import CSVParser
from rest_framework.exceptions import ParseError


def _parse(body: bytes) -> list[dict[str, str]]:
    request = io.BytesIO(body)
    return CSVParser().parse(request, "text/csv", {"request": None, "encoding": "utf-8"})  # type: ignore[no-any-return]


def test_it_returns_every_record_and_the_columns() -> None:
    records = _parse(b"\xef\xbb\xbfsku,name\nA,first\nB,\n")
    assert records == [{"sku": "A", "name": "first"}, {"sku": "B"}]
    assert records.columns == ["sku", "name"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty CSV"),
        (b"sku,sku\nA,B\n", "names the column 'sku' twice"),
        (b"sku,name\nA\n", "CSV line 2 has 1 cells"),
    ],
)
def test_its_errors_name_the_line(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _parse(body)
