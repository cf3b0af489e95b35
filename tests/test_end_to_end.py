"""All department sources of the simulated district, ingested for real, reconciled with the truth.

SQLite store with SQLite department databases; PostgreSQL store with the 公安 and 人社 databases in
MariaDB; the 物业 API over real HTTP in both. Also the figures of reliability.md that need the whole
district: G1 (counts reconcile), G2 (re-run adds nothing), G11 (no clear ID or phone in a dump of
the store), G12 (none in the logs), G4 (one source down, the others land).
"""

from __future__ import annotations

import csv
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from hub.demo import DemoManifest, generate_district, running_property_api, write_connections_file
from hub.ingest import IngestResult
from hub.pipeline import Hub, ingest
from hub.settings import HubSettings
from hub.store import tables

pytestmark = pytest.mark.slow


def _truth_counts(manifest: DemoManifest) -> dict[str, int]:
    with (manifest.truth_dir / "source_counts.csv").open(encoding="utf-8") as handle:
        return {row["source"]: int(row["records"]) for row in csv.DictReader(handle)}


def _broken_records(manifest: DemoManifest) -> set[tuple[str, str]]:
    with (manifest.truth_dir / "records.csv").open(encoding="utf-8") as handle:
        return {(r["source"], r["source_record_id"]) for r in csv.DictReader(handle) if r["broken"] == "True"}


def _secrets(manifest: DemoManifest) -> set[str]:
    """Every clear resident ID and phone the generator knows of (the needles of G11/G12)."""
    found: set[str] = set()
    with (manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.update(v for v in (row["resident_id"], row["phone"]) if v)
    return found


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[tuple[Hub, DemoManifest]]:
    """The district in the department systems that suit the store under test, ready to ingest."""
    out = tmp_path / "district"
    if "postgres" in request.node.callspec.id:
        mariadb = request.getfixturevalue("mariadb_database")
        manifest = generate_district(out, residents=2000, seed=11, gongan_url=mariadb, renshe_url=mariadb)
    else:
        manifest = generate_district(out, residents=2000, seed=11, gongan_url=f"sqlite:///{out / 'gongan.db'}",
                                     renshe_url=f"sqlite:///{out / 'renshe.db'}")
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        settings = HubSettings(home=tmp_path / "home", database_url=store_url, sources_dir=out,
                               secret_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                               mappings_dir=Path(__file__).parents[1] / "mappings")
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
        hub = Hub.open(settings)
        yield hub, manifest
        hub.engine.dispose()


def _by_source(results: list[IngestResult]) -> dict[str, IngestResult]:
    return {r.source: r for r in results}


@pytest.mark.reliability("G1")
@pytest.mark.reliability("G2")
@pytest.mark.reliability("G12")
def test_every_department_lands_and_reconciles_with_the_truth(world: tuple[Hub, DemoManifest],
                                                              caplog: pytest.LogCaptureFixture,
                                                              record_property: Callable[[str, object], None]) -> None:
    hub, manifest = world
    caplog.set_level(logging.DEBUG)
    results = _by_source(ingest(hub))
    truth = _truth_counts(manifest)
    record_property("G1: records checked", sum(r.extracted for r in results.values()))
    record_property("G1: records unreconciled", sum(abs(r.extracted - r.loaded - r.quarantined - r.unchanged)
                                                     for r in results.values()))
    record_property("G1: records lost", sum(max(0, truth.get(s, 0) - r.extracted) for s, r in results.items()))
    pushed = results.pop("grid_collection")   # 网格采集: form write-backs push its records, a pull finds none
    assert pushed.status == "succeeded" and pushed.extracted == 0 and pushed.reconciled
    assert set(results) == set(truth)
    for source, result in results.items():
        assert result.status == "succeeded", (source, result.error)
        assert result.extracted == truth[source], source              # every record of the source was read
        assert result.reconciled, source                               # G1
        assert result.loaded > 0 and result.statements > 0, source
    # every row the generator broke on purpose is in quarantine with a reason, and in the raw zone
    q = tables.quarantine
    with hub.engine.connect() as conn:
        flagged = set(conn.execute(select(q.c.source, q.c.source_record_id).where(q.c.kind != "flag")).all())
        landed = set(conn.execute(select(tables.raw_record.c.source, tables.raw_record.c.source_record_id)).all())
    broken = _broken_records(manifest)
    assert broken and broken <= flagged and broken <= landed
    # G12: nothing the generator knows as a clear ID or phone reached a log record
    secrets = _secrets(manifest)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    record_property("G12: clear values found", len([s for s in secrets if s in logged]))
    assert not [s for s in secrets if s in logged]

    # G2: a second run adds nothing and keeps every count
    def counts() -> tuple[int, ...]:
        with hub.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (tables.raw_record, tables.statement, tables.quarantine))

    before = counts()
    again = _by_source(ingest(hub))
    after = counts()
    record_property("G2: new raw rows", after[0] - before[0])
    record_property("G2: new statements", after[1] - before[1])
    assert all(r.status == "succeeded" and r.loaded == 0 and r.reconciled for r in again.values())
    assert {r.source: r.extracted for r in again.values() if r.extracted} == {}   # F14d: nothing re-read
    assert after == before


def _dump(hub: Hub, tmp_path: Path) -> bytes:
    """The whole store as bytes, the way an attacker with a backup would see it."""
    url = hub.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        hub.engine.dispose()   # checkpoint the WAL into the file
        return b"".join(p.read_bytes() for p in Path(url.database).parent.glob(Path(url.database).name + "*"))
    with hub.engine.connect() as conn:
        search_path = conn.exec_driver_sql("show search_path").scalar_one()
    out = tmp_path / "dump.sql"
    subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", search_path, "-f", str(out), "test"],
                   check=True)
    return out.read_bytes()


def _clear_hits(secrets: set[str], blob: bytes) -> set[str]:
    """Which secrets appear in a blob: every 11- and 18-character window of every digit run is checked."""
    hits: set[str] = set()
    for run in re.findall(rb"[0-9Xx]{11,}", blob):
        text = run.decode().upper()
        for width in (11, 18):
            hits.update(w for i in range(len(text) - width + 1) if (w := text[i:i + width]) in secrets)
    return hits


@pytest.mark.reliability("G11")
def test_a_dump_of_the_store_holds_no_clear_id_or_phone(world: tuple[Hub, DemoManifest], tmp_path: Path,
                                                        record_property: Callable[[str, object], None]) -> None:
    hub, manifest = world
    ingest(hub)
    dump = _dump(hub, tmp_path)
    assert len(dump) > 100_000
    assert _clear_hits({"13800138000"}, b"..x13800138000y..") == {"13800138000"}   # the detector works
    record_property("clear values found", len(_clear_hits(_secrets(manifest), dump)))
    assert _clear_hits(_secrets(manifest), dump) == set()                 # G11
    assert "张".encode() in dump or "王".encode() in dump                 # internal values stay searchable


@pytest.mark.reliability("G4")
def test_one_source_down_the_others_land(world: tuple[Hub, DemoManifest],
                                         record_property: Callable[[str, object], None]) -> None:
    hub, _ = world
    assert hub.settings.connections_file is not None
    text = hub.settings.connections_file.read_text(encoding="utf-8")
    hub.settings.connections_file.write_text(text.replace("http://127.0.0.1:", "http://127.0.0.1:1"), "utf-8")
    results = _by_source(ingest(hub))
    down = [r for s, r in results.items() if s.startswith("wuye_")]
    record_property("faults injected", len(down))
    record_property("other sources failed",
                    sum(r.status != "succeeded" for s, r in results.items() if not s.startswith("wuye_")))
    record_property("errors without source or cause", sum(not (r.error and r.source in r.error) for r in down))
    assert down and all(r.status == "failed" and r.error and r.source in r.error for r in down)
    assert all(r.status == "succeeded" for s, r in results.items() if not s.startswith("wuye_"))
