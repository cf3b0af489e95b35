"""Two API workers writing back at the same moment (SQLite and PostgreSQL): each is a process of its own
with its own engine, as uvicorn's workers are (forked once the imports and the GX project are loaded, which
take a spawned process longer than the test). Every submission must land exactly once, as a run of its own
that succeeded and passed the gate, and none may retire another's record (a first push is no full read)."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import queue
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

import schemas
from hub.access.policy import Policy
from hub.pipeline import Hub, quality_home
from hub.protect import new_key_text
from hub.quality.validate import _context
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import fresh_pg_schema
from tests.hub.forms.pushers import push

ROOT = Path(__file__).parents[3]
WORKERS = 2
EACH = 4
POLICY = Policy(actor="app-concurrent", role="consumer", purpose="测试", clearance=schemas.Sensitivity.internal,
                entity_types=frozenset({"person"}), writes=frozenset({"floating_registration"}))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    """An empty store, migrated, with its key: what two workers of one deployment share."""
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else stack.enter_context(
            fresh_pg_schema())
        settings = {"home": str(tmp_path / "home"), "database_url": url, "secret_key": new_key_text(),
                    "mappings_dir": str(ROOT / "mappings"), "forms_dir": str(ROOT / "forms")}
        Hub.open(HubSettings(**settings)).engine.dispose()     # made and migrated once, as `hub` does
        yield settings


def test_two_workers_pushing_at_once_land_every_submission_once(store: dict[str, object]) -> None:
    _context(quality_home(HubSettings(**store)))   # type: ignore[arg-type]   # the children share the GX set-up
    gc.collect()     # no garbage of the parent's connections left for the children to close
    fork = multiprocessing.get_context("fork")     # the children share the imports, not the engines
    start = fork.Event()
    results: multiprocessing.Queue[tuple[int, str, str]] = fork.Queue()
    workers = [fork.Process(target=push, args=(store, POLICY, i, EACH, start, results))
               for i in range(WORKERS)]
    for process in workers:
        process.start()
    start.set()
    got: list[tuple[int, str, str]] = []
    try:
        while len(got) < WORKERS * EACH:
            got.append(results.get(timeout=120))
    except queue.Empty:
        pass
    for process in workers:
        process.join(60)
    assert [p.exitcode for p in workers] == [0] * WORKERS
    errors = [g for g in got if g[1] == "error"]
    assert not errors, errors
    submissions = {sid: run for _w, sid, run in got}
    assert len(submissions) == WORKERS * EACH and len(set(submissions.values())) == WORKERS * EACH

    hub = Hub.open(HubSettings(**store), create=False)   # type: ignore[arg-type]
    try:
        with hub.engine.connect() as conn:
            raw, r, h, st = tables.raw_record.c, tables.run.c, tables.record_hold.c, tables.statement.c
            landed = conn.execute(sa.select(raw.source_record_id, raw.run_id).where(
                raw.source == "grid_collection")).all()
            runs = conn.execute(sa.select(r.id, r.status, r.gate, r.loaded, r.extracted, r.started_at, r.finished_at,
                                          r.watermark_before, r.watermark_after).where(
                r.stage == "ingest", r.source == "grid_collection").order_by(r.started_at)).all()
            held = conn.execute(sa.select(h.source_record_id, h.reason).where(h.source == "grid_collection")).all()
            watermark = conn.execute(sa.select(tables.source_state.c.watermark).where(
                tables.source_state.c.source == "grid_collection")).scalar_one()
            stated = conn.execute(sa.select(sa.func.count(sa.distinct(st.raw_record_id))).where(
                st.source == "grid_collection")).scalar_one()
    finally:
        hub.engine.dispose()
    assert sorted(landed) == sorted(submissions.items())               # each once, in the run that pushed it
    assert sorted((row.id, row.status, row.gate, row.loaded, row.extracted) for row in runs) == sorted(
        (run, "succeeded", "published", 1, 1) for run in submissions.values())
    assert held == []                                                 # no push retired another's record
    assert stated == WORKERS * EACH
    # one run at a time: each starts after the one before ended, from the watermark that one reached
    assert runs[0].watermark_before is None and watermark == runs[-1].watermark_after
    for before, after in itertools.pairwise(runs):
        assert after.started_at >= before.finished_at and after.watermark_before == before.watermark_after
        assert after.watermark_after > before.watermark_after
