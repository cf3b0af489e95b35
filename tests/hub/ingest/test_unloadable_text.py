"""Text no store can hold (NUL, control characters, lone surrogates, an over-long record id) costs one
row, never the batch: such a row lands cleanly or is quarantined with its source, record and field,
and the rest of the batch lands, on SQLite and PostgreSQL alike (issue 18, finding 6)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.pipeline import Hub, ingest
from hub.store import tables

MAPPING = """\
source: odd_text
department: civil_affairs
connector:
  kind: file
  settings: {path: FILE}
record_id: 编号
batch_size: 4
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 电话
      household_no: 备注
"""
SQL_MAPPING = """\
source: odd_text
department: civil_affairs
connector:
  kind: sql
  connection: odd_db
  settings: {table: people, key: [编号]}
record_id: 编号
batch_size: 4
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 电话
"""
GOOD = [{"编号": f"{n}", "姓名": "张伟", "电话": "13800138000", "备注": "正常"} for n in range(1, 8)]


@pytest.fixture
def open_hub(one_file_source: Callable[[str, str, bytes], Hub]) -> Callable[[str, str, bytes], Hub]:
    return one_file_source


def _csv(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(rows[0])] + [",".join(row.values()) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _json(rows: list[dict[str, str]]) -> bytes:
    return json.dumps(rows, ensure_ascii=True).encode("ascii")   # "\ud800" stays an escape JSON decodes alone


def _with(n: int, **changes: str) -> list[dict[str, str]]:
    rows = [dict(row) for row in GOOD]
    rows[n].update(changes)
    return rows


def _landed(hub: Hub) -> tuple[int, list[tuple[str | None, str | None, str | None, str]]]:
    with hub.engine.connect() as conn:
        statements = int(conn.execute(select(func.count()).select_from(tables.statement)).scalar_one())
        q = tables.quarantine.c
        quarantined = [(r[0], r[1], r[2], r[3]) for r in conn.execute(
            select(q.source_record_id, q.position, q.field, q.reason))]
    return statements, quarantined


CASES: dict[str, tuple[str, bytes, tuple[str, str] | None]] = {
    # name: (file, content, None when the odd row lands, else (field, words of the reason) of its quarantine)
    "nul in record id (csv)": ("p.csv", _csv(_with(2, 编号="3\x00a")), ("编号", "control character (U+0000)")),
    "bell in record id (csv)": ("p.csv", _csv(_with(2, 编号="3\x07a")), ("编号", "control character (U+0007)")),
    "record id longer than the column": ("p.csv", _csv(_with(2, 编号="9" * 300)), ("编号", "longer than 256")),
    "nul in a value (csv)": ("p.csv", _csv(_with(2, 姓名="张\x00伟")), None),
    "nul in a column name (csv)": ("p.csv", _csv([{**row, "附\x00加": "x"} for row in GOOD]), None),
    "lone surrogate in a name (json)": ("p.json", _json(_with(2, 姓名="张\ud800伟")), ("name", "name is invalid")),
    "lone surrogate in a text value (json)": ("p.json", _json(_with(2, 备注="\udfff")), None),
    "lone surrogate in an unread column (json)": ("p.json", _json([{**row, "附加": "\ud800"} for row in GOOD]), None),
    "lone surrogate in record id (json)": ("p.json", _json(_with(2, 编号="3\ud800")), ("编号", "lone surrogate")),
    "nul in record id (json)": ("p.json", _json(_with(2, 编号="3\x00")), ("编号", "U+0000")),
}


@pytest.mark.reliability("F6")
@pytest.mark.parametrize("case", list(CASES))
def test_one_odd_row_never_poisons_its_batch(open_hub: Callable[[str, str, bytes], Hub], case: str,
                                            record_property: Callable[[str, object], None]) -> None:
    file_name, content, expected = CASES[case]
    hub = open_hub(MAPPING, file_name, content)
    [result] = ingest(hub)
    assert result.status == "succeeded", result.error
    assert result.extracted == 7 and result.reconciled
    statements, quarantined = _landed(hub)
    record_property("records lost", result.extracted - result.loaded - result.quarantined - result.unchanged)
    with hub.engine.begin() as conn:
        conn.execute(tables.source_state.delete())   # read the whole file again: nothing new lands
    [again] = ingest(hub)
    assert (again.extracted, again.unchanged) == (7, 7) and _landed(hub) == (statements, quarantined)
    if expected is None:
        assert result.loaded == 7 and statements == 7 and not quarantined
        return
    field, words = expected
    assert result.loaded == 6 and result.quarantined == 1 and statements == 6   # the rest of the batch landed
    [(record_id, position, _, reason)] = [q for q in quarantined if q[2] == field]
    assert words in reason and position == ("line 4" if file_name.endswith(".csv") else "item 3")
    assert record_id is not None and "\x00" not in record_id and len(record_id) <= 256   # the record, printable


@pytest.mark.reliability("F6")
def test_a_nul_in_a_sql_record_id_is_quarantined(open_hub: Callable[[str, str, bytes], Hub], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "odd.db"
    with sqlite3.connect(database) as source:
        source.execute("create table people (编号 text primary key, 姓名 text, 电话 text)")
        source.executemany("insert into people values (?, ?, ?)",
                           [(row["编号"], row["姓名"], row["电话"]) for row in _with(2, 编号="3\x00")])
    monkeypatch.setenv("HUB_CONN_ODD_DB", f"sqlite:///{database}")
    hub = open_hub(SQL_MAPPING, "unused.txt", b"")
    [result] = ingest(hub)
    assert result.status == "succeeded", result.error
    assert (result.extracted, result.loaded, result.quarantined) == (7, 6, 1) and result.reconciled
    _, quarantined = _landed(hub)
    [(record_id, _position, field, reason)] = quarantined
    assert field == "编号" and "U+0000" in reason and record_id is not None and "\x00" not in record_id
