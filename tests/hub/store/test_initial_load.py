"""Initial load: an empty store is filled without secondary indexes, which are back when it ends."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from hub.ingest import BatchCounts
from hub.pipeline import Hub, ingest
from hub.settings import HubSettings
from hub.statements.entries import stored_statements
from hub.store import tables
from hub.store.initial_load import deferred_indexes, initial_load, restore_indexes

MAPPING = """\
source: test_roster
department: civil_affairs
connector:
  kind: file
  settings: {path: roster.csv, encoding: utf-8}
record_id: 编号
record_versions: {ordered_by: 变更时间}
batch_size: 2
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 联系电话
"""
# Record 1 arrives twice, in different batches and with different phones: the source is a change log, so the
# second is a new version (without record_versions it would be quarantined as a duplicate record id).
ROWS = [["1", "张伟", "13800138000", "2025-01-01"], ["2", "李娜", "13900139000", "2025-01-01"],
        ["3", "王芳", "13700137000", "2025-01-01"], ["1", "张伟", "13800138001", "2025-02-01"],
        ["4", "刘洋", "", "2025-01-01"]]


def _index_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return {str(ix["name"]) for t in ("raw_record", "statement") for ix in inspector.get_indexes(t)}


def _statements(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    with engine.connect() as conn:
        rows = stored_statements(conn)
    return sorted(rows[["source_record_id", "attribute", "token", "raw_record_id"]].itertuples(index=False, name=None))


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "roster.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    with (tmp_path / "sources" / "roster.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["编号", "姓名", "联系电话", "变更时间"], *ROWS])
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
    # each version of record 1 states its name and its phone, in a statement row of its own
    versions = {r[3] for r in initial if r[0] == "1"}
    assert len(versions) == 2
    for version in versions:
        assert sorted(r[1] for r in initial if r[0] == "1" and r[3] == version) == ["name", "phone"]
    assert len({r[2] for r in initial if r[0] == "1" and r[1] == "phone"}) == 2     # two phones, two tokens
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
