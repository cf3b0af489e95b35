"""Run bookkeeping for every stage: the `run` row a stage starts, keeps alive and finishes, and the
judgement whether a run still marked running really is.

A run killed with SIGKILL, by the OOM killer or by a power cut never writes its end, so its row says
"running" for ever unless somebody looks at the process behind it. Each run therefore records who
runs it (host, pid and when that process started, since a pid is reused) and refreshes a heartbeat
as it makes progress (an ingest with every committed batch, in the batch's own transaction). A run
still marked running counts as interrupted when:

- it was started on this host and its process is gone (or a zombie, or the pid now belongs to a
  process started at another time);
- it was started on another host, or before the store recorded processes (no pid), and its last
  heartbeat (else its start) is older than `stale_after` (setting HUB_RUN_STALE_AFTER): another
  host's processes cannot be looked at from here.

The next run of the same stage and source marks such runs interrupted and records that it took them
over (`took_over` on its own row, `taken_over_by` on theirs); `hub status` shows them as interrupted
before that. Ingest, resolution and fusion all keep their rows through these functions only.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import Connection, Engine, select, update

from hub.store import tables

log = logging.getLogger(__name__)

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"
DEFAULT_STALE_AFTER = timedelta(minutes=30)
"""Heartbeat age after which a run of another host counts as interrupted (HubSettings.run_stale_after):
longer than the longest quiet spell of a live run (an ingest's slowest batch, a resolution step)."""
PROCESS_START_TOLERANCE = timedelta(seconds=1)
"""A process's start time as the kernel reports it is stable to the clock tick; a reused pid belongs to
a process started after the old one died, at least a few ticks later."""


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives times back without their zone; the hub writes UTC only."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ProcessMark:
    """What identifies a process across hosts and pid reuse."""

    host: str
    pid: int
    started_at: datetime

    @classmethod
    def current(cls) -> ProcessMark:
        """This process (not cached: a forked child is another process)."""
        return cls(socket.gethostname(), os.getpid(), datetime.fromtimestamp(psutil.Process().create_time(), UTC))


@dataclass(frozen=True)
class Run:
    id: str
    stage: str
    source: str
    started_at: datetime
    took_over: tuple[str, ...] = ()
    """The interrupted runs of the same stage and source that this run found and marked."""


def _process_gone(pid: int, started_at: datetime | None) -> bool | None:
    """True when the process is gone, False when it is alive, None when this host cannot tell."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        created = datetime.fromtimestamp(process.create_time(), UTC)
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return None
    if started_at is None:
        return None
    return abs(created - started_at) > PROCESS_START_TOLERANCE


def last_sign_of_life(row: Mapping[Any, Any]) -> datetime | None:
    """The run's last heartbeat, else its start (rows written before the store kept heartbeats)."""
    return as_utc(row["heartbeat_at"]) or as_utc(row["started_at"])


def seen_status(row: Mapping[Any, Any], *, stale_after: timedelta = DEFAULT_STALE_AFTER,
                here: ProcessMark | None = None, at: datetime | None = None) -> str:
    """A run row's status as it really is: a `running` row whose run is dead reads `interrupted`.

    `row` needs status, host, pid, process_started_at, heartbeat_at and started_at.
    """
    if row["status"] != RUNNING:
        return str(row["status"])
    here = here or ProcessMark.current()
    if row["host"] == here.host and row["pid"] is not None:
        gone = _process_gone(int(row["pid"]), as_utc(row["process_started_at"]))
        if gone is not None:
            return INTERRUPTED if gone else RUNNING
    seen = last_sign_of_life(row)
    if seen is not None and (at or now()) - seen <= stale_after:
        return RUNNING
    return INTERRUPTED


_JUDGED = (tables.run.c.id, tables.run.c.status, tables.run.c.host, tables.run.c.pid,
           tables.run.c.process_started_at, tables.run.c.heartbeat_at, tables.run.c.started_at)


def interrupted_runs(engine: Engine, stage: str, source: str, *,
                     stale_after: timedelta = DEFAULT_STALE_AFTER) -> list[dict[str, Any]]:
    """The runs of a stage and source still marked running whose run is dead, oldest first."""
    r = tables.run.c
    here = ProcessMark.current()
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(*_JUDGED).where(
            r.stage == stage, r.source == source, r.status == RUNNING).order_by(r.started_at)).mappings()]
    return [row for row in rows if seen_status(row, stale_after=stale_after, here=here) == INTERRUPTED]


def start_run(engine: Engine, stage: str, source: str, *, watermark_before: str | None = None,
              stale_after: timedelta = DEFAULT_STALE_AFTER) -> Run:
    """A new `running` row for this process, after marking dead runs of the same stage and source
    interrupted: the new row names them in `took_over`, each of them names it in `taken_over_by`.

    The judgement reads first and the transaction then begins with a write, so on SQLite it waits for
    the lock instead of failing on a snapshot another writer moved on; an old run that another start
    took over meanwhile is left to that one (the update is guarded by its status).
    """
    stale = interrupted_runs(engine, stage, source, stale_after=stale_after)
    me = ProcessMark.current()
    run = Run(uuid.uuid4().hex, stage, source, now())
    r = tables.run.c
    taken: list[str] = []
    with engine.begin() as conn:
        for old in stale:
            marked = conn.execute(update(tables.run).where(r.id == old["id"], r.status == RUNNING).values(
                status=INTERRUPTED, taken_over_by=run.id))
            if marked.rowcount:
                taken.append(old["id"])
        conn.execute(tables.run.insert().values(
            id=run.id, stage=stage, source=source, started_at=run.started_at, status=RUNNING,
            watermark_before=watermark_before, host=me.host, pid=me.pid, process_started_at=me.started_at,
            heartbeat_at=run.started_at, took_over=",".join(taken) or None))
    for old in stale:
        if old["id"] in taken:
            seen = last_sign_of_life(old)
            log.warning("%s %s: run %s was interrupted (process %s on %s, last heartbeat %s); run %s took over",
                        stage, source, old["id"], old["pid"] or "unknown", old["host"] or "an unknown host",
                        seen.isoformat(timespec="seconds") if seen else "never", run.id)
    return Run(run.id, stage, source, run.started_at, tuple(taken))


def heartbeat(conn: Connection, run_id: str, **progress: Any) -> None:
    """The run is alive: refresh its heartbeat, with the progress columns (counts, watermark_after) it
    reached, in the caller's transaction (an ingest: the batch's own)."""
    conn.execute(update(tables.run).where(tables.run.c.id == run_id).values(heartbeat_at=now(), **progress))


def with_heartbeat(engine: Engine, run_id: str,
                   progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """A progress callback that refreshes the run's heartbeat at every step it reports (stages whose
    steps write in transactions of their own: resolution, fusion), then passes the step on."""

    def step(message: str) -> None:
        with engine.begin() as conn:
            heartbeat(conn, run_id)
        if progress is not None:
            progress(message)

    return step


def finish_run(conn: Connection, run_id: str, status: str, *, error: str | None = None, **outcome: Any) -> None:
    """The run's end, in the caller's transaction (so a stage can commit it with what it wrote):
    `status` succeeded or failed, `outcome` the final counts and watermark_after."""
    at = now()
    conn.execute(update(tables.run).where(tables.run.c.id == run_id).values(
        status=status, finished_at=at, heartbeat_at=at, error=error, **outcome))


def latest_status(engine: Engine, stage: str, source: str, *, stale_after: timedelta = DEFAULT_STALE_AFTER
                  ) -> str | None:
    """Status of the latest run of a stage and source as it really is (None when it never ran)."""
    r = tables.run.c
    with engine.connect() as conn:
        row = conn.execute(select(*_JUDGED).where(r.stage == stage, r.source == source)
                           .order_by(r.started_at.desc()).limit(1)).mappings().first()
    return None if row is None else seen_status(row, stale_after=stale_after)
