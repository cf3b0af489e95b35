"""G4: a source that stalls, cuts a page, answers 429 or 5xx, or loses a column; a full disk.

Each fault is injected for real: a local HTTP server that misbehaves on cue
(tests/reliability/fault_stub.py), a column renamed and then dropped in a MariaDB database, a store
that runs out of pages. Every case ingests two sources at once, so that "the other sources still
land" is checked beside "that source fails, naming itself and the cause". Transient faults must be
retried (the source then lands whole); persistent ones fail the run with whole batches only, and
the next run, with the fault gone, completes with nothing lost or doubled.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text

from hub.errors import SourceSchemaChanged
from hub.ingest import IngestResult, check_schema
from hub.pipeline import Hub, build_connector, ingest
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from tests.reliability.fault_stub import TOKEN, FaultyApi, faulty_api
from tests.reliability.ledger import Ledger, ledger

RecordProperty = Callable[[str, object], None]

API_MAPPING = """\
source: api_people
department: civil_affairs
connector:
  kind: http
  connection: api
  settings:
    path: residents
    records_path: items
    pagination: {type: page, size_param: page_size, size: 10, total_path: total_pages}
    auth: {type: bearer}
    retries: 3
    backoff: 0.01
    backoff_max: 0.05
    timeout: 0.3
record_id: id
batch_size: 10
entities:
  person:
    type: person
    required: [name]
    fields:
      name: name
      phone: phone
"""
FILE_MAPPING = """\
source: file_people
department: civil_affairs
connector:
  kind: file
  settings: {path: people.csv}
record_id: 编号
batch_size: 100
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 联系电话
"""
SQL_MAPPING = """\
source: maria_people
department: public_security
connector:
  kind: sql
  connection: maria
  settings: {table: JZ_RY, cursor: GXSJ, key: [RYBH]}
record_id: RYBH
entities:
  person:
    type: person
    required: [name]
    fields:
      name: XM
      phone: SJHM
"""


def _name(i: int) -> str:
    return "赵钱孙李周吴郑王冯陈"[i % 10] + "伟芳娜敏静丽强磊军洋"[i // 10 % 10] + "华明英"[i // 100 % 3]


ITEMS = [{"id": i, "name": _name(i), "phone": f"1390000{i:04d}"} for i in range(1, 46)]


@dataclass
class World:
    hub: Hub
    api: FaultyApi
    file_ids: list[str]

    def ingest(self, *sources: str) -> dict[str, IngestResult]:
        return {r.source: r for r in ingest(self.hub, list(sources) or None)}

    def api_ledger(self) -> Ledger:
        return ledger(self.hub.engine, "api_people", [str(item["id"]) for item in self.api.items])

    def file_ledger(self) -> Ledger:
        return ledger(self.hub.engine, "file_people", self.file_ids)


def _write_people(path: Path, rows: int) -> list[str]:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "姓名", "联系电话", "备注"])
        writer.writerows([f"F{i}", _name(i), f"1370000{i % 10000:04d}", "备注" * 20] for i in range(rows))
    return [f"F{i}" for i in range(rows)]


def _world(tmp_path: Path, store_url: str, api: FaultyApi, file_rows: int = 30) -> World:
    mappings, sources = tmp_path / "mappings", tmp_path / "sources"
    mappings.mkdir()
    sources.mkdir()
    (mappings / "api_people.yaml").write_text(API_MAPPING, encoding="utf-8")
    (mappings / "file_people.yaml").write_text(FILE_MAPPING, encoding="utf-8")
    file_ids = _write_people(sources / "people.csv", file_rows)
    connections = tmp_path / "connections.yaml"
    connections.write_text(f"api: {{uri: '{api.base_url}', token: {TOKEN}}}\n", encoding="utf-8")
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=new_key_text(),
                           mappings_dir=mappings, sources_dir=sources, connections_file=connections)
    return World(Hub.open(settings), api, file_ids)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with faulty_api(ITEMS) as api:
        made = _world(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", api)
        yield made
        made.hub.engine.dispose()


@pytest.mark.reliability("G4")
@pytest.mark.parametrize("faults", [
    {3: 429}, {3: 503, 4: 500, 5: 502}, {3: "stall"}, {3: "cut"},
    {2: 429, 3: "stall", 5: 503, 6: "cut", 8: 500, 10: "stall"},
], ids=["429", "5xx", "stall", "cut", "all-of-them"])
def test_transient_faults_are_retried_and_the_source_lands_whole(
        world: World, faults: dict[int, Any], record_property: RecordProperty) -> None:
    world.api.faults = dict(faults)
    results = world.ingest()
    api = results["api_people"]
    after = world.api_ledger()
    record_property("faults injected", world.api.injected)
    record_property("records lost", after.lost)
    record_property("records duplicated", after.duplicated)
    record_property("other sources failed", int(results["file_people"].status != "succeeded"))
    assert world.api.injected == len(faults)
    assert api.status == "succeeded", api.error
    assert api.extracted == api.loaded == len(ITEMS) and api.reconciled
    assert (after.lost, after.duplicated, after.half_batches) == (0, 0, 0)
    assert results["file_people"].status == "succeeded"


@pytest.mark.reliability("G4")
@pytest.mark.parametrize(("fault", "cause"), [
    (503, "answered 503 after 4 tries"), (429, "answered 429 after 4 tries"), ("stall", "timed out"),
    ("cut", "failed (RemoteProtocolError)"), ("short", "is not complete JSON"),
], ids=["503", "429", "stall", "cut", "short-json"])
def test_a_persistent_fault_fails_that_source_alone_and_the_next_run_completes(
        world: World, fault: Any, cause: str, record_property: RecordProperty) -> None:
    world.api.always, world.api.always_from = fault, 4        # discovery, pages 1 and 2 answer; 3 never does
    results = world.ingest()
    failed = results["api_people"]
    left = world.api_ledger()
    world.api.always = None
    again = world.ingest("api_people")["api_people"]
    after = world.api_ledger()
    record_property("faults injected", 1)
    record_property("errors without source or cause",
                    int(not failed.error or "'api_people'" not in failed.error or cause not in failed.error))
    record_property("other sources failed", int(results["file_people"].status != "succeeded"))
    record_property("half batches", left.half_batches + after.half_batches)
    record_property("records lost", after.lost)
    record_property("records duplicated", after.duplicated)
    assert failed.status == "failed" and failed.error is not None
    assert "'api_people'" in failed.error and cause in failed.error, failed.error
    assert TOKEN not in failed.error
    assert results["file_people"].status == "succeeded" and results["file_people"].loaded == len(world.file_ids)
    assert 0 < left.raw_records < len(ITEMS) and left.raw_records % 10 == 0      # whole pages (batches) only
    assert left.half_batches == 0
    assert again.status == "succeeded", again.error
    assert (after.lost, after.duplicated, after.half_batches) == (0, 0, 0)


@pytest.mark.mariadb
@pytest.mark.reliability("G4")
def test_a_column_renamed_or_dropped_in_mariadb_fails_that_source_naming_it(
        world: World, mariadb_database: str, record_property: RecordProperty) -> None:
    source_db = create_engine(mariadb_database)
    with source_db.begin() as conn:
        conn.execute(text("CREATE TABLE JZ_RY (RYBH VARCHAR(20) PRIMARY KEY, XM VARCHAR(40), SJHM VARCHAR(20), "
                          "GXSJ DATETIME)"))
        conn.execute(text("INSERT INTO JZ_RY VALUES (:id, :name, :phone, '2024-03-01 08:00:00')"),
                     [{"id": f"R{i}", "name": _name(i), "phone": f"1360000{i:04d}"} for i in range(30)])
    hub = world.hub
    (hub.settings.mappings_dir / "maria_people.yaml").write_text(SQL_MAPPING, encoding="utf-8")
    assert hub.settings.connections_file is not None
    with hub.settings.connections_file.open("a", encoding="utf-8") as handle:
        handle.write(f"maria: '{mariadb_database}'\n")
    assert world.ingest("maria_people")["maria_people"].loaded == 30

    messages = []
    for change, expected in (("RENAME COLUMN SJHM TO SJHM_NEW", "'SJHM' (did you mean 'SJHM_NEW'?)"),
                             ("DROP COLUMN SJHM_NEW", "'SJHM'")):
        with source_db.begin() as conn:
            conn.execute(text(f"ALTER TABLE JZ_RY {change}"))
        spec = next(s for s in hub.mappings() if s.source == "maria_people")
        with pytest.raises(SourceSchemaChanged) as caught:
            check_schema(spec, build_connector(spec, hub.settings).discover().names)
        results = world.ingest("maria_people", "file_people")
        failed = results["maria_people"]
        messages.append(failed.error or "")
        record_property("faults injected", 1)
        record_property("errors without source or cause", int(expected not in (failed.error or "")))
        record_property("other sources failed", int(results["file_people"].status != "succeeded"))
        assert failed.status == "failed" and failed.error == str(caught.value)
        assert "'maria_people'" in failed.error and expected in failed.error, failed.error
        assert results["file_people"].status == "succeeded"
    assert "SJHM_NEW" not in messages[1]
    source_db.dispose()


@pytest.mark.reliability("G4")
def test_a_full_disk_fails_the_run_naming_the_cause_and_the_next_run_completes(
        tmp_path: Path, record_property: RecordProperty) -> None:
    """The store's disk fills up mid-load (SQLite's max_page_count: a quota a test can set without a
    mount), then space is freed: no half batch is left, and the next run lands the rest exactly once."""
    with faulty_api(ITEMS) as api:
        world = _world(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", api, file_rows=3000)
        engine = world.hub.engine
        assert world.ingest("api_people")["api_people"].status == "succeeded"     # a store in use
        with engine.connect() as conn:
            used = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())

        def small_disk(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {used + 60}")

        engine.dispose()
        event.listen(engine, "connect", small_disk)
        full = world.ingest("file_people")["file_people"]   # the run fails with the store's words; no traceback
        left = world.file_ledger()
        event.remove(engine, "connect", small_disk)
        engine.dispose()
        with engine.connect() as conn:
            status, error = conn.execute(select(tables.run.c.status, tables.run.c.error).where(
                tables.run.c.source == "file_people")).one()
        again = world.ingest("file_people")["file_people"]
        after = world.file_ledger()
        record_property("faults injected", 1)
        record_property("errors without source or cause", int(status != "failed" or "disk is full" not in error))
        record_property("half batches", left.half_batches + after.half_batches)
        record_property("records lost", after.lost)
        record_property("records duplicated", after.duplicated)
        assert status == "failed" and "database or disk is full" in error, (status, error)
        assert full.status == "failed" and full.error == error and "the store refused" in error, full.error
        assert 0 < left.raw_records < len(world.file_ids) and left.half_batches == 0
        assert again.status == "succeeded" and again.reconciled, again.error
        assert (after.lost, after.duplicated, after.half_batches) == (0, 0, 0)
        engine.dispose()
