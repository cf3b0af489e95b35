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

A query marked `batched` (the request's audit row, hub.audit.chain.append_steps) is written by the worker's
group-commit writer (`GroupWriter`): the rows of every request that is waiting meanwhile go to the store in ONE
transaction on a connection of its own, and each request gets its row's id back only once that transaction has
committed. A read's response still waits for its audit row to be durable, and a failed write still fails every
request of the batch; what the batch saves is a commit (a WAL flush) and a round trip per request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
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
BATCH_MAX = 256
"""Rows the group-commit writer puts in one transaction at most."""


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


def _consumed(future: asyncio.Future[list[Any]]) -> None:
    if not future.cancelled():
        future.exception()


class GroupWriter:
    """Writes queued single-row statements (`Query.batched`) of many requests in one transaction (group commit).

    A request queues its statement and waits; the writer, one task per event loop, takes everything queued,
    executes it in one transaction on its own connection (statements pipelined, `executemany`) and, once the
    COMMIT returned, hands each request its rows; an error hands every request of the batch the error. While
    a batch is being written the next one queues up, so under load a commit is shared by many requests and at
    low load a row is written as soon as it comes."""

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._queue: list[tuple[Compiled, Mapping[str, Any], asyncio.Future[list[Any]]]] = []
        self._wake = asyncio.Event()
        self._conn: AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    async def write(self, compiled: Compiled, params: Mapping[str, Any]) -> list[Any]:
        """The statement's rows, once the transaction that wrote them has committed."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consumed)     # a cancelled request's failed write is not reported as unread
        self._queue.append((compiled, params, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="hub-group-writer")
        self._wake.set()
        return await asyncio.shield(future)     # a cancelled request does not cancel its batch's write

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
                try:
                    results = await self._write(batch)
                except Exception as exc:      # every request of the batch fails with it
                    if self._conn is not None and (self._conn.broken or self._conn.closed):
                        self._conn = None
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (*_, future), rows in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(rows)

    async def _write(self, batch: Sequence[tuple[Compiled, Mapping[str, Any], Any]]) -> list[list[Any]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await AsyncConnection.connect(self._conninfo, autocommit=True, row_factory=namedtuple_row)
        results: list[list[Any]] = []
        async with self._conn.transaction(), self._conn.cursor() as cursor:
            start = 0
            while start < len(batch):       # runs of the same statement, each run one pipelined executemany
                end = start
                while end < len(batch) and batch[end][0] is batch[start][0]:
                    end += 1
                compiled = batch[start][0]
                await cursor.executemany(compiled.sql, [{**compiled.defaults, **b[1]} for b in batch[start:end]],
                                         returning=True)
                while True:
                    result = cursor.pgresult
                    results.append(await cursor.fetchall() if result is not None and result.status == _TUPLES_OK
                                   else [])
                    if not cursor.nextset():
                        break
                start = end
        return results

    async def close(self) -> None:
        while self._queue and self._task is not None and not self._task.done():
            await asyncio.sleep(0.01)       # what requests queued is written before the writer stops
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            await self._conn.close()


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
        self._writer: GroupWriter | None = None
        self._compiled: dict[sa.Executable, Compiled] = {}

    def _for_this_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            for conn in self._idle:
                conn.pgconn.finish()
            if self._writer is not None and self._writer._conn is not None:
                self._writer._conn.pgconn.finish()
            self._idle, self._loop, self._slots = [], loop, asyncio.Semaphore(self._size)
            self._writer = GroupWriter(self._conninfo)
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
        if query.batched and isinstance(query.params, Mapping) and self._writer is not None:
            return await self._writer.write(compiled, query.params)
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
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
