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
from sqlalchemy import func, select, update

from connectors.base import Batch, RejectedRow
from connectors.files import FileConnector
from connectors.sql import SqlConnector
from hub.errors import SourceUnavailable
from hub.fuse.statements import latest_versions
from hub.ingest import repeats
from hub.ingest.landing import prepare_batch, prepare_screened, write_batch
from hub.pipeline import Hub, ingest
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
def open_hub(one_file_source: Callable[[str, str, bytes], Hub]) -> Callable[[str, list[list[str]]], Hub]:
    def make(mapping: str, rows: list[list[str]]) -> Hub:
        lines = [",".join(row) for row in [["编号", "姓名", "电话", "变更时间"], *rows]]
        return one_file_source(mapping, "people.csv", ("\n".join(lines) + "\n").encode("utf-8"))

    return make


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
            seen.add(key, n, n + 1, f"line {n + 2}")
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


def _fail_after_first_batch(monkeypatch: pytest.MonkeyPatch, kind: type[FileConnector | SqlConnector] = FileConnector
                            ) -> None:
    """The source breaks off after its first batch: the run fails and keeps that batch's watermark, the
    state a kill between two batches leaves too (G3)."""
    extract = kind.extract

    def first_batch_only(self: FileConnector | SqlConnector, watermark: str | None = None) -> Iterator[Batch]:
        batches = extract(self, watermark)   # type: ignore[arg-type]
        yield next(batches)
        raise SourceUnavailable(self.source, "connection reset after the first batch")

    monkeypatch.setattr(kind, "extract", first_batch_only)


RESUMED = [["1", "张伟", "13800000001", ""], ["2", "李娜", "13900000000", ""],
           ["1", "王芳", "13700000000", ""], ["3", "赵四", "13600000000", ""]]


@pytest.mark.reliability("F2")
def test_a_repeat_in_the_part_a_resumed_run_extracts_is_quarantined(
        open_hub: Callable[[str, list[list[str]]], Hub], monkeypatch: pytest.MonkeyPatch,
        record_property: Callable[[str, object], None]) -> None:
    # before: the resumed run compared 王芳's row with nothing, and it replaced 张伟 as a second version of id 1
    hub = open_hub(MAPPING.replace("batch_size: 300", "batch_size: 2"), RESUMED)
    _fail_after_first_batch(monkeypatch)
    [broken] = ingest(hub)
    assert (broken.status, broken.loaded) == ("failed", 2) and broken.watermark and broken.watermark.endswith("#2")
    monkeypatch.undo()
    [resumed] = ingest(hub)
    assert resumed.status == "succeeded", resumed.error
    assert (resumed.extracted, resumed.loaded, resumed.quarantined, resumed.unchanged) == (2, 1, 1, 0)
    assert resumed.reconciled
    with hub.engine.connect() as conn:
        q, r = tables.quarantine.c, tables.raw_record.c
        [(position, record_id, reason, run_id)] = conn.execute(
            select(q.position, q.source_record_id, q.reason, q.run_id).where(q.kind == "record")).all()
        versions_of_1 = conn.execute(select(r.payload).where(r.source_record_id == "1")).scalars().all()
        per_record = dict(conn.execute(select(r.source_record_id, func.count()).group_by(r.source_record_id)).all())
    assert (position, record_id, run_id) == ("line 4", "1", resumed.run_id)
    assert reason == "duplicate record id: first at line 2, this row has other content"
    assert [json.loads(hub.vault.decrypt(bytes(p)))["姓名"] for p in versions_of_1] == ["张伟"]
    # G3: every row of the file is in the raw zone once (the repeat under its content hash), nothing twice
    lost = len(RESUMED) - sum(per_record.values())
    duplicated = sum(n - 1 for n in per_record.values())
    assert (lost, duplicated, per_record["1"], per_record["2"], per_record["3"]) == (0, 0, 1, 1, 1)
    record_property("repeats landed as versions after a resume", len(versions_of_1) - 1)
    record_property("records lost", lost)
    record_property("records duplicated", duplicated)

    _forget_watermark(hub)                            # the same extract again, in one run: nothing new
    [again] = ingest(hub)
    assert (again.extracted, again.unchanged, again.loaded, again.quarantined) == (4, 4, 0, 0)


@pytest.mark.reliability("F2")
def test_a_run_after_a_finished_extract_compares_with_nothing_from_before(
        open_hub: Callable[[str, list[list[str]]], Hub], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The chain of an extract ends at a succeeded run, and at a watermark changed by hand: a record that
    changed since is a new version then, not a repeat."""
    hub = open_hub(MAPPING.replace("batch_size: 300", "batch_size: 2"), RESUMED[:2])
    [first] = ingest(hub)
    assert first.status == "succeeded"
    changed = "编号,姓名,电话,变更时间\n1,张伟,13800000009,\n2,李娜,13900000000,\n4,孙七,13500000000,\n"
    (tmp_path / "sources" / "people.csv").write_text(changed, encoding="utf-8")
    [second] = ingest(hub)
    assert (second.status, second.loaded, second.unchanged, second.quarantined) == ("succeeded", 2, 1, 0)

    _fail_after_first_batch(monkeypatch)              # a failed run, then the watermark forgotten: a new extract
    (tmp_path / "sources" / "people.csv").write_text(changed.replace("13800000009", "13800000010"), encoding="utf-8")
    [broken] = ingest(hub)
    assert (broken.status, broken.loaded) == ("failed", 1)
    monkeypatch.undo()
    _forget_watermark(hub)
    (tmp_path / "sources" / "people.csv").write_text(changed.replace("13800000009", "13800000011"), encoding="utf-8")
    [fresh] = ingest(hub)
    assert (fresh.status, fresh.loaded, fresh.quarantined, fresh.unchanged) == ("succeeded", 1, 0, 2)


def _runs_in_order(hub: Hub) -> list[str]:
    with hub.engine.connect() as conn:
        r = tables.run.c
        return list(conn.execute(select(r.id).order_by(r.started_at)).scalars())


@pytest.mark.reliability("F2")
def test_the_runs_of_one_extract_are_the_unfinished_ones_that_moved_its_watermark(
        open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    hub = open_hub(MAPPING, [])
    r = tables.run.c
    chain = [  # oldest first: (status, watermark before, watermark after)
        ("succeeded", None, "d0"),
        ("failed", "d0", "d1#2"),            # began the extract of d1 (a finished extract's watermark before it)
        ("interrupted", "d1#2", None),       # killed before its first batch: ends where it began
        ("interrupted", "d1#2", "d1#4"),
        ("failed", "d1#4", "d1#4"),          # failed before its first batch
        ("running", "d1#4", None),           # this run
    ]
    with hub.engine.begin() as conn:
        for n, (status, before, after) in enumerate(chain):
            conn.execute(tables.run.insert().values(id=f"run{n}", stage="ingest", source="repeats", status=status,
                                                    started_at=datetime(2026, 1, 1, n, tzinfo=UTC),
                                                    watermark_before=before, watermark_after=after))
    with hub.engine.connect() as conn:
        assert repeats.earlier_runs_of_extract(conn, "run5") == ["run3", "run1"]
    with hub.engine.begin() as conn:   # a watermark set by hand between two runs breaks the chain there
        conn.execute(update(tables.run).where(r.id == "run5").values(watermark_before="d1#3"))
    with hub.engine.connect() as conn:
        assert repeats.earlier_runs_of_extract(conn, "run5") == []
    with hub.engine.begin() as conn:
        conn.execute(update(tables.run).where(r.id == "run5").values(watermark_before=None))
    with hub.engine.connect() as conn:
        assert repeats.earlier_runs_of_extract(conn, "run5") == []   # no watermark: an extract from the start


@pytest.mark.reliability("F2")
def test_rows_without_positions_are_counted_in_one_sequence(open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    """A rejected row is named by its own position and leaves the count of rows alone; before, it moved the
    count of every later batch's rows by one."""
    hub = open_hub(MAPPING, [])
    spec = next(iter(hub.mappings()))
    seen = repeats.SeenRecordIds()
    now = datetime.now(UTC)
    batches = [Batch(rows=[{"编号": "1", "姓名": "张伟", "电话": "13800000001"}],
                     rejected=[RejectedRow("item 2", "not an object")]),
               Batch(rows=[{"编号": "2", "姓名": "李娜", "电话": "13900000000"},
                           {"编号": "1", "姓名": "王芳", "电话": "13700000000"}])]
    with hub.engine.begin() as conn:
        prepared = [prepare_batch(conn, spec, batch, run_id="r", now=now, vault=hub.vault, seen=seen)
                    for batch in batches]
    [repeat] = [row for row in prepared[1].quarantine if row[7] == "record"]
    assert repeat[4] == "row 3 of the extract"
    assert repeat[8] == "duplicate record id: first at row 1 of the extract, this row has other content"


@pytest.mark.reliability("F2")
def test_a_sql_source_counts_its_rows_on_after_a_resume(
        open_hub: Callable[[str, list[list[str]]], Hub], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "people.db"
    with sqlite3.connect(database) as source:
        source.execute("create table people (序号 integer, 编号 text, 姓名 text, 电话 text)")
        source.executemany("insert into people values (?, ?, ?, ?)", [(1, "1", "张伟", "13800000001"),
                                                                      (2, "2", "李娜", "13900000000"),
                                                                      (3, "1", "王芳", "13700000000"),
                                                                      (4, "1", "赵四", "13600000000")])
    monkeypatch.setenv("HUB_CONN_PEOPLE_DB", f"sqlite:///{database}")
    mapping = MAPPING.replace("kind: file\n  settings: {path: people.csv}",
                              "kind: sql\n  connection: people_db\n  settings: {table: people, cursor: 序号}")
    hub = open_hub(mapping.replace("batch_size: 300", "batch_size: 2"), [])
    _fail_after_first_batch(monkeypatch, SqlConnector)
    [broken] = ingest(hub)
    assert (broken.status, broken.loaded) == ("failed", 2)
    monkeypatch.undo()
    monkeypatch.setenv("HUB_CONN_PEOPLE_DB", f"sqlite:///{database}")
    [resumed] = ingest(hub)
    assert (resumed.status, resumed.loaded, resumed.quarantined) == ("succeeded", 0, 2) and resumed.reconciled
    with hub.engine.connect() as conn:
        q = tables.quarantine.c
        reasons = dict(conn.execute(select(q.position, q.reason).where(q.kind == "record")).all())
    first = f"a row run {broken.run_id} landed"   # its place within that run's batch was not kept
    assert reasons == {"row 3 of the extract": f"duplicate record id: first at {first}, this row has other content",
                       "row 4 of the extract": f"duplicate record id: first at {first}, this row has other content"}


@pytest.mark.reliability("F2")
def test_a_resumed_change_log_orders_its_versions_with_those_landed_before(
        open_hub: Callable[[str, list[list[str]]], Hub], monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["1", "张伟", "13800000002", "2024-03-02"], ["2", "李娜", "13900000000", "2024-01-01"],
            ["1", "张伟", "13800000001", "2024-03-01"],    # older than the version the failed run landed
            ["1", "张伟", "13899999999", "2024-03-02"]]    # as new as it, other content: which is newer is unknown
    hub = open_hub(VERSIONS.replace("batch_size: 300", "batch_size: 2"), rows)
    _fail_after_first_batch(monkeypatch)
    [broken] = ingest(hub)
    assert (broken.status, broken.loaded) == ("failed", 2)
    monkeypatch.undo()
    [resumed] = ingest(hub)
    assert (resumed.status, resumed.loaded, resumed.quarantined) == ("succeeded", 1, 1) and resumed.reconciled
    with hub.engine.connect() as conn:
        r, q = tables.raw_record.c, tables.quarantine.c
        versions = conn.execute(select(r.id, r.payload).where(r.source_record_id == "1")
                                .order_by(r.extracted_at, r.id)).all()
        [(position, reason)] = conn.execute(select(q.position, q.reason).where(q.kind == "record")).all()
    phones = [json.loads(hub.vault.decrypt(bytes(payload)))["电话"] for _, payload in versions]
    assert phones == ["13800000001", "13800000002"]
    assert versions[-1].id in latest_versions(hub.engine, [("repeats", "1")])
    assert position == "line 5"
    assert reason == "duplicate record id: the version at line 2 has the same 变更时间, so which is newer is unknown"


@pytest.mark.reliability("F2")
def test_a_record_changed_back_makes_its_earlier_content_current_again(
        open_hub: Callable[[str, list[list[str]]], Hub]) -> None:
    """A → B → A (a welfare status suspended, then resumed): the third extract is current, not B."""
    hub = open_hub(MAPPING, [["1", "张伟", "13800000001", ""]])
    people = hub.settings.sources_dir / "people.csv"
    landed = []
    for phone in ("13800000001", "13800000002", "13800000001"):
        people.write_text(f"编号,姓名,电话,变更时间\n1,张伟,{phone},\n", encoding="utf-8")
        _forget_watermark(hub)
        [result] = ingest(hub)
        assert result.status == "succeeded", result.error
        landed.append(result.loaded)
        with hub.engine.connect() as conn:
            [current] = latest_versions(hub.engine, [("repeats", "1")])
            payload = conn.execute(select(tables.raw_record.c.payload).where(tables.raw_record.c.id == current))
            assert json.loads(hub.vault.decrypt(bytes(payload.scalar_one())))["电话"] == phone
    assert landed == [1, 1, 1]
