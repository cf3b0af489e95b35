"""Writing a versioned table as differences: rows that changed are retired (`until = v`), new ones added
(`since = v`), unchanged rows are not touched, so a re-run on unchanged fusion writes nothing.

A row is compared by a fingerprint of its content columns (never its id or versions), as hub/fuse/write.py
compares fused rows: the read model is a multiset of rows per table, and a changed value is one row retired
and one added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Table

from hub.fuse.write import time_column
from hub.store.bulk import insert_rows
from hub.store.frames import frame_of, rows_of

CHUNK = 900


def visible(table: Table, version: int) -> sa.ColumnElement[bool]:
    """The rows of `table` a reader pinned to `version` sees."""
    return sa.and_(table.c.since <= version, sa.or_(table.c.until.is_(None), table.c.until > version))


def fingerprints(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """One text per row of the content columns, column-wise (as hub/fuse/write.py does): both sides of a
    comparison come through the same driver and column types, so equal rows give equal texts."""
    texts = []
    for column in columns:
        values = time_column(frame[column])
        if values.dtype == object and any(isinstance(v, (bytes, memoryview)) for v in values.dropna().head(1)):
            values = values.map(lambda v: bytes(v).hex() if isinstance(v, (bytes, memoryview)) else v)
        texts.append(values.astype(str).where(values.notna(), "\x00").tolist())
    if not texts:
        return [""] * len(frame)
    return ["\x1f".join(parts) for parts in zip(*texts, strict=True)]   # 4x faster than adding Series


@dataclass
class TableDiff:
    table: Table
    columns: tuple[str, ...]
    retire: list[int]
    add: pd.DataFrame

    @property
    def changes(self) -> int:
        return len(self.retire) + len(self.add)


def diff(conn: Connection, table: Table, rows: pd.DataFrame, columns: Sequence[str], *, full: bool = False
         ) -> TableDiff:
    """What to retire and add so that the current rows of `table` equal `rows` (deduplicated); `full`: all anew."""
    current = frame_of(conn.execute(sa.select(table.c.id, *(table.c[c] for c in columns))
                                    .where(table.c.until.is_(None))), ["id", *columns])
    wanted = rows[list(columns)].reset_index(drop=True)
    new_prints = fingerprints(wanted, columns)
    keep = (~pd.Series(new_prints, dtype=object).duplicated()).tolist()
    wanted, new_prints = wanted[keep].reset_index(drop=True), [p for p, k in zip(new_prints, keep, strict=True) if k]
    if full:
        return TableDiff(table, tuple(columns), [int(i) for i in current["id"]], wanted)
    old_prints = fingerprints(current, columns)
    wanted_set, seen = set(new_prints), set()
    retire = []
    for row_id, fingerprint in zip(current["id"], old_prints, strict=True):
        if fingerprint not in wanted_set or fingerprint in seen:
            retire.append(int(row_id))
        seen.add(fingerprint)
    add = wanted[[p not in seen for p in new_prints]].reset_index(drop=True)
    return TableDiff(table, tuple(columns), retire, add)


def apply(conn: Connection, change: TableDiff, version: int) -> None:
    table = change.table
    for start in range(0, len(change.retire), CHUNK):
        conn.execute(table.update().where(table.c.id.in_(change.retire[start:start + CHUNK])).values(until=version))
    if len(change.add):
        rows = change.add.assign(since=version)
        insert_rows(conn, table, ("since", *change.columns), rows_of(rows, ("since", *change.columns), conn))


def prune(conn: Connection, table: Table, before: int) -> int:
    """Delete rows no reader can see any more: retired at or before version `before`."""
    result = conn.execute(table.delete().where(table.c.until.is_not(None), table.c.until <= before))
    return int(result.rowcount or 0)
