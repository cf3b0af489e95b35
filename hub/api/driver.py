"""The API's requests on PostgreSQL at the driver: asynchronous psycopg connections running the views' steps.

A route that waited for the store in a thread (FastAPI runs a synchronous route in its thread pool) paid for
the hop to the pool and back, and SQLAlchemy's execution layer (parameter processing, result rows) on every
statement; together they were about a third of a profile's CPU in the worker (bench/results/
api-profile-speed.md). Here a request holds an asynchronous connection of this worker's own small pool,
in autocommit as before (hub/api/gateway.py says why), and runs the same steps (hub.store.steps) the
synchronous path runs: the statements are SQLAlchemy's, compiled for PostgreSQL once per statement object
and executed by psycopg, which prepares them on the server after a few uses.

An expanding IN list (`col IN (…)`, a bound list) becomes `col = ANY(%(name)s)` with the list bound as one
array: the SQL text then does not depend on the list's length and stays one prepared statement.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

from hub.store.steps import Query, Steps

T = TypeVar("T")
_DIALECT = postgresql.psycopg.dialect()
_TUPLES_OK = psycopg.pq.ExecStatus.TUPLES_OK
_EXPANDING = re.compile(r"(?<![A-Za-z_])IN \(__\[POSTCOMPILE_(\w+)\]\)")
POOL_SIZE = 16
"""Connections one worker holds at most: requests beyond it wait for one (a request holds it for its three
round trips, about a millisecond)."""


@dataclass(frozen=True)
class Compiled:
    sql: str
    defaults: Mapping[str, Any]
    """The statement's own bound values (literals SQLAlchemy bound, as `sa.literal("subject")`, and NULL for
    the parameters a request binds), which a request's values replace."""


def compile_pg(statement: sa.Executable) -> Compiled:
    """A statement as psycopg runs it: PostgreSQL SQL with %(name)s placeholders, expanding IN lists as ANY."""
    compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
    sql = _EXPANDING.sub(r"= ANY(%(\1)s)", str(compiled))
    if "POSTCOMPILE" in sql:
        raise ValueError("a statement with an expanding parameter the driver cannot bind as an array")
    return Compiled(sql, dict(compiled.params))


def conninfo(url: URL) -> str:
    """The libpq connection string of a SQLAlchemy URL (postgresql+psycopg://user:pw@host:port/db?…)."""
    given = {"host": url.host, "port": url.port, "user": url.username, "password": url.password,
             "dbname": url.database}
    return psycopg.conninfo.make_conninfo("", **{k: v for k, v in given.items() if v is not None},
                                          **{k: str(v) for k, v in url.query.items()})


class AsyncStore:
    """A worker's asynchronous connections to the store, at most POOL_SIZE, reused most recent first.

    The pool belongs to the event loop that made it: a new loop (a test client started again) gets a new
    pool, the old loop's connections are closed. A connection that broke, or that a cancelled request left
    in the middle of a statement, is closed instead of being reused."""

    def __init__(self, url: URL, size: int = POOL_SIZE):
        self._conninfo = conninfo(url)
        self._size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[AsyncConnection[Any]] = []
        self._slots: asyncio.Semaphore | None = None
        self._compiled: dict[sa.Executable, Compiled] = {}

    def _for_this_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            for conn in self._idle:
                conn.pgconn.finish()
            self._idle, self._loop, self._slots = [], loop, asyncio.Semaphore(self._size)
        return self._slots

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        slots = self._for_this_loop()
        async with slots:
            conn = self._idle.pop() if self._idle else await AsyncConnection.connect(
                self._conninfo, autocommit=True, row_factory=namedtuple_row)
            try:
                yield conn
            finally:
                if conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.close()
                else:
                    self._idle.append(conn)

    def compiled(self, query: Query) -> Compiled:
        if not query.reused:
            return compile_pg(query.statement)
        found = self._compiled.get(query.statement)
        if found is None:
            found = self._compiled[query.statement] = compile_pg(query.statement)
        return found

    async def execute(self, conn: AsyncConnection[Any], query: Query) -> list[Any]:
        compiled = self.compiled(query)
        if isinstance(query.params, Mapping):
            cursor = await conn.execute(compiled.sql, {**compiled.defaults, **query.params})
            # the result's status, not `cursor.description`: that builds a Column object per column each time
            result = cursor.pgresult
            return await cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
        params: Sequence[Mapping[str, Any]] = query.params
        async with conn.cursor() as cursor:
            await cursor.executemany(compiled.sql, [{**compiled.defaults, **p} for p in params])
        return []

    async def run(self, conn: AsyncConnection[Any], steps: Steps[T]) -> T:
        """Run a view's steps (hub.store.steps) on `conn`, each query in turn."""
        try:
            query = next(steps)
            while True:
                query = steps.send(await self.execute(conn, query))
        except StopIteration as done:
            return done.value

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
