"""Run bookkeeping for every stage: the `run` row a stage starts, keeps alive and finishes, and the
judgement whether a run still marked running really is.

A run killed with SIGKILL, by the OOM killer or by a power cut never writes its end, so its row says
"running" for ever unless somebody looks at the process behind it. Each run therefore records who
runs it (host, pid, the boot and pid namespace the pid belongs to, and when that process started,
since a pid is reused) and refreshes a heartbeat as it makes progress (an ingest with every committed
batch, in the batch's own transaction). A run still marked running counts as interrupted when:

- it was started on this host, in this boot and pid namespace, and its process is gone (or a zombie,
  or the pid now belongs to a process started at another time);
- it was started on another host, in another container of this host (same host name, another pid
  namespace), or before the store recorded these (no pid or namespace), and its last heartbeat (else
  its start) is older than `stale_after` (setting HUB_RUN_STALE_AFTER): those processes cannot be
  looked at from here.

The next run of the same stage and source marks such runs interrupted and records that it took them
over (`took_over` on its own row, `taken_over_by` on theirs); `hub status` shows them as interrupted
before that. A run judged dead wrongly (a heartbeat older than `stale_after` from a run still alive)
is stopped at its next heartbeat: heartbeats and ends update only a row still `running`, and a
heartbeat that finds its run taken over raises, rolling back the transaction it was written in.
Ingest, resolution, fusion, publication and export all keep their rows through these functions only
(`finish_counted`: the end of a stage that counts records read and rows changed).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Connection, Engine, select, update

from hub.errors import HubError
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
    namespace: str | None = None
    """Where `pid` names this process: the kernel's boot id and the pid namespace (see pid_namespace)."""

    @classmethod
    def current(cls) -> ProcessMark:
        """This process (not cached: a forked child is another process)."""
        return cls(socket.gethostname(), os.getpid(), datetime.fromtimestamp(psutil.Process().create_time(), UTC),
                   pid_namespace())


def pid_namespace() -> str | None:
    """`boot id/pid namespace inode` of this process, None where the kernel does not tell (not Linux).

    Two containers can share a host name and not their pids; a reboot also makes every pid another
    process's. Equal values mean a pid recorded under one is looked up in the same process table.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except (OSError, ValueError):
        return None
    return f"{boot}/{namespace}" if boot else None


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

    `row` needs status, host, pid, pid_namespace, process_started_at, heartbeat_at and started_at.
    """
    if row["status"] != RUNNING:
        return str(row["status"])
    here = here or ProcessMark.current()
    if row["host"] == here.host and row["pid"] is not None and row.get("pid_namespace") == here.namespace:
        gone = _process_gone(int(row["pid"]), as_utc(row["process_started_at"]))
        if gone is not None:
            return INTERRUPTED if gone else RUNNING
    seen = last_sign_of_life(row)
    if seen is not None and (at or now()) - seen <= stale_after:
        return RUNNING
    return INTERRUPTED


_JUDGED = tuple(tables.run.c[name] for name in (
    "id", "stage", "source", "status", "host", "pid", "pid_namespace", "process_started_at", "heartbeat_at",
    "started_at"))


def interrupted_runs(engine: Engine, stage: str, source: str, *,
                     stale_after: timedelta = DEFAULT_STALE_AFTER) -> list[dict[str, Any]]:
    """The runs of a stage and source still marked running whose run is dead, oldest first."""
    r = tables.run.c
    here = ProcessMark.current()
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(*_JUDGED).where(
            r.stage == stage, r.source == source, r.status == RUNNING).order_by(r.started_at)).mappings()]
    return [row for row in rows if seen_status(row, stale_after=stale_after, here=here) == INTERRUPTED]


def live_runs(engine: Engine, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> list[dict[str, Any]]:
    """Every run of any stage and source that is running as far as this process can judge, oldest first."""
    r = tables.run.c
    here = ProcessMark.current()
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(
            select(*_JUDGED).where(r.status == RUNNING).order_by(r.started_at)).mappings()]
    return [row for row in rows if seen_status(row, stale_after=stale_after, here=here) == RUNNING]


def describe(row: Mapping[Any, Any]) -> str:
    """A run for an operator: `run ID (STAGE of SOURCE, process PID on HOST, last heartbeat TIME)`."""
    seen = last_sign_of_life(row)
    return (f"run {row['id']} ({row['stage']} of {row['source']}, process {row['pid'] or 'unknown'} on "
            f"{row['host'] or 'an unknown host'}, last heartbeat "
            f"{seen.isoformat(timespec='seconds') if seen else 'never'})")


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
            watermark_before=watermark_before, host=me.host, pid=me.pid, pid_namespace=me.namespace,
            process_started_at=me.started_at,
            heartbeat_at=run.started_at, took_over=",".join(taken) or None))
    for old in stale:
        if old["id"] in taken:
            seen = last_sign_of_life(old)
            log.warning("%s %s: run %s was interrupted (process %s on %s, last heartbeat %s); run %s took over",
                        stage, source, old["id"], old["pid"] or "unknown", old["host"] or "an unknown host",
                        seen.isoformat(timespec="seconds") if seen else "never", run.id)
    return Run(run.id, stage, source, run.started_at, tuple(taken))


class RunTakenOver(HubError):
    """The run's row is no longer `running`: another run judged it dead and took over. It must stop
    writing, or it would write beside its successor."""


def _no_longer_running(conn: Connection, run_id: str) -> str:
    r = tables.run.c
    row = conn.execute(select(r.status, r.taken_over_by).where(r.id == run_id)).first()
    if row is None:
        return f"run {run_id} has no row in the run table"
    if row.taken_over_by:
        return f"run {run_id} was taken over by run {row.taken_over_by} (its row reads {row.status})"
    return f"run {run_id} is no longer running (its row reads {row.status})"


def heartbeat(conn: Connection, run_id: str, **progress: Any) -> None:
    """The run is alive: refresh its heartbeat, with the progress columns (counts, watermark_after) it
    reached, in the caller's transaction (an ingest: the batch's own).

    Raises RunTakenOver when the row is no longer `running`, so that the caller's transaction rolls
    back: what it wrote is not committed beside the run that took over.
    """
    r = tables.run.c
    updated = conn.execute(update(tables.run).where(r.id == run_id, r.status == RUNNING).values(
        heartbeat_at=now(), **progress))
    if not updated.rowcount:
        raise RunTakenOver(f"{_no_longer_running(conn, run_id)}: this run stops, its last step not committed")


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


def finish_run(conn: Connection, run_id: str, status: str, *, error: str | None = None, **outcome: Any) -> bool:
    """The run's end, in the caller's transaction (so a stage can commit it with what it wrote):
    `status` succeeded or failed, `outcome` the final counts and watermark_after.

    Only a row still `running` is ended: a run taken over keeps `interrupted` and the name of the run
    that took over (logged, and False returned).
    """
    at = now()
    r = tables.run.c
    ended = conn.execute(update(tables.run).where(r.id == run_id, r.status == RUNNING).values(
        status=status, finished_at=at, heartbeat_at=at, error=error, **outcome))
    if not ended.rowcount:
        log.warning("%s: its end (%s) is not recorded", _no_longer_running(conn, run_id), status)
        return False
    return True


def failure_text(exc: BaseException) -> str:
    """What a failed run records: the hub's own messages (which never carry values), else the type only."""
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, HubError) else type(exc).__name__


def finish_counted(conn: Connection, run_id: str, *, status: str, records: int = 0, changed: int = 0,
                   watermark: datetime | None = None, error: str | None = None) -> None:
    """A resolution's, fusion's or publication's end in the run table's words: records read, rows it
    changed, the statement watermark it reached."""
    finish_run(conn, run_id, status, error=error, extracted=records, loaded=changed,
               unchanged=records - changed, watermark_after=watermark.isoformat() if watermark else None)


def latest_status(engine: Engine, stage: str, source: str, *, stale_after: timedelta = DEFAULT_STALE_AFTER
                  ) -> str | None:
    """Status of the latest run of a stage and source as it really is (None when it never ran)."""
    r = tables.run.c
    with engine.connect() as conn:
        row = conn.execute(select(*_JUDGED).where(r.stage == stage, r.source == source)
                           .order_by(r.started_at.desc()).limit(1)).mappings().first()
    return None if row is None else seen_status(row, stale_after=stale_after)
