"""Finding F12: an ingest killed with SIGKILL is shown as interrupted, and the next one takes it over.

A real `hub ingest` process lands a source into the store (SQLite file, then PostgreSQL) and is
killed once it has committed some batches. `hub status`'s function must then show the source's last
run as interrupted with the dead process's last heartbeat; the next ingest marks that run
interrupted, names it as the run it took over, and completes the source with nothing lost or
landed twice (G3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, func, select

from hub.demo import DemoManifest
from hub.pipeline import Hub, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.status import source_status
from hub.store import tables

SOURCE = "gongan_population"
REPO = Path(__file__).parents[3]


def _landed(engine: Engine) -> int:
    """Raw records committed so far, read as any other reader would."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tables.raw_record)).scalar_one())
    except Exception:   # the child has not created the tables yet
        return 0


def _start_ingest(settings: HubSettings, manifest: DemoManifest, key: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(HUB_HOME=str(settings.home), HUB_DATABASE_URL=settings.database_url, HUB_SECRET_KEY=key,
               HUB_SOURCES_DIR=str(manifest.out_dir), HUB_MAPPINGS_DIR=str(settings.mappings_dir),
               HUB_BATCH_SIZE="10", HUB_CONN_GONGAN=manifest.gongan_url,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-c", "from hub.cli import app; app()", "ingest", SOURCE], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.reliability("F12")
def test_a_killed_ingest_is_shown_interrupted_and_taken_over(
        tmp_path: Path, store_url: str, district: DemoManifest, record_property: pytest.RecordProperty) -> None:
    key = new_key_text()
    connections = tmp_path / "connections.yaml"
    connections.write_text(f"gongan: {district.gongan_url}\n", encoding="utf-8")
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=key,
                           sources_dir=district.out_dir, mappings_dir=REPO / "mappings",
                           connections_file=connections)
    hub = Hub.open(settings)
    total = district.record_counts[SOURCE]

    process = _start_ingest(settings, district, key)
    while process.poll() is None and _landed(hub.engine) < total // 4:
        time.sleep(0.005)
    assert process.poll() is None, "the ingest finished before it could be killed: make the source larger"
    builders = psutil.Process(process.pid).children(recursive=True)   # its batch builders (hub.ingest.parallel)
    process.send_signal(signal.SIGKILL)
    process.wait()
    _, left = psutil.wait_procs(builders, timeout=15)
    assert not left, "the killed ingest's worker processes outlived it"
    landed_by_killed = _landed(hub.engine)
    assert 0 < landed_by_killed < total

    [shown] = source_status(hub.engine, stale_after=settings.stale_after)
    assert (shown.source, shown.status, shown.pid) == (SOURCE, "interrupted", process.pid)
    assert shown.heartbeat_at is not None and shown.finished_at is None
    killed_run = shown.last_run_id

    [result] = ingest(hub, [SOURCE])
    assert result.status == "succeeded" and result.reconciled

    run, raw = tables.run.c, tables.raw_record.c
    with hub.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(tables.run))}
        per_record = conn.execute(select(raw.source_record_id, func.count()).group_by(raw.source_record_id)).all()
        landed = dict(conn.execute(select(raw.run_id, func.count()).group_by(raw.run_id)).all())
        left_running = conn.execute(select(func.count()).where(run.status == "running")).scalar_one()
    assert (rows[killed_run].status, rows[killed_run].taken_over_by) == ("interrupted", result.run_id)
    assert rows[result.run_id].took_over == killed_run
    assert landed[killed_run] == rows[killed_run].loaded + rows[killed_run].quarantined   # no half batch
    lost = total - len(per_record)
    duplicated = sum(n - 1 for _, n in per_record)
    assert (left_running, lost, duplicated) == (0, 0, 0)
    [after] = source_status(hub.engine, stale_after=settings.stale_after)
    assert (after.status, after.last_run_id, after.took_over) == ("succeeded", result.run_id, [killed_run])

    record_property("runs left running after the take-over", left_running)
    record_property("records lost", lost)
    record_property("records duplicated", duplicated)
    record_property("records landed by the killed run", landed_by_killed)
