"""Where the SQL departments live: MariaDB when one answers on 127.0.0.1:3306, else SQLite files.

The generator owns its demo databases (hub_demo_gongan, hub_demo_renshe) and the tables it writes:
re-running drops and recreates those tables, never anything else in a database it was given.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymysql
import sqlalchemy as sa

MARIADB_HOST, MARIADB_PORT = "127.0.0.1", 3306
CHUNK = 20_000


def mariadb_reachable(timeout: float = 1.0) -> bool:
    try:
        pymysql.connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", connect_timeout=timeout).close()
    except pymysql.MySQLError:
        return False
    return True


def default_url(database: str, out_dir: Path, sqlite_file: str, use_mariadb: bool) -> str:
    if use_mariadb:
        return f"mysql+pymysql://root@{MARIADB_HOST}:{MARIADB_PORT}/{database}?charset=utf8mb4"
    return f"sqlite:///{(out_dir / sqlite_file).resolve()}"


def open_database(url: str) -> sa.Engine:
    """An engine on `url`, creating the MySQL/MariaDB database first when it does not exist."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() in ("mysql", "mariadb") and parsed.database:
        server = sa.create_engine(parsed.set(database=""), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.execute(
                sa.text(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
            )
        server.dispose()
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(parsed)


def drop_database(url: str) -> None:
    """Remove a MySQL/MariaDB database (tests' throw-away ones) or a SQLite file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).unlink(missing_ok=True)
        return
    server = sa.create_engine(parsed.set(database=""), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(
            sa.text(f"DROP DATABASE IF EXISTS {conn.dialect.identifier_preparer.quote(parsed.database or '')}")
        )
    server.dispose()


def recreate(engine: sa.Engine, metadata: sa.MetaData) -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)


def column_values(series: pd.Series) -> list[object]:
    """Plain DBAPI values of a column: datetimes as text (both drivers parse it), NaN/NaT as None."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series.to_numpy(dtype="datetime64[s]")
        text = np.char.replace(np.datetime_as_string(values, unit="s"), "T", " ").astype(object)
        text[np.isnat(values)] = None
        return list(text)
    out = series.astype(object).tolist()
    return [
        None if (isinstance(x, float) and x != x) else (x.isoformat() if isinstance(x, dt.date) else x) for x in out
    ]


def write_rows(engine: sa.Engine, table: sa.Table, frame: pd.DataFrame) -> None:
    """Bulk insert through the driver's executemany (pymysql turns it into multi-row INSERTs), in
    chunks, in one transaction: several times faster than building dicts for SQLAlchemy."""
    quote = engine.dialect.identifier_preparer.quote
    columns = [c.name for c in table.columns]
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    with engine.begin() as conn:
        for start in range(0, len(frame), CHUNK):
            chunk = frame.iloc[start : start + CHUNK]
            rows = list(zip(*(column_values(chunk[c]) for c in columns), strict=True))
            conn.exec_driver_sql(sql, rows)


def iso_times(times: npt.NDArray[np.datetime64], sep: str = "T") -> npt.NDArray[np.object_]:
    t = times.astype("datetime64[s]")
    out = np.char.replace(np.datetime_as_string(t, unit="s"), "T", sep).astype(object)
    out[np.isnat(t)] = None
    return out


def insert_sqlite(con: sqlite3.Connection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    marks = ", ".join("?" * len(columns))
    rows = list(zip(*(column_values(frame[c]) for c in columns), strict=True))
    con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
