"""Bulk writes behind one function per intent, using the fastest path each backend offers.

PostgreSQL: COPY (into a temporary staging table when the write is an upsert).
SQLite: multi-row INSERT statements (up to SQLITE_ROWS rows each) inside the caller's transaction.
Others: one DBAPI executemany of tuples inside the caller's transaction.
Rows are tuples in the order of `columns`; callers build them column-wise and zip once.

Why multi-row on SQLite: the sqlite3 module releases the GIL around every statement step and takes it
back afterwards. With one row per step, the writer thread of a pipelined ingest gives the GIL away
once per row and waits for the preparing thread to hand it back; the write then crawls while a batch
is being prepared (a 600,000-row load: 5.6 s alone, 26 s beside a busy thread). One step per 2,000
rows does the B-tree work without the GIL, so it overlaps the preparing thread (11 s beside it).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection, LargeBinary, Table


def _placeholders(conn: Connection, count: int) -> str:
    style = conn.dialect.paramstyle
    mark = "?" if style == "qmark" else "%s"
    return ", ".join([mark] * count)


SQLITE_ROWS = 2000
"""Rows per SQLite INSERT statement (fewer where the build allows fewer bound variables)."""


def _sqlite_insert(conn: Connection, head: str, width: int, rows: Sequence[tuple[Any, ...]], tail: str = "") -> None:
    """`{head} VALUES (...), (...) … {tail}` over all rows, SQLITE_ROWS rows per statement, in order;
    the last rows (fewer than a statement's worth) one per step.

    Rows are written in the order given, as an executemany of one row each would write them.
    """
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    per = max(1, min(SQLITE_ROWS, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    one = "(" + ", ".join(["?"] * width) + ")"
    full = len(rows) - len(rows) % per
    if full:
        sql = f"{head} VALUES {', '.join([one] * per)}{tail}"
        conn.exec_driver_sql(sql, [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)])
    if full < len(rows):   # one row per step: a statement of another length would be compiled for each batch
        conn.exec_driver_sql(f"{head} VALUES {one}{tail}", list(rows[full:]))


def _csv_ready(table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    """Rows with bytes turned into PostgreSQL's hex bytea literal; only the table's binary columns are touched."""
    binary = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, LargeBinary)]
    if not binary:
        return rows
    transposed = list(zip(*rows, strict=True))
    for index in binary:
        transposed[index] = tuple(None if v is None else "\\x" + v.hex() for v in transposed[index])
    return zip(*transposed, strict=True)


def _copy(conn: Connection, table: Table, target: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY in CSV format: the csv module serializes in C, far faster than a Python loop per row.

    None becomes an unquoted empty field, which CSV-format COPY reads as NULL; the hub never stores an
    empty string (normalizers turn blanks into no value), so the two cannot be confused.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(_csv_ready(table, columns, rows))
    cols = ", ".join(columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows (no conflict expected)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, table.name, columns, rows)
        return
    head = f"INSERT INTO {table.name} ({', '.join(columns)})"
    if conn.dialect.name == "sqlite":
        _sqlite_insert(conn, head, len(columns), rows)
        return
    conn.exec_driver_sql(f"{head} VALUES ({_placeholders(conn, len(columns))})", list(rows))


def upsert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    key: str,
    update: Sequence[str],
) -> None:
    """Insert rows; where `key` exists already, overwrite only the `update` columns.

    Rows must be unique on `key` within one call (PostgreSQL refuses to update a row twice).
    """
    if not rows:
        return
    cols = ", ".join(columns)
    if update:
        sets = ", ".join(f"{c} = excluded.{c}" for c in update)
        conflict = f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    else:
        conflict = f"ON CONFLICT ({key}) DO NOTHING"
    if conn.dialect.name == "postgresql":
        stage = f"stage_{table.name}"
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        conn.exec_driver_sql(f"TRUNCATE {stage}")
        _copy(conn, table, stage, columns, rows)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} {conflict}")
        return
    if conn.dialect.name == "sqlite":
        _sqlite_insert(conn, f"INSERT INTO {table.name} ({cols})", len(columns), rows, f" {conflict}")
        return
    sql = f"INSERT INTO {table.name} ({cols}) VALUES ({_placeholders(conn, len(columns))}) {conflict}"
    conn.exec_driver_sql(sql, list(rows))


def existing_keys(conn: Connection, table: Table, key: str, values: Sequence[str], chunk: int = 900) -> set[str]:
    """Which of `values` already exist in `table.key` (chunked to stay under parameter limits)."""
    found: set[str] = set()
    column = table.c[key]
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        found.update(r[0] for r in conn.execute(table.select().with_only_columns(column).where(column.in_(part))))
    return found


def timestamp_param(conn: Connection, moment: datetime) -> str:
    """A timestamp as the backend takes it in bulk paths, formatted once per batch instead of per row.

    SQLite stores what SQLAlchemy's DateTime reads back; PostgreSQL parses the ISO form with its offset.
    """
    if conn.dialect.name == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment.isoformat(sep=" ")
