"""Run bookkeeping on both stores: a run whose process is gone reads interrupted, the next run takes it over.

Rows are written as other processes and hosts would have left them; the judgement is then made by
hub.store.runs (process table on this host, heartbeat age for other hosts and for old rows).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from hub.status import source_status
from hub.store import make_engine, runs, tables
from hub.store.migrate import alembic_config, upgrade

SOURCE = "gongan_population"
STALE_AFTER = timedelta(minutes=30)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = make_engine(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _run_row(run_id: str, *, host: str | None, pid: int | None, heartbeat: datetime | None,
             process_started: datetime | None = None, started: datetime | None = None,
             stage: str = "ingest", source: str = SOURCE) -> dict[str, Any]:
    at = datetime.now(UTC)
    return {"id": run_id, "stage": stage, "source": source, "started_at": started or at - timedelta(hours=2),
            "status": "running", "host": host, "pid": pid, "process_started_at": process_started,
            "heartbeat_at": heartbeat, "loaded": 50, "batches": 1}


def _insert(engine: Engine, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(tables.run.insert(), list(rows))


def _status_of(engine: Engine, run_id: str) -> str:
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.run).where(tables.run.c.id == run_id)).mappings().one()
    return runs.seen_status(row, stale_after=STALE_AFTER)


def test_a_run_is_judged_by_its_process_on_this_host(engine: Engine) -> None:
    me = runs.ProcessMark.current()
    fresh = datetime.now(UTC)
    _insert(engine,
            _run_row("alive", host=me.host, pid=me.pid, process_started=me.started_at, heartbeat=fresh),
            # a dead process is interrupted even with a heartbeat of a second ago
            _run_row("killed", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=fresh),
            # the pid is ours now, but the run's process started a day earlier: pid reused
            _run_row("reused", host=me.host, pid=me.pid, process_started=me.started_at - timedelta(days=1),
                     heartbeat=fresh))
    assert _status_of(engine, "alive") == "running"
    assert _status_of(engine, "killed") == "interrupted"
    assert _status_of(engine, "reused") == "interrupted"


def test_a_run_of_another_host_is_judged_by_its_heartbeat(engine: Engine) -> None:
    now = datetime.now(UTC)
    _insert(engine,
            _run_row("fresh", host="other-host", pid=4242, heartbeat=now - timedelta(minutes=1)),
            _run_row("stale", host="other-host", pid=4242, heartbeat=now - STALE_AFTER - timedelta(minutes=1)),
            # written before the store kept processes: judged by the age of its start
            _run_row("old", host=None, pid=None, heartbeat=None, started=now - timedelta(days=2)),
            _run_row("young", host=None, pid=None, heartbeat=None, started=now - timedelta(minutes=5)))
    assert [_status_of(engine, i) for i in ("fresh", "stale", "old", "young")] == [
        "running", "interrupted", "interrupted", "running"]


@pytest.mark.parametrize(("heartbeat_age", "shown"), [(timedelta(minutes=2), "running"),
                                                      (timedelta(hours=1), "interrupted")])
def test_status_shows_a_run_of_another_host_by_its_heartbeat(engine: Engine, heartbeat_age: timedelta,
                                                             shown: str) -> None:
    beat = datetime.now(UTC) - heartbeat_age
    _insert(engine, _run_row("elsewhere", host="other-host", pid=4242, heartbeat=beat))
    [status] = source_status(engine, stale_after=STALE_AFTER)
    assert (status.source, status.status, status.host, status.pid) == (SOURCE, shown, "other-host", 4242)
    assert status.heartbeat_at is not None and abs(status.heartbeat_at - beat) < timedelta(seconds=1)


def test_the_next_run_takes_over_dead_runs_only(engine: Engine) -> None:
    me = runs.ProcessMark.current()
    now = datetime.now(UTC)
    _insert(engine,
            _run_row("killed", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=now),
            _run_row("stale", host="other-host", pid=1, heartbeat=now - timedelta(hours=1),
                     started=now - timedelta(hours=3)),
            _run_row("fresh", host="other-host", pid=1, heartbeat=now),
            _run_row("other_source", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=now,
                     source="minzheng_assistance"))
    run = runs.start_run(engine, "ingest", SOURCE, stale_after=STALE_AFTER)
    assert run.took_over == ("stale", "killed")                       # oldest first
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(tables.run))}
    assert rows[run.id].took_over == "stale,killed" and rows[run.id].status == "running"
    assert (rows[run.id].host, rows[run.id].pid) == (me.host, me.pid)
    for old in ("killed", "stale"):
        assert (rows[old].status, rows[old].taken_over_by) == ("interrupted", run.id)
        assert (rows[old].loaded, rows[old].batches) == (50, 1)        # what it committed stays recorded
    assert (rows["fresh"].status, rows["fresh"].taken_over_by) == ("running", None)   # alive elsewhere
    assert rows["other_source"].status == "running"                  # another source's run is its own business
    assert runs.start_run(engine, "ingest", SOURCE).took_over == ()  # nothing left to take over


def test_heartbeat_and_finish_keep_the_run_alive_then_end_it(engine: Engine) -> None:
    run = runs.start_run(engine, "resolve", "person")
    with engine.begin() as conn:
        runs.heartbeat(conn, run.id, extracted=10)
    assert runs.latest_status(engine, "resolve", "person") == "running"
    with engine.begin() as conn:
        runs.finish_run(conn, run.id, runs.SUCCEEDED, extracted=12, loaded=3)
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.run).where(tables.run.c.id == run.id)).one()
    assert (row.status, row.extracted, row.loaded, row.error) == ("succeeded", 12, 3, None)
    assert row.finished_at is not None and row.heartbeat_at is not None


def test_the_migration_adds_the_liveness_columns_and_judges_old_rows_by_age(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0005")
    old = sa.table("run", *(sa.column(c) for c in ("id", "stage", "source", "started_at", "status", "extracted",
                                                      "loaded", "unchanged", "quarantined", "quarantined_values",
                                                      "statements", "batches")))
    counts = dict.fromkeys(("extracted", "loaded", "unchanged", "quarantined", "quarantined_values", "statements",
                            "batches"), 0)
    with engine.begin() as conn:
        conn.execute(old.insert(), [
            {"id": "killed_last_week", "stage": "ingest", "source": SOURCE, "status": "running",
             "started_at": datetime.now(UTC) - timedelta(days=7), **counts},
            {"id": "done", "stage": "ingest", "source": "minzheng_assistance", "status": "succeeded",
             "started_at": datetime.now(UTC) - timedelta(days=7), **counts}])
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
    assert {s.source: s.status for s in source_status(engine)} == {
        SOURCE: "interrupted", "minzheng_assistance": "succeeded"}
    assert runs.start_run(engine, "ingest", SOURCE).took_over == ("killed_last_week",)

    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    with engine.connect() as conn:   # revision 0005 knew no "interrupted": such a run reads failed there
        status = dict(conn.execute(sa.select(old.c.id, old.c.status)).all())
    assert status["killed_last_week"] == "failed" and status["done"] == "succeeded"
    upgrade(engine)
    engine.dispose()
