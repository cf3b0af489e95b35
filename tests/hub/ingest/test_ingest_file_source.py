"""Ingest of a small file source on both stores: counts reconcile, nothing is lost or doubled."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.base import Batch, Connector, SourceSchema
from hub.mapping import load_mapping
from hub.pipeline import Hub, build_connector, ingest
from hub.settings import HubSettings
from hub.statements.entries import stored_statements
from hub.store import tables

MAPPING = """\
source: test_allowance
department: civil_affairs
connector:
  kind: file
  settings: {path: allowance.csv, encoding: auto}
record_id: 编号
batch_size: 2
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      resident_id: 身份证号
      phone: 联系电话
      birth_date: {column: 出生日期, normalize: date}
  help:
    type: situation
    required: [situation_type]
    fields:
      situation_type: {const: disability}
      amount: 金额
relations:
  - {subject: help, predicate: applies_to, object: person}
"""
HEADER = ["编号", "姓名", "身份证号", "联系电话", "出生日期", "金额"]
ROWS = [
    ["1", "張偉", "650102198503071237", "+86 138-0013-8000", "1985年3月7日", "300"],
    ["2", "买买提•艾力", "650102850307123", "13900139000", "19850307", "300.00"],
    ["3", "", "65010219850307100X", "13700137000", "1985-03-07", "200"],          # no name: person rejected
    ["4", "王伟", "650102198503071273", "13600136000", "1985-02-30", "abc"],       # bad check, bad date, bad amount
    ["", "李娜", "650102198001010011", "13500135000", "1980-01-01", "100"],        # no record id
]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="gbk", errors="replace", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "allowance.yaml").write_text(MAPPING, encoding="utf-8")
    sources = tmp_path / "sources"
    sources.mkdir()
    _write_csv(sources / "allowance.csv", ROWS)
    hub = Hub.open(settings.model_copy(update={"mappings_dir": mappings, "sources_dir": sources}))
    yield hub
    hub.engine.dispose()


def _count(hub: Hub, table: object) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@pytest.mark.reliability("G1")
def test_counts_reconcile_and_bad_values_are_quarantined(hub: Hub,
                                                         record_property: Callable[[str, object], None]) -> None:
    [result] = ingest(hub)
    record_property("records unreconciled", result.extracted - result.loaded - result.quarantined - result.unchanged)
    assert result.status == "succeeded", result.error
    assert result.extracted == 5 and result.reconciled
    assert (result.loaded, result.quarantined) == (4, 1)     # record 3 still has its situation; '' id is out
    assert _count(hub, tables.raw_record) == 5              # the raw zone keeps every record, even bad ones
    with hub.engine.connect() as conn:
        q = conn.execute(select(tables.quarantine.c.source_record_id, tables.quarantine.c.field,
                                tables.quarantine.c.kind, tables.quarantine.c.reason)).all()
    reasons = {(r.source_record_id, r.field, r.kind): r.reason for r in q}
    assert reasons[("3", "name", "entity")].startswith("person rejected: required name is missing")
    assert ("4", "身份证号", "value") in reasons and ("4", "出生日期", "value") in reasons
    assert ("4", "金额", "value") in reasons
    assert any(k[2] == "record" and k[0] is None for k in reasons)
    assert all("650102" not in reason and "1360013" not in reason for reason in reasons.values())


def test_sensitive_values_encrypted_and_traceable(hub: Hub) -> None:
    ingest(hub)
    with hub.engine.connect() as conn:
        rows = stored_statements(conn, tables.statement.c.source_record_id == "1").to_dict("records")
        # sensitive values are in the stored row only as ciphertext
        stored = conn.execute(select(tables.statement.c.statements)).scalars().all()
    assert stored and not any("650102198503071237" in text or "13800138000" in text for text in stored)
    by_attr = {(r["attribute"], r["method"]): r for r in rows}
    rid = by_attr[("resident_id", "mapped")]
    assert rid["value"] is None and rid["value_enc"] and rid["token"]
    assert hub.vault.decrypt_text(bytes(rid["value_enc"])) == "650102198503071237"
    assert rid["token"] == hub.vault.token("650102198503071237")
    assert by_attr[("name", "mapped")]["value"] == "张伟"
    assert by_attr[("birth_date", "mapped")]["value"] == "1985-03-07"
    assert ("birth_date", "derived") not in by_attr            # the row's own value agrees: no duplicate
    assert by_attr[("gender", "derived")]["value"] == "1"       # implied by the ID, not in the row
    assert hub.vault.decrypt_text(bytes(by_attr[("phone", "mapped")]["value_enc"])) == "13800138000"
    assert by_attr[("applies_to", "relation")]["value"] == "person"
    # lineage: statement → raw record → run
    with hub.engine.connect() as conn:
        raw_table = tables.raw_record
        raw = conn.execute(select(raw_table).where(raw_table.c.id == rid["raw_record_id"])).mappings().one()
        run = conn.execute(select(tables.run).where(tables.run.c.id == rid["run_id"])).mappings().one()
    assert raw["source_record_id"] == "1" and run["source"] == "test_allowance"
    assert "张伟".encode() not in bytes(raw["payload"])   # the raw payload is encrypted as a whole


@pytest.mark.reliability("G2")
def test_rerun_adds_nothing_even_when_the_watermark_is_lost(hub: Hub,
                                                            record_property: Callable[[str, object], None]) -> None:
    ingest(hub)
    before = (_count(hub, tables.raw_record), _count(hub, tables.statement), _count(hub, tables.quarantine))
    [again] = ingest(hub)                     # file unchanged: watermark says so
    assert again.extracted == 0 and again.reconciled
    with hub.engine.begin() as conn:
        conn.execute(tables.source_state.delete())
    [forced] = ingest(hub)                    # re-read everything: content hashes say so
    assert forced.extracted == 5 and forced.unchanged == 5 and forced.loaded == 0 and forced.reconciled
    after = (_count(hub, tables.raw_record), _count(hub, tables.statement), _count(hub, tables.quarantine))
    record_property("new raw rows", after[0] - before[0])
    record_property("new statements", after[1] - before[1])
    assert after == before


def test_changed_record_adds_a_version_and_keeps_history(hub: Hub) -> None:
    ingest(hub)
    assert hub.settings.sources_dir is not None
    rows = [r[:] for r in ROWS]
    rows[0][3] = "13800138001"
    _write_csv(hub.settings.sources_dir / "allowance.csv", rows)
    [result] = ingest(hub)
    assert result.extracted == 5 and result.unchanged == 4 and result.loaded == 1 and result.reconciled
    with hub.engine.connect() as conn:
        record = stored_statements(conn, tables.statement.c.source_record_id == "1")
    phones, names = record[record["attribute"] == "phone"], record[record["attribute"] == "name"]
    assert sorted(hub.vault.decrypt_text(p) for p in phones["value_enc"]) == ["13800138000", "13800138001"]
    # each version states the unchanged name again, in its own row: first seen with the first version
    assert names["value"].tolist() == ["张伟", "张伟"] and names["raw_record_id"].nunique() == 2
    assert len(set(names["first_seen"])) == 2


class _Crashing:
    """A real connector that dies after a number of batches, as a killed process would."""

    kind = "file"

    def __init__(self, inner: Connector, after: int):
        self.inner, self.after = inner, after

    def discover(self) -> SourceSchema:
        return self.inner.discover()

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        for n, batch in enumerate(self.inner.extract(watermark)):
            if n == self.after:
                raise KeyboardInterrupt("simulated crash")
            yield batch


@pytest.mark.reliability("G3")
def test_crash_leaves_whole_batches_and_next_run_completes(hub: Hub) -> None:
    from hub.ingest import ingest_source

    spec = load_mapping(hub.settings.mappings_dir / "allowance.yaml")
    with pytest.raises(KeyboardInterrupt):
        ingest_source(spec, _Crashing(build_connector(spec, hub.settings), after=2), engine=hub.engine, vault=hub.vault)
    assert _count(hub, tables.raw_record) == 4          # two whole batches of two
    [result] = ingest(hub)
    assert result.status == "succeeded" and result.reconciled
    assert _count(hub, tables.raw_record) == 5          # nothing lost, nothing doubled


@pytest.mark.reliability("G4")
def test_schema_drift_fails_only_that_source(hub: Hub) -> None:
    assert hub.settings.sources_dir is not None
    (hub.settings.mappings_dir / "second.yaml").write_text(
        MAPPING.replace("test_allowance", "test_second").replace("allowance.csv", "second.csv"), encoding="utf-8")
    path = hub.settings.sources_dir / "second.csv"
    path.write_text("编号,名字,身份证号,联系电话,出生日期,金额\n1,张三,,,,\n", encoding="utf-8")
    results = {r.source: r for r in ingest(hub)}
    assert results["test_allowance"].status == "succeeded"
    failed = results["test_second"]
    assert failed.status == "failed" and failed.error is not None
    assert "test_second" in failed.error and "'姓名'" in failed.error and "名字" in failed.error


def test_a_source_keyed_by_id_number_keeps_no_clear_id_as_record_id(hub: Hub) -> None:
    assert hub.settings.sources_dir is not None
    keyed = MAPPING.replace("test_allowance", "test_by_id").replace("allowance.csv", "by_id.csv").replace(
        "record_id: 编号", "record_id: 身份证号")
    (hub.settings.mappings_dir / "by_id.yaml").write_text(keyed, encoding="utf-8")
    _write_csv(hub.settings.sources_dir / "by_id.csv", ROWS[:2])
    results = {r.source: r for r in ingest(hub, ["test_by_id"])}
    assert results["test_by_id"].status == "succeeded" and results["test_by_id"].loaded == 2
    with hub.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(tables.raw_record.c.source_record_id).where(
            tables.raw_record.c.source == "test_by_id"))]
    assert len(ids) == 2 and all(i.startswith("~") and "650102" not in i for i in ids)
    assert hub.vault.token("650102198503071237")[:8] in "".join(ids)    # stable: the keyed token of the id


def test_planner_statistics_are_refreshed_during_ingest(hub: Hub) -> None:
    ingest(hub)
    if hub.engine.dialect.name != "postgresql":
        return   # SQLite has no planner statistics to go stale
    with hub.engine.connect() as conn:
        analyzed = conn.exec_driver_sql(
            "select relname from pg_stat_user_tables where schemaname = current_schema() "
            "and relname in ('raw_record', 'statement') and last_analyze is not null").scalars().all()
    assert sorted(analyzed) == ["raw_record", "statement"]
