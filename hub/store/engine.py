"""Engines for the hub's store: a SQLite file by default, PostgreSQL in production.

Parameters are hidden from SQLAlchemy's error messages: they would carry personal data into logs.
A SQLite store's files are readable by the hub's user only (hub.private_files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub.private_files import keep_store_private, make_private_dir, sqlite_files


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (status, API) work while an ingest writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Statement inserts touch random pages of several indexes: a 256 MB page cache keeps them in memory
    # instead of the 2 MB default, and a larger WAL checkpoints less often (≈3x faster bulk landing).
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the store URL; creates the SQLite file's missing folders, 0700 like every folder the hub
    makes (the store may live outside HUB_HOME, which is tightened on open); folders that exist are left as
    they are."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_private_dir(Path(parsed.database).parent)
        engine = create_engine(parsed, hide_parameters=True)
        files = sqlite_files(url)
        if files:
            # First of the listeners: the files are private before the first page is written.
            event.listen(engine, "connect", lambda _connection, _record: keep_store_private(files))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def serving_engine(engine: Engine) -> Engine:
    """The engine an API process serves requests from: on PostgreSQL one without the pre-ping of every
    checkout. The ping is a round trip per request, a third of a profile's; without it, a connection the
    server dropped fails the one request that finds it (503, hub.api.problems) and SQLAlchemy, seeing a
    disconnect, replaces every pooled connection before the next. SQLite: the engine as it is."""
    if engine.dialect.name != "postgresql":
        return engine
    _cache_long_queries()
    return create_engine(engine.url, pool_pre_ping=False, hide_parameters=True)


LONG_QUERY = 16_384


def _cache_long_queries() -> None:
    """psycopg converts a query's placeholders on every execution unless the query is at most 4 KB long, when
    it caches the conversion; a profile's one query (hub.views.gather) is longer, and converting it again
    per request cost more of the API process's time than reading its rows. The limit is a module constant
    of psycopg (read at each execution): raised here for the serving process, left alone if it moved."""
    from psycopg import _queries

    if isinstance(getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", None), int):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONG_QUERY)


def driver_message(exc: DBAPIError) -> str:
    """What the database driver said about a failure, first line only: never the SQL or its parameters,
    which SQLAlchemy's own text carries (and parameters may be personal data)."""
    lines = [line.strip() for line in str(exc.orig).splitlines() if line.strip()] if exc.orig is not None else []
    return lines[0] if lines else type(exc).__name__
