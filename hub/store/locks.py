"""A lock on one source held across every process that writes to the store (the API's workers, a CLI, a DAG).

Pushed sources land a batch per request (hub.forms.writeback): two API workers pushing at once would each
read the same watermark, start runs that overlap and gate batches side by side. A lock in one process cannot
see the other workers, so the lock lives where they all meet:

- PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`) on a connection of its own, keyed
  by the schema and the name (hubs sharing a database in separate schemas do not wait for each other). It is
  released when that transaction ends, also when the process dies and the server drops its connection.
- SQLite: an exclusive `flock` on a file beside the database (`<database>.<name>.lock`): every writer of a
  SQLite store is on the same host. The kernel releases it when the process dies. A lock row or `BEGIN
  IMMEDIATE` would not do: the ingest writes through connections of its own, which would wait for it.
- An in-memory SQLite store (or another backend): a lock of this process, the only one that can reach it.

Waiting is bounded: after `wait` seconds the caller gets SourceBusy instead of a request hanging behind a
stuck writer.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hub.errors import HubError
from hub.private_files import private_umask

SOURCE_LOCK_WAIT = 30.0
"""Seconds a writer of a source waits for another before giving up with SourceBusy."""
POLL = 0.05
"""Seconds between two tries of a SQLite lock file (flock has no timeout of its own)."""
LOCK_NOT_AVAILABLE = "55P03"
_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()
_ADVISORY = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || :name, 0))")


class SourceBusy(HubError):
    """Another process has held the source's lock for longer than the caller would wait: retry shortly."""


@contextmanager
def source_lock(engine: Engine, name: str, *, wait: float) -> Iterator[None]:
    """Hold the store-wide lock `name` (a source id) for the block; SourceBusy after `wait` seconds."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError(f"lock name {name!r}: letters, digits, _ . - only")
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name, wait):
            yield
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        with file_lock(Path(f"{database}.{name}.lock"), wait=wait, what=f"source {name}"):
            yield
        return
    with _local_lock(name, wait):
        yield


@contextmanager
def _advisory(engine: Engine, name: str, wait: float) -> Iterator[None]:
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": f"{int(wait * 1000)}ms"})
        try:
            conn.execute(_ADVISORY, {"name": name})
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise SourceBusy(f"source {name} is being written by another process for more than {wait:g} s: "
                                 "retry shortly") from None
            raise
        yield


@contextmanager
def file_lock(path: Path, *, wait: float | None = None, what: str = "") -> Iterator[None]:
    """An exclusive `flock` on `path` (made private) for the block, across the processes of this host; None
    `wait`: as long as it takes, else SourceBusy (naming `what`) after `wait` seconds."""
    with private_umask(), path.open("a") as handle:
        if os.fstat(handle.fileno()).st_mode & 0o077:   # made by an older version, or opened up since
            os.fchmod(handle.fileno(), 0o600)
        if wait is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SourceBusy(f"{what or path} is being written by another process for more than "
                                         f"{wait:g} s: retry shortly") from None
                    time.sleep(POLL)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _local_lock(name: str, wait: float) -> Iterator[None]:
    with _LOCAL_GUARD:
        lock = _LOCAL.setdefault(name, threading.Lock())
    if not lock.acquire(timeout=wait):
        raise SourceBusy(f"source {name} is being written by another thread for more than {wait:g} s: retry shortly")
    try:
        yield
    finally:
        lock.release()
