"""Reliability G3: an ingest killed with SIGKILL at random points loses and doubles nothing.

A real `hub ingest` process is started on a real source and killed at a random moment, several
times; then one run completes the source. Afterwards the raw zone must hold every source record
exactly once, every killed run's counters must equal the rows it committed (no half batch), and
the statements must equal those of a clean, uninterrupted ingest into a second store.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.demo import DemoManifest
from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import MakeDistrict

SOURCE = "gongan_population"
TRIALS = 6

pytestmark = [pytest.mark.slow, pytest.mark.reliability("G3", long=True)]


def _env(home: Path, manifest: DemoManifest, key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HUB_HOME=str(home), HUB_SOURCES_DIR=str(manifest.out_dir), HUB_SECRET_KEY=key,
               HUB_MAPPINGS_DIR=str(Path(__file__).parents[3] / "mappings"), HUB_BATCH_SIZE="50",
               HUB_CONN_GONGAN=manifest.gongan_url)
    env.pop("HUB_DATABASE_URL", None)
    return env


def _landed(store: Path) -> int:
    """Raw records committed so far, read the way any other reader would (SQLite WAL allows it)."""
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("select count(*) from raw_record").fetchone()[0])
    except sqlite3.Error:
        return 0


def _hub_ingest(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "from hub.cli import app; app()", "ingest", SOURCE], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path: Path, make_district: MakeDistrict,
                                                            record_property: Callable[[str, object], None]) -> None:
    manifest = make_district(tmp_path / "district", 6000, seed=5)
    key = new_key_text()
    env = _env(tmp_path / "home", manifest, key)
    rng = random.Random(3)
    total = manifest.record_counts[SOURCE]
    store = tmp_path / "home" / "hub.db"
    killed = 0
    for _ in range(TRIALS):
        # Kill once the store holds a random share of the source: mid-run by progress, not by a clock.
        target = _landed(store) + rng.randint(1, max(1, (total - _landed(store)) // TRIALS))
        process = _hub_ingest(env)
        while process.poll() is None and _landed(store) < target:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
    assert killed >= TRIALS - 1, "the ingest finished before it could be killed: make the source larger"
    assert _hub_ingest(env).wait() == 0

    mappings = Path(__file__).parents[3] / "mappings"
    settings = HubSettings(home=tmp_path / "home", secret_key=key, sources_dir=manifest.out_dir, mappings_dir=mappings)
    hub = Hub.open(settings)
    raw, run, st = tables.raw_record, tables.run, tables.statement
    with hub.engine.connect() as conn:
        per_record = conn.execute(select(raw.c.source_record_id, func.count()).group_by(raw.c.source_record_id)).all()
        runs = conn.execute(select(run.c.id, run.c.status, run.c.loaded, run.c.quarantined)).all()
        landed = dict(conn.execute(select(raw.c.run_id, func.count()).group_by(raw.c.run_id)).all())
        statements = conn.execute(select(func.count()).select_from(st)).scalar_one()
    record_property("trials", TRIALS)
    record_property("records lost", manifest.record_counts[SOURCE] - len(per_record))
    record_property("records duplicated", sum(n - 1 for _, n in per_record))
    record_property("half batches", sum(landed.get(run_id, 0) != loaded + quarantined
                                        for run_id, _status, loaded, quarantined in runs))
    assert len(per_record) == manifest.record_counts[SOURCE]          # 0 lost
    assert max(n for _, n in per_record) == 1                         # 0 duplicated
    for run_id, _status, loaded, quarantined in runs:                 # 0 half batches
        assert landed.get(run_id, 0) == loaded + quarantined, run_id
    assert sum(1 for r in runs if r.status == "interrupted") == killed   # each taken over by the next run
    assert sum(1 for r in runs if r.status == "running") == 0

    connections = tmp_path / "connections.yaml"
    connections.write_text(f"gongan: {manifest.gongan_url}\n", encoding="utf-8")
    clean = Hub.open(HubSettings(home=tmp_path / "clean", secret_key=key, sources_dir=manifest.out_dir,
                                 mappings_dir=mappings, connections_file=connections))
    [result] = ingest(clean, [SOURCE])
    assert result.status == "succeeded"
    with clean.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(st)).scalar_one() == statements
    print(f"G3: {TRIALS} trials, {killed} killed mid-run, 0 lost, 0 duplicated, 0 half batches")
