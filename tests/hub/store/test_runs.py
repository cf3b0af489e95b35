"""Run bookkeeping on both stores: a run whose process is gone reads interrupted, the next run takes it over.

Rows are written as other processes and hosts would have left them; the judgement is then made by
hub.store.runs (process table on this host, heartbeat age for other hosts and for old rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from hub import fuse as fusion
from hub.ingest import ingest_source
from hub.ingest.landing import BatchCounts
from hub.mapping import load_mapping
from hub.pipeline import Hub, build_connector
from hub.settings import HubSettings
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
             stage: str = "ingest", source: str = SOURCE, namespace: str | None = None) -> dict[str, Any]:
    at = datetime.now(UTC)
    return {"id": run_id, "stage": stage, "source": source, "started_at": started or at - timedelta(hours=2),
            "status": "running", "host": host, "pid": pid, "pid_namespace": namespace,
            "process_started_at": process_started,
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
            _run_row("alive", host=me.host, pid=me.pid, process_started=me.started_at, heartbeat=fresh,
                     namespace=me.namespace),
            # a dead process is interrupted even with a heartbeat of a second ago
            _run_row("killed", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=fresh,
                     namespace=me.namespace),
            # the pid is ours now, but the run's process started a day earlier: pid reused
            _run_row("reused", host=me.host, pid=me.pid, process_started=me.started_at - timedelta(days=1),
                     heartbeat=fresh, namespace=me.namespace))
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
            _run_row("killed", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=now,
                     namespace=me.namespace),
            _run_row("stale", host="other-host", pid=1, heartbeat=now - timedelta(hours=1),
                     started=now - timedelta(hours=3)),
            _run_row("fresh", host="other-host", pid=1, heartbeat=now),
            _run_row("other_source", host=me.host, pid=_dead_pid(), process_started=me.started_at, heartbeat=now,
                     source="minzheng_assistance", namespace=me.namespace))
    run = runs.start_run(engine, "ingest", SOURCE, stale_after=STALE_AFTER)
    assert run.took_over == ("stale", "killed")                       # oldest first
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(tables.run))}
    assert rows[run.id].took_over == "stale,killed" and rows[run.id].status == "running"
    assert (rows[run.id].host, rows[run.id].pid, rows[run.id].pid_namespace) == (me.host, me.pid, me.namespace)
    for old in ("killed", "stale"):
        assert (rows[old].status, rows[old].taken_over_by) == ("interrupted", run.id)
        assert (rows[old].loaded, rows[old].batches) == (50, 1)        # what it committed stays recorded
    assert (rows["fresh"].status, rows["fresh"].taken_over_by) == ("running", None)   # alive elsewhere
    assert rows["other_source"].status == "running"                  # another source's run is its own business
    assert runs.start_run(engine, "ingest", SOURCE).took_over == ()  # nothing left to take over


@pytest.mark.reliability("F12")
@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="the kernel shows no pid namespace (not Linux)")
def test_a_run_of_another_container_of_this_host_is_judged_by_its_heartbeat(
        engine: Engine, record_property: pytest.RecordProperty) -> None:
    """Containers sharing a host name but not a pid namespace: the pid of one means nothing in the other."""
    me = runs.ProcessMark.current()
    boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    assert me.namespace == f"{boot}/{os.stat('/proc/self/ns/pid').st_ino}"
    elsewhere = f"{boot}/{os.stat('/proc/self/ns/pid').st_ino + 1}"   # this machine, another pid namespace
    now = datetime.now(UTC)
    absent_here = _dead_pid()   # the other container's live ingest: its pid names no process here
    _insert(engine,
            _run_row("alive_next_door", host=me.host, pid=absent_here, process_started=now - timedelta(hours=2),
                     heartbeat=now - timedelta(minutes=1), namespace=elsewhere),
            _run_row("dead_next_door", host=me.host, pid=absent_here, process_started=now - timedelta(hours=3),
                     heartbeat=now - STALE_AFTER - timedelta(minutes=1), namespace=elsewhere,
                     started=now - timedelta(hours=3)))
    assert _status_of(engine, "alive_next_door") == "running"
    assert _status_of(engine, "dead_next_door") == "interrupted"
    run = runs.start_run(engine, "ingest", SOURCE, stale_after=STALE_AFTER)
    assert run.took_over == ("dead_next_door",)
    record_property("live runs of another container taken over", int("alive_next_door" in run.took_over))


def _take_over(engine: Engine, run_id: str, stage: str = "ingest", source: str = SOURCE) -> str:
    """Another process judges the live run `run_id` dead (its heartbeat looks stale, from another host:
    as when HUB_RUN_STALE_AFTER is set too short) and takes over; the id of the successor."""
    with engine.begin() as conn:
        conn.execute(sa.update(tables.run).where(tables.run.c.id == run_id).values(
            host="other-host", heartbeat_at=datetime.now(UTC) - timedelta(hours=1)))
    successor = runs.start_run(engine, stage, source, stale_after=STALE_AFTER)
    assert successor.took_over == (run_id,)
    return successor.id


NAMES = ("张伟", "李娜", "王芳", "赵强", "刘洋", "陈静")
SMALL_MAPPING = f"""\
source: {SOURCE}
department: public_security
connector: {{kind: file, settings: {{path: small.csv, encoding: utf-8}}}}
record_id: 编号
batch_size: 2
entities:
  person:
    type: person
    required: [name]
    fields: {{name: 姓名, phone: 电话}}
"""


@pytest.mark.reliability("F12")
def test_a_run_taken_over_stops_at_its_next_heartbeat_and_commits_nothing_more(
        settings: HubSettings, tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    mappings, sources = tmp_path / "mappings", tmp_path / "sources"
    mappings.mkdir()
    sources.mkdir()
    (mappings / "small.yaml").write_text(SMALL_MAPPING, encoding="utf-8")
    rows = "".join(f"{i},{name},1380013800{i}\n" for i, name in enumerate(NAMES))
    (sources / "small.csv").write_text("编号,姓名,电话\n" + rows, encoding="utf-8")
    hub = Hub.open(settings.model_copy(update={"mappings_dir": mappings, "sources_dir": sources}))
    spec = load_mapping(mappings / "small.yaml")
    successor: list[str] = []

    def after_batch(counts: BatchCounts) -> None:   # batch 1 committed; the run is taken over meanwhile
        if not successor:
            with hub.engine.connect() as conn:
                [mine] = conn.execute(sa.select(tables.run.c.id).where(tables.run.c.status == "running")).scalars()
            successor.append(_take_over(hub.engine, mine))

    result = ingest_source(spec, build_connector(spec, hub.settings), engine=hub.engine, vault=hub.vault,
                           on_batch=after_batch)
    with hub.engine.connect() as conn:
        landed = conn.execute(sa.select(sa.func.count()).select_from(tables.raw_record)).scalar_one()
        row = conn.execute(sa.select(tables.run).where(tables.run.c.id == result.run_id)).one()
    assert result.status == "failed" and f"taken over by run {successor[0]}" in (result.error or "")
    assert landed == 2 and result.loaded == 2 and result.batches == 1          # batch 1 only
    assert (row.status, row.taken_over_by, row.batches, row.finished_at) == ("interrupted", successor[0], 1, None)
    record_property("records committed after the take-over", landed - 2)
    record_property("taken-over runs later marked ended", int(row.status != "interrupted"))
    hub.engine.dispose()


def test_a_taken_over_run_cannot_heartbeat_nor_end(engine: Engine) -> None:
    run = runs.start_run(engine, "resolve", "person")
    taken_by = _take_over(engine, run.id, "resolve", "person")
    with pytest.raises(runs.RunTakenOver, match=f"taken over by run {taken_by}"), engine.begin() as conn:
        conn.execute(tables.source_state.insert().values(source="x", updated_at=datetime.now(UTC)))
        runs.heartbeat(conn, run.id, extracted=10)
    with engine.connect() as conn:   # the transaction of the heartbeat rolled back
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.source_state)).scalar_one() == 0
    with pytest.raises(runs.RunTakenOver):
        runs.with_heartbeat(engine, run.id, None)("resolution step")
    with engine.begin() as conn:
        assert not runs.finish_run(conn, run.id, runs.SUCCEEDED, extracted=12)
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.run).where(tables.run.c.id == run.id)).one()
    assert (row.status, row.taken_over_by, row.extracted, row.finished_at) == ("interrupted", taken_by, 0, None)


@pytest.mark.reliability("F12")
def test_fusion_judges_its_last_run_with_the_stale_after_it_is_given(
        settings: HubSettings, monkeypatch: pytest.MonkeyPatch, record_property: pytest.RecordProperty) -> None:
    opened = Hub.open(settings)
    asked: list[timedelta] = []

    def latest_status(engine: Engine, stage: str, source: str, *,
                      stale_after: timedelta = runs.DEFAULT_STALE_AFTER) -> str | None:
        asked.append(stale_after)
        return runs.latest_status(engine, stage, source, stale_after=stale_after)

    monkeypatch.setattr(fusion, "latest_status", latest_status)
    fusion.fuse(opened.engine, opened.vault, [], {}, stale_after=timedelta(seconds=90))
    assert asked == [timedelta(seconds=90)]
    record_property("fusion judgements with another stale_after", sum(a != timedelta(seconds=90) for a in asked))
    opened.engine.dispose()


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
