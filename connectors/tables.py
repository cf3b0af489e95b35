"""Rows of text cells under a header: what a CSV file, a sheet and a JSON list have in common.

Department exports put a title row (often a merged cell: "2024年低保名单") above the real header and
leave header cells empty or repeated; the helpers here find the header, name every column, and turn
each row into a record or a rejected row, so the readers only deal with their format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import RejectedRow

__all__ = [
    "MissingPart",
    "Record",
    "Table",
    "UnreadableFile",
    "find_header",
    "has_invalid_bytes",
    "name_columns",
    "printable",
    "rows_to_items",
]

AUTO_HEADER_SCAN = 30   # rows examined when header_row is "auto"

# Undecodable bytes survive decoding as lone surrogates (errors="surrogateescape"): they never occur
# in properly decoded text, so they mark the rows to reject.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_NUMBER_LIKE = re.compile(r"^[\s+\-]?[\d.,:/\-\s年月日]*$")


class UnreadableFile(Exception):
    """The file as a whole cannot be read in its format (corrupt workbook, broken JSON document)."""


class MissingPart(Exception):
    """The file lacks a part the settings name (a sheet, a records_path)."""


@dataclass(frozen=True, slots=True)
class Record:
    position: str
    values: dict[str, Any]


Item = Record | RejectedRow


@dataclass(slots=True)
class Table:
    """One header and what lies under it: a CSV file, one sheet, one JSON list. `items` is lazy."""

    columns: list[str]
    items: Iterator[Item]
    detail: dict[str, Any] = field(default_factory=dict)


def has_invalid_bytes(text: str) -> bool:
    return _ESCAPED_BYTE.search(text) is not None


def printable(text: str) -> str:
    """Escaped bytes shown as U+FFFD, for header names and for the raw text kept in quarantine."""
    return _ESCAPED_BYTE.sub("\ufffd", text)


def _looks_like_header(cells: Sequence[str], width: int) -> bool:
    filled = [c for c in cells if c.strip()]
    if len(filled) < min(2, width) or len(filled) * 2 < width:
        return False
    textual = [c for c in filled if not _NUMBER_LIKE.match(c)]
    return len(textual) * 2 > len(filled)


def find_header(rows: Sequence[Sequence[str]], header_row: int | str) -> int | None:
    """Index (0-based) of the header among `rows`, or None when there is none (an empty source).

    "auto": the first row where most cells are filled with text, which skips a title row whose
    merged cell fills one column of many, and blank rows above the table.
    """
    if isinstance(header_row, int):
        return header_row - 1 if header_row - 1 < len(rows) else None
    width = max((_filled_width(r) for r in rows), default=0)
    for index, cells in enumerate(rows):
        if _looks_like_header(cells, width):
            return index
    return next((i for i, r in enumerate(rows) if _filled_width(r)), None)


def _filled_width(cells: Sequence[str]) -> int:
    for index in range(len(cells), 0, -1):
        if str(cells[index - 1]).strip():
            return index
    return 0


def name_columns(cells: Sequence[str]) -> list[str]:
    """Header names, stripped; trailing empty cells dropped; an empty cell becomes `column_N`, a repeated
    name `name_2`, so that every value keeps a distinct key."""
    names: list[str] = []
    for index, cell in enumerate(cells[: _filled_width(cells)], start=1):
        name = printable(str(cell)).strip() or f"column_{index}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def rows_to_items(
    rows: Iterable[tuple[str, Sequence[str]]],
    columns: list[str],
    *,
    encoding: str | None = None,
    strict_width: bool = True,
    extra: dict[str, str] | None = None,
) -> Iterator[Item]:
    """Each (position, cells) row as a Record keyed by the header, or a RejectedRow saying why not.

    Blank rows are skipped. Trailing empty cells beyond the header are tolerated (Excel writes them);
    a value beyond the last header column is never dropped silently: the row is rejected. With
    `strict_width` (CSV) a row with fewer fields is rejected too; without it (sheets) it is padded.
    """
    width = len(columns)
    for position, cells in rows:
        if not any(str(c).strip() for c in cells):
            continue
        values = list(cells)
        if len(values) > width and not any(str(c).strip() for c in values[width:]):
            values = values[:width]
        raw = "\t".join(str(c) for c in cells)
        if len(values) > width or (strict_width and len(values) < width):
            reason = f"expected {width} fields, found {len(values)}"
            yield RejectedRow(position=position, reason=reason, raw=printable(raw))
            continue
        if encoding is not None and has_invalid_bytes(raw):
            reason = f"invalid bytes for encoding {encoding}"
            yield RejectedRow(position=position, reason=reason, raw=printable(raw))
            continue
        values += [""] * (width - len(values))
        record = dict(zip(columns, values, strict=False))
        if extra:
            record.update(extra)
        yield Record(position=position, values=record)
