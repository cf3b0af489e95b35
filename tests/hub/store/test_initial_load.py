"""Initial load: an empty store is filled without secondary indexes, which are back when it ends."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select

from hub.ingest import BatchCounts
from hub.pipeline import Hub, ingest
from hub.settings import HubSettings
from hub.store import tables
from hub.store.initial_load import deferred_indexes, initial_load, restore_indexes

MAPPING = """\
source: test_roster
department: civil_affairs
connector:
  kind: file
  settings: {path: roster.csv, encoding: utf-8}
record_id: 编号
batch_size: 2
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 联系电话
"""
# Record 1 arrives twice, in different batches and with different phones: the second is a new version.
ROWS = [["1", "张伟", "13800138000"], ["2", "李娜", "13900139000"], ["3", "王芳", "13700137000"],
        ["1", "张伟", "13800138001"], ["4", "刘洋", ""]]


def _index_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return {str(ix["name"]) for t in ("raw_record", "statement") for ix in inspector.get_indexes(t)}


def _statements(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    s = tables.statement.c
    with engine.connect() as conn:
        rows = conn.execute(select(s.source_record_id, s.attribute, s.token, s.raw_record_id)).all()
        assert conn.execute(select(tables.statement_pending.c.seq)).first() is None
    return sorted((r[0], r[1], r[2], r[3]) for r in rows)


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "roster.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    with (tmp_path / "sources" / "roster.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["编号", "姓名", "联系电话"], *ROWS])
    hub = Hub.open(settings.model_copy(update={"mappings_dir": tmp_path / "mappings",
                                               "sources_dir": tmp_path / "sources"}))
    yield hub
    hub.engine.dispose()


def test_an_empty_store_loads_without_indexes_and_gets_them_back(hub: Hub) -> None:
    wanted = {str(ix.name) for ix in deferred_indexes()}
    assert wanted and wanted <= _index_names(hub.engine)
    during: list[set[str]] = []

    def look(_source: str, _counts: BatchCounts) -> None:
        during.append(_index_names(hub.engine))

    [result] = ingest(hub, on_batch=look)
    assert result.status == "succeeded" and result.reconciled and result.batches == 3
    assert during and all(not (names & wanted) for names in during)
    assert wanted <= _index_names(hub.engine)


def test_initial_and_ordinary_loads_store_the_same_statements(hub: Hub) -> None:
    [first] = ingest(hub)                     # empty store: initial load, record 1 seen twice in one run
    initial = _statements(hub.engine)
    assert len([r for r in initial if r[0] == "1" and r[1] == "phone"]) == 2
    # the unchanged name of record 1 is one statement, updated by the second version (via statement_pending)
    [name] = [r for r in initial if r[0] == "1" and r[1] == "name"]
    phones_of_that_version = [r for r in initial if r[0] == "1" and r[1] == "phone" and r[3] == name[3]]
    assert [r[2] for r in phones_of_that_version] != [None] and len(phones_of_that_version) == 1
    with hub.engine.begin() as conn:          # the same again, into a store that is not empty (one foreign record)
        for table in (tables.statement, tables.raw_record, tables.source_state):
            conn.execute(table.delete())
        conn.execute(tables.raw_record.insert().values(
            id="x", source="other", source_record_id="x", content_hash="x", payload=b"x",
            extracted_at=datetime(2026, 1, 1, tzinfo=UTC), run_id="x"))
    with initial_load(hub.engine) as empty:
        assert not empty
    [second] = ingest(hub)
    assert (second.loaded, second.quarantined, second.statements) == (first.loaded, first.quarantined,
                                                                        first.statements)
    assert _statements(hub.engine) == initial


def test_indexes_lost_with_a_killed_load_come_back_before_the_next_stage(hub: Hub) -> None:
    ingest(hub)
    with hub.engine.begin() as conn:          # what a process killed inside the initial load leaves
        for index in deferred_indexes():
            index.drop(conn)
    assert restore_indexes(hub.engine) == [str(ix.name) for ix in deferred_indexes()]
    assert restore_indexes(hub.engine) == []
    with hub.engine.begin() as conn:
        for index in deferred_indexes():
            index.drop(conn)
    [again] = ingest(hub)                     # not empty any more: an ordinary run, indexes first
    assert again.status == "succeeded" and again.loaded == 0
    assert {str(ix.name) for ix in deferred_indexes()} <= _index_names(hub.engine)


def test_pending_statement_updates_apply_in_order_once_the_index_is_back(hub: Hub) -> None:
    def row(statement_id: str, raw: str, day: int) -> dict[str, object]:
        moment = datetime(2026, 1, day, tzinfo=UTC)
        return {"id": statement_id, "source": "s", "source_record_id": "r", "entity_type": "person",
                "entity_ref": "person", "attribute": "name", "value": "张伟", "method": "mapped",
                "raw_record_id": raw, "run_id": f"run{day}", "first_seen": moment, "last_seen": moment}

    with hub.engine.begin() as conn:
        conn.execute(tables.statement.insert().values(row("a", "raw1", 1)))
        # "a" met again twice (versions 2 and 3), "b" first met in version 2 and again in version 3
        conn.execute(tables.statement_pending.insert(), [row("a", "raw2", 2), row("b", "raw2", 2),
                                                          row("a", "raw3", 3), row("b", "raw3", 3)])
    assert restore_indexes(hub.engine) == []
    s = tables.statement.c
    with hub.engine.connect() as conn:
        got = conn.execute(select(s.id, s.raw_record_id, s.run_id, s.first_seen, s.last_seen).order_by(s.id)).all()
        assert conn.execute(select(tables.statement_pending.c.seq)).first() is None
    assert [(r[0], r[1], r[2], r[3].day, r[4].day) for r in got] == [
        ("a", "raw3", "run3", 1, 3), ("b", "raw3", "run3", 2, 3)]
