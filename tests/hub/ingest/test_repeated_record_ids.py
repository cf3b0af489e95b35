"""A record id that repeats within one extract (issue 18, finding 2), on both stores: the first row
lands, every later row with other content is quarantined naming both positions, an exact repeat is
unchanged, and the run reconciles; a change log declares the column ordering its versions and only
then are repeats landed as versions, the latest being the one that column orders last."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.base import Batch
from hub.fuse.statements import latest_versions
from hub.ingest import repeats
from hub.ingest.landing import prepare_batch, prepare_screened, write_batch
from hub.pipeline import Hub, ingest
from hub.settings import HubSettings
from hub.store import tables

MAPPING = """\
source: repeats
department: civil_affairs
connector:
  kind: file
  settings: {path: people.csv}
record_id: 编号
batch_size: 300
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      phone: 电话
"""
VERSIONS = MAPPING.replace("record_id: 编号", "record_id: 编号\nrecord_versions: {ordered_by: 变更时间}")


@pytest.fixture
def open_hub(settings: HubSettings, tmp_path: Path) -> Iterator[Callable[[str, list[list[str]]], Hub]]:
    hubs: list[Hub] = []

    def make(mapping: str, rows: list[list[str]]) -> Hub:
        (tmp_path / "mappings").mkdir()
        (tmp_path / "sources").mkdir()
        (tmp_path / "mappings" / "repeats.yaml").write_text(mapping, encoding="utf-8")
        lines = [",".join(row) for row in [["编号", "姓名", "电话", "变更时间"], *rows]]
        (tmp_path / "sources" / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        hub = Hub.open(settings.model_copy(update={"mappings_dir": tmp_path / "mappings",
                                                   "sources_dir": tmp_path / "sources"}))
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.engine.dispose()


def _count(hub: Hub, table: object, *where: object) -> int:
    with hub.engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(conn.execute(query).scalar_one())


def _people_with_distinct_statements(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count(func.distinct(tables.statement.c.source_record_id)))).scalar_one())


def _forget_watermark(hub: Hub) -> None:
    with hub.engine.begin() as conn:
        conn.execute(tables.source_state.delete())


@pytest.mark.reliability("F2")
@pytest.mark.parametrize("merge_at", [repeats.MERGE_AT, 64])   # 64: most lookups go through the sorted arrays
def test_a_repeated_record_id_is_quarantined_naming_both_positions(
        open_hub: Callable[[str, list[list[str]]], Hub], record_property: Callable[[str, object], None],
        merge_at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repeats, "MERGE_AT", merge_at)
    # 1,000 rows over 2 ids, every row different: before, "loaded 1,000, reconciled" while 2 records remained
    # (plus 300 ids once each, so that the sorted arrays hold more than the two repeated ids)
    rows = [[str(1 + n % 2), "张伟" if n % 2 else "李娜", f"138{n:08d}", ""] for n in range(1000)]
    rows += [[f"u{n}", "王芳", f"139{n:08d}", ""] for n in range(300)]
    hub = open_hub(MAPPING, rows)
    [result] = ingest(hub)
    assert result.status == "succeeded", result.error
    assert (result.extracted, result.loaded, result.quarantined, result.unchanged) == (1300, 302, 998, 0)
    assert result.reconciled
    record_property("rows lost silently", result.extracted - result.loaded - result.quarantined - result.unchanged)
    assert _people_with_distinct_statements(hub) == 302
    with hub.engine.connect() as conn:
        q = tables.quarantine.c
        reasons = dict(conn.execute(select(q.position, q.reason).where(q.kind == "record")).all())
        run = conn.execute(select(tables.run.c.quarantined).where(tables.run.c.id == result.run_id)).scalar_one()
        ids = dict(conn.execute(select(q.position, q.source_record_id)).all())
    assert run == 998 and len(reasons) == 998        # hub status reads the run row: 998 quarantined
    # the reason names the first occurrence, the row its own position: `hub status` groups them by first row
    assert reasons["line 4"] == "duplicate record id: first at line 2, this row has other content"
    assert reasons["line 1001"] == "duplicate record id: first at line 3, this row has other content"
    assert ids["line 4"] == "1" and ids["line 1001"] == "2"
    assert _count(hub, tables.raw_record) == 1300    # every row is kept (the repeats encrypted, under their content)

    _forget_watermark(hub)                            # the same extract again: nothing new
    [again] = ingest(hub)
    assert (again.extracted, again.unchanged, again.loaded, again.quarantined) == (1300, 1300, 0, 0)
    assert _count(hub, tables.raw_record) == 1300 and _count(hub, tables.quarantine) == 998


@pytest.mark.reliability("F2")
def test_an_exact_repeat_counts_as_unchanged(open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    row = ["7", "张伟", "13800138000", ""]
    hub = open_hub(MAPPING, [row, ["8", "李娜", "13900139000", ""], row])
    [result] = ingest(hub)
    assert (result.extracted, result.loaded, result.unchanged, result.quarantined) == (3, 2, 1, 0)
    assert result.reconciled and _count(hub, tables.raw_record) == 2


@pytest.mark.reliability("F2")
def test_a_change_log_lands_its_versions_in_their_order(open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    rows = [
        ["1", "张伟", "13800000002", "2024-03-02 10:00"],
        ["1", "张伟", "13800000001", "2024/3/1 9:00"],     # older, later in the file; another way to write a time
        ["2", "李娜", "13900000000", "2024-01-01"],
        ["1", "张伟", "13800000005", "2024-03-05"],         # the latest
        ["1", "张伟", "13899999999", "2024-03-05"],         # same time, other content: which is newer is unknown
        ["1", "张伟", "13800000000", "2024-02-01"],         # the oldest, last in the file
    ]
    hub = open_hub(VERSIONS.replace("batch_size: 300", "batch_size: 2"), rows)
    [result] = ingest(hub)
    assert result.status == "succeeded", result.error
    assert (result.extracted, result.loaded, result.quarantined, result.unchanged) == (6, 5, 1, 0)
    assert result.reconciled
    with hub.engine.connect() as conn:
        r = tables.raw_record.c
        versions = conn.execute(select(r.id, r.payload).where(r.source_record_id == "1")
                                .order_by(r.extracted_at, r.id)).all()
        q = tables.quarantine.c
        [(position, reason)] = conn.execute(select(q.position, q.reason).where(q.kind == "record")).all()
    phones = [json.loads(hub.vault.decrypt(bytes(payload)))["电话"] for _, payload in versions]
    assert phones == ["13800000000", "13800000001", "13800000002", "13800000005"]   # in the order of 变更时间
    assert versions[-1].id in latest_versions(hub.engine, [("repeats", "1")])
    assert position == "line 6"
    assert reason == "duplicate record id: the version at line 5 has the same 变更时间, so which is newer is unknown"

    _forget_watermark(hub)
    [again] = ingest(hub)
    assert (again.extracted, again.unchanged) == (6, 6) and again.reconciled


@pytest.mark.reliability("F2")
def test_without_record_versions_a_change_log_is_not_read_as_versions(
        open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    hub = open_hub(MAPPING, [["1", "张伟", "13800000002", "2024-03-02"], ["1", "张伟", "13800000001", "2024-03-01"]])
    [result] = ingest(hub)
    assert (result.loaded, result.quarantined) == (1, 1) and result.reconciled


@pytest.mark.reliability("F2")
def test_the_ids_of_an_extract_are_kept_compactly(record_property: Callable[[str, object], None]) -> None:
    """Memory per record id seen: the figure that decides whether a 1M extract can be screened."""
    count, batch = 100_000, 5000
    tracemalloc.start()
    seen = repeats.SeenRecordIds()
    for start in range(0, count, batch):
        keys = [(n * 0x9E3779B97F4A7C15) % 2**64 for n in range(start, start + batch)]
        assert not seen.earlier_slots(keys)
        for n, key in enumerate(keys, start=start):
            seen.add(key, n, f"line {n + 2}")
        seen.end_batch()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record_property("bytes per record id seen", round(held / count))
    assert held / count < 100   # packed arrays, and the dict of up to MERGE_AT ids not merged yet
    again = [(n * 0x9E3779B97F4A7C15) % 2**64 for n in (0, 54_321, count - 1, count)]
    found = seen.earlier_slots(again)   # merged ones by binary search, the rest from the recent dict
    slots = [found.get(i, seen.recent.get(key)) for i, key in enumerate(again)]
    assert slots[3] is None
    assert [seen.find(slot).position for slot in slots[:3] if slot is not None] == [
        "line 2", "line 54323", f"line {count + 1}"]


@pytest.mark.reliability("F2")
def test_a_sql_source_names_rows_by_their_place_in_the_extract(
        open_hub: Callable[[str, list[list[str]]], Hub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "people.db"
    with sqlite3.connect(database) as source:   # nothing keeps 编号 unique in this table
        source.execute("create table people (编号 text, 姓名 text, 电话 text)")
        source.executemany("insert into people values (?, ?, ?)", [("1", "张伟", "13800000001"),
                                                                  ("2", "李娜", "13900000000"),
                                                                  ("1", "张伟", "13800000002")])
    monkeypatch.setenv("HUB_CONN_PEOPLE_DB", f"sqlite:///{database}")
    mapping = MAPPING.replace("kind: file\n  settings: {path: people.csv}",
                              "kind: sql\n  connection: people_db\n  settings: {table: people, key: [电话]}")
    hub = open_hub(mapping, [])
    [result] = ingest(hub)
    assert (result.extracted, result.loaded, result.quarantined) == (3, 2, 1) and result.reconciled
    with hub.engine.connect() as conn:
        q = tables.quarantine.c
        [(position, reason)] = conn.execute(select(q.position, q.reason)).all()
    assert position == "row 2 of the extract"      # ordered by the key: 13800000001, 13800000002, 13900000000
    assert reason == "duplicate record id: first at row 1 of the extract, this row has other content"


def test_a_batch_gone_stale_in_flight_is_prepared_again_from_its_screened_records(
        open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    """The pipelined writer's path: batch 2 was prepared before batch 1 (holding the same record without an id)
    was written; writing it finds it stale, and it is prepared again without screening its ids a second time."""
    hub = open_hub(MAPPING, [])
    spec = next(iter(hub.mappings()))
    seen = repeats.SeenRecordIds()
    now = datetime.now(UTC)
    rows = [{"编号": "", "姓名": "张伟", "电话": "13800000000"}, {"编号": "5", "姓名": "李娜", "电话": "13900000000"}]
    with hub.engine.begin() as conn:
        first, second = (prepare_batch(conn, spec, Batch(rows=[dict(row) for row in rows]), run_id="r", now=now,
                                       vault=hub.vault, seen=seen) for _ in range(2))
        assert (second.counts.unchanged, len(second.raw_rows)) == (1, 1)   # record 5 again: screened as unchanged
        assert write_batch(conn, first) and not write_batch(conn, second)
        assert second.screened is not None
        again = prepare_screened(conn, spec, second.screened, run_id="r", vault=hub.vault)
        assert write_batch(conn, again)
    assert (again.counts.extracted, again.counts.unchanged, again.counts.quarantined, again.raw_rows) == (2, 2, 0, [])
