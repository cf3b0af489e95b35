"""G14: a batch failing a critical expectation is not published, the previous state stays served, nothing is
deleted, and the batch is published once the source is fixed or the batch approved. Also: a full read
retires the records gone from its source, and releases them when they come back (issue 22, point 5).

One real department export (the 民政 allowance roster, a GBK CSV of the simulated district) through the real
pipeline: ingest with its gate, resolution, fusion and publication, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.demo import DemoManifest
from hub.pipeline import Hub, ingest, resolve
from hub.quality import approve, batches
from hub.settings import HubSettings
from hub.store import tables

SOURCE = "minzheng_allowance"
ROSTER = Path("minzheng") / "残疾人及高龄补贴.csv"
BAD_NAME = "坏批次"
REPO = Path(__file__).parents[3]


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("gbk"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk", errors="replace"))


def _broken(rows: list[list[str]]) -> list[list[str]]:
    """The export a failed upgrade of the department's system writes: ID numbers cut to their first digits,
    every name replaced (what must never reach the served profiles while the batch is held)."""
    header, body = rows[0], rows[1:]
    ids, names = header.index("身份证号"), header.index("姓名")
    return [header, *[[*r[:names], BAD_NAME, *r[names + 1:ids], r[ids][:6], *r[ids + 1:]] for r in body]]


@pytest.fixture
def roster_hub(tmp_path: Path, store_url: str, district: DemoManifest) -> Iterator[tuple[Hub, Path]]:
    sources, mappings = tmp_path / "sources", tmp_path / "mappings"
    (sources / "minzheng").mkdir(parents=True)
    mappings.mkdir()
    shutil.copy(district.out_dir / ROSTER, sources / ROSTER)
    shutil.copy(REPO / "mappings" / f"{SOURCE}.yaml", mappings)
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, sources_dir=sources,
                           mappings_dir=mappings, secret_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    hub = Hub.open(settings)
    yield hub, sources / ROSTER
    hub.engine.dispose()


def _served_names(hub: Hub) -> list[str]:
    """Person names of the read model's published version."""
    p, v = tables.publication.c, tables.pub_value.c
    with hub.engine.connect() as conn:
        version = conn.execute(sa.select(sa.func.max(p.version)).where(p.state == "published")).scalar()
        return sorted(conn.execute(sa.select(v.value).where(
            v.attribute == "name", v.entity_type == "person", v.since <= version,
            sa.or_(v.until.is_(None), v.until > version))).scalars())


def _count(hub: Hub, table: sa.Table) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def _ingest_one(hub: Hub) -> tuple[str | None, str]:
    [result] = ingest(hub, [SOURCE])
    assert result.status == "succeeded", result.error
    return result.gate, result.run_id


@pytest.mark.reliability("G14")
def test_a_held_batch_is_not_published_until_fixed_or_approved(
        roster_hub: tuple[Hub, Path], record_property: Callable[[str, object], None]) -> None:
    hub, roster = roster_hub
    good = _rows(roster)
    assert _ingest_one(hub)[0] == "published"
    resolve(hub)
    served = _served_names(hub)
    assert served and BAD_NAME not in served

    _write(roster, _broken(good))                         # 1. a broken export: held, the previous state served
    raw_before, statements_before = _count(hub, tables.raw_record), _count(hub, tables.statement)
    gate, held_run = _ingest_one(hub)
    assert gate == "held"
    [held] = batches(hub.engine)
    assert held.run_id == held_run and held.held_versions == len(good) - 1
    assert "valid: 身份证号 valid" in (held.note or "")
    resolve(hub)
    served_while_held = _served_names(hub)
    raw_after, statements_after = _count(hub, tables.raw_record), _count(hub, tables.statement)

    _write(roster, good)                                  # 2. the department fixes its export: published
    assert _ingest_one(hub)[0] == "published"
    resolve(hub)
    served_after_fix = _served_names(hub)
    assert [b.gate for b in batches(hub.engine)] == ["superseded"]

    _write(roster, _broken(good))                         # 3. broken again, and approved as it is
    gate, again = _ingest_one(hub)
    assert gate == "held"
    approve(hub.engine, again, "auditor-test", "checked by hand")
    resolve(hub)
    served_after_approval = _served_names(hub)

    record_property("G14: batches held", 2)
    record_property("G14: held values served", served_while_held.count(BAD_NAME) + served_after_fix.count(BAD_NAME))
    record_property("G14: rows deleted", max(0, raw_before - raw_after) + max(0, statements_before - statements_after))
    assert served_while_held == served                    # the previous state, exactly
    assert raw_after > raw_before and statements_after > statements_before   # kept, not deleted
    assert served_after_fix == served
    assert BAD_NAME in served_after_approval              # approved: published as it is
    assert [b.run_id for b in batches(hub.engine)] == [held_run]   # the superseded one stays listed
    assert {b.gate for b in batches(hub.engine, include_released=True) if b.run_id == again} == {"approved"}


def _claims(hub: Hub, record_ids: set[str]) -> int:
    """Current claims of the published read model made by these records of the source."""
    c = tables.pub_claim.c
    keys = [f"{SOURCE}|{rid}|person" for rid in record_ids]
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(c.record_key.in_(keys), c.until.is_(None))).scalar()
                   or 0)


def test_a_full_read_retires_records_gone_from_the_source_and_releases_them_when_back(
        roster_hub: tuple[Hub, Path]) -> None:
    hub, roster = roster_hub
    good = _rows(roster)
    gone = {row[0] for row in good[1:4]}
    assert _ingest_one(hub)[0] == "published"
    resolve(hub)
    assert _claims(hub, gone) > 0

    _write(roster, [good[0], *good[4:]])
    [result] = ingest(hub, [SOURCE])
    assert result.gate == "published" and result.full_read
    h = tables.record_hold.c
    with hub.engine.connect() as conn:
        retired = set(conn.execute(sa.select(h.source_record_id).where(
            h.reason == "gone", h.released_at.is_(None))).scalars())
    assert retired == gone
    resolve(hub)
    assert _claims(hub, gone) == 0
    assert _count(hub, tables.raw_record) >= len(good) - 1   # retired, not deleted

    _write(roster, good)
    assert _ingest_one(hub)[0] == "published"
    resolve(hub)
    assert _claims(hub, gone) > 0
