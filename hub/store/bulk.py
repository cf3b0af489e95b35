"""Bulk writes behind one function per intent, using the fastest path each backend offers.

PostgreSQL: COPY in binary format (into a temporary staging table when the write is an upsert).
SQLite and others: one DBAPI executemany of tuples inside the caller's transaction.
Rows are tuples in the order of `columns`; callers build them column-wise and zip once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, DateTime, Float, Integer, LargeBinary, String, Table
from sqlalchemy.types import TypeEngine


def _placeholders(conn: Connection, count: int) -> str:
    style = conn.dialect.paramstyle
    mark = "?" if style == "qmark" else "%s"
    return ", ".join([mark] * count)


_BINARY_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Boolean, "bool"), (BigInteger, "int8"), (Integer, "int4"), (Float, "float8"), (DateTime, "timestamptz"),
    (LargeBinary, "bytea"), (String, "text"),   # String covers Text and VARCHAR: the same binary form
)


def _binary_type(column: Column[Any]) -> str:
    for kind, name in _BINARY_TYPES:
        if isinstance(column.type, kind):
            return name
    raise TypeError(f"no COPY BINARY type for {column.table.name}.{column.name} ({column.type})")


def _copy(conn: Connection, table: Table, target: str, columns: Sequence[str],
          rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY in binary format, one `write_row` per row, typed from the table: psycopg's C extension packs
    each value, and the server parses no text. On 300,000 raw-zone rows this took half the wall time and
    a third of the client CPU of text COPY, which hex-encodes every bytea (bench/results/ingest.md).
    Values must be of their column's Python type (str, bytes, datetime, int …): a mismatch fails the batch.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    types = [_binary_type(table.c[name]) for name in columns]
    cols = ", ".join(columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows (no conflict expected)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, table.name, columns, rows)
        return
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({_placeholders(conn, len(columns))})"
    conn.exec_driver_sql(sql, list(rows))


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


def timestamp_param(conn: Connection, moment: datetime) -> datetime | str:
    """A timestamp as the backend takes it in bulk paths, formatted once per batch instead of per row.

    SQLite stores what SQLAlchemy's DateTime reads back; PostgreSQL's binary COPY takes the datetime.
    """
    if conn.dialect.name == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector off for a stage that builds millions of short-lived containers (JSON entries,
    row tuples), on again after it (when it was on).

    Each full collection walks every live container, and a stage reading a district keeps millions alive:
    exploding the statements of a 20,000-resident district took 9 s with the collector on, 4 s without.
    What the stage leaves in cycles is collected after it; pandas and the hub keep none that grow per row.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
