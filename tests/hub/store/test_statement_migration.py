"""Migration 0005: per-value statements become one row per record entity version, and back, keeping every value."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine

from hub.statements.entries import row_id, stored_statements
from hub.store import tables
from hub.store.migrate import alembic_config, upgrade
from hub.store.runs import latest_status

LONG = ("id", "source", "source_record_id", "entity_type", "entity_ref", "attribute", "value", "value_enc", "token",
        "method", "source_field", "flags", "raw_record_id", "run_id", "first_seen", "last_seen")


def _day(n: int) -> datetime:
    return datetime(2026, 1, n, tzinfo=UTC)


def _long(statement_id: str, raw: str, attribute: str, value: str | None, day: int,
          **more: object) -> dict[str, object]:
    row: dict[str, object] = {"id": statement_id, "source": "s", "source_record_id": "r1", "entity_type": "person",
                              "entity_ref": "person", "attribute": attribute, "value": value, "value_enc": None,
                              "token": None, "method": "mapped", "source_field": attribute.upper(), "flags": None,
                              "raw_record_id": raw, "run_id": f"run{day}", "first_seen": _day(day),
                              "last_seen": _day(day)}
    return {**row, **more}


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_engine(store_url)
    yield engine
    engine.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_statements_survive_the_migration_both_ways(engine: Engine) -> None:
    upgrade(engine, "0004")
    long = sa.table("statement", *(sa.column(c) for c in LONG))
    pending = sa.table("statement_pending", *(sa.column(c) for c in LONG))
    with engine.begin() as conn:
        conn.execute(long.insert(), [
            # version raw1 said name 张伟 and phone …000; version raw2 repeated the name, changed the phone
            _long("name", "raw2", "name", "张伟", 1, last_seen=_day(2), run_id="run2"),
            _long("phone1", "raw1", "phone", None, 1, value_enc=b"\x00cipher1", token="tok1"),
            _long("phone2", "raw2", "phone", None, 2, value_enc=b"\x00cipher2", token="tok2"),
            _long("rel", "raw2", "resides_at", "house", 2, method="relation", source_field=None),
        ])
        # a killed initial load left one update waiting: version raw3 repeated the name
        conn.execute(pending.insert(), [{**_long("name", "raw3", "name", "张伟", 3), "seq": 1}])
        conn.execute(tables.raw_record.insert(), [
            {"id": f"raw{n}", "source": "s", "source_record_id": "r1", "content_hash": f"h{n}", "payload": b"x",
             "extracted_at": _day(n), "run_id": f"run{n}"} for n in (1, 2, 3)])
        conn.execute(tables.run.insert().values(id="fuse1", stage="fuse", source="all", started_at=_day(3),
                                                 status="succeeded"))
        conn.execute(sa.text("DROP INDEX ix_statement_id"))      # as a killed initial load leaves it
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
        rows = stored_statements(conn)
        stored = {r.id: r for r in conn.execute(sa.select(tables.statement))}
    # every version gets every value it stated: the name (seen from version 1 to 3) in all three, each
    # phone in its own version, the relation in version 2
    assert set(stored) == {row_id("raw1", "person"), row_id("raw2", "person"), row_id("raw3", "person")}
    by_raw = {raw: sorted(group["attribute"]) for raw, group in rows.groupby("raw_record_id")}
    assert by_raw == {"raw1": ["name", "phone"], "raw2": ["name", "phone", "resides_at"], "raw3": ["name"]}
    phones = rows[rows["attribute"] == "phone"].set_index("raw_record_id")
    assert phones.loc["raw1", "value_enc"] == b"\x00cipher1" and phones.loc["raw2", "token"] == "tok2"
    assert phones["value"].isna().all()
    for n in (1, 2, 3):                                        # a row is seen when its version landed
        row = stored[row_id(f"raw{n}", "person")]
        assert (row.run_id, row.first_seen.day, row.last_seen.day) == (f"run{n}", n, n)
    entries = json.loads(stored[row_id("raw1", "person")].statements)
    assert entries[1] == ["phone", None, base64.b64encode(b"\x00cipher1").decode(), "tok1", "mapped", "PHONE", None]
    # golden values and relations named the old ids: the next fusion rebuilds them all
    assert latest_status(engine, "fuse", "all") == "failed"

    _downgrade(engine, "0004")
    with engine.connect() as conn:
        back = [dict(r._mapping) for r in conn.execute(sa.select(long))]
        assert conn.execute(sa.select(sa.func.count()).select_from(pending)).scalar() == 0
    assert sorted((r["raw_record_id"], r["attribute"], r["value"], r["token"]) for r in back) == [
        ("raw1", "name", "张伟", None), ("raw1", "phone", None, "tok1"), ("raw2", "name", "张伟", None),
        ("raw2", "phone", None, "tok2"), ("raw2", "resides_at", "house", None), ("raw3", "name", "张伟", None)]
    assert {bytes(r["value_enc"]) for r in back if r["value_enc"] is not None} == {b"\x00cipher1", b"\x00cipher2"}
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
        assert len(stored_statements(conn)) == 6
