"""Excel workbooks (xlsx, xls, xlsb, ods) read with python-calamine, every cell as text.

An ID number or phone typed into Excel as a number is a float by the time we see it. Whole numbers
below 10^15 (Excel keeps 15 significant digits) are written back as integer text, so a phone
13812345678 stays "13812345678". Larger ones are already damaged (an 18-digit ID loses its last
digits); they pass through in float notation, "6.50102198503071e+17", so the normalizer can say so
instead of receiving a plausible but wrong 18-digit number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from connectors.tables import (
    AUTO_HEADER_SCAN,
    Item,
    MissingPart,
    Table,
    UnreadableFile,
    find_header,
    name_columns,
    rows_to_items,
)

__all__ = ["cell_text", "read_workbook"]

EXACT_FLOAT_LIMIT = 1e15


def cell_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < EXACT_FLOAT_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return "" if value is None else str(value)


def _rows(sheet: CalamineSheet) -> Iterator[list[str]]:
    """Rows as text; calamine starts at the sheet's first row, so index + 1 is the Excel row number."""
    for cells in sheet.iter_rows():
        yield [cell_text(c) for c in cells]


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise UnreadableFile(f"cannot be read as a workbook ({type(exc).__name__})") from None


def _chosen_sheets(workbook: CalamineWorkbook, sheet: str | int | None) -> list[str]:
    names: list[str] = list(workbook.sheet_names)
    if sheet == "*":
        return names
    if sheet is None:
        return names[:1]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise MissingPart(f"sheet index {sheet} not found (the workbook has {len(names)} sheets)")
        return [names[sheet]]
    if sheet not in names:
        raise MissingPart(f"sheet {sheet!r} not found (sheets: {', '.join(names)})")
    return [sheet]


def _sheet_table(path: Path, name: str, *, label: str, header_row: int | str, tag_sheet: bool) -> Table:
    workbook = _open(path)
    try:
        scan = max(AUTO_HEADER_SCAN, header_row if isinstance(header_row, int) else 0)
        head = list(islice(_rows(workbook.get_sheet_by_name(name)), scan))
    except CalamineError as exc:
        raise UnreadableFile(f"sheet {name!r} cannot be read ({type(exc).__name__})") from None
    finally:
        workbook.close()
    index = find_header(head, header_row)
    columns = name_columns(head[index]) if index is not None else []
    if tag_sheet and columns:
        columns.append("_sheet")
    detail = {"sheet": name, "header_row": None if index is None else index + 1}

    def items() -> Iterator[Item]:
        if index is None:
            return
        book = _open(path)
        try:
            rows = islice(enumerate(_rows(book.get_sheet_by_name(name)), start=1), index + 1, None)
            positioned = ((f"{label}sheet {name} row {n}", cells) for n, cells in rows)
            data_columns = columns[:-1] if tag_sheet else columns
            extra = {"_sheet": name} if tag_sheet else None
            yield from rows_to_items(positioned, data_columns, strict_width=False, extra=extra)
        except CalamineError as exc:
            raise UnreadableFile(f"sheet {name!r} cannot be read ({type(exc).__name__})") from None
        finally:
            book.close()

    return Table(columns=columns, items=items(), detail=detail)


def read_workbook(path: Path, *, label: str, sheet: str | int | None, header_row: int | str) -> list[Table]:
    """One table per chosen sheet; `sheet="*"` takes them all and adds a `_sheet` column."""
    workbook = _open(path)
    try:
        names = _chosen_sheets(workbook, sheet)
    finally:
        workbook.close()
    return [
        _sheet_table(path, name, label=label, header_row=header_row, tag_sheet=sheet == "*") for name in names
    ]
