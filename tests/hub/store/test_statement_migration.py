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
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
        rows = stored_statements(conn)
        stored = {r.id: r for r in conn.execute(sa.select(tables.statement))}
    # one row per (raw record, entity): raw1 still holds the first phone, raw2 the second phone and the
    # relation, raw3 the name the pending update moved there
    assert set(stored) == {row_id("raw1", "person"), row_id("raw2", "person"), row_id("raw3", "person")}
    by_raw = {raw: sorted(group["attribute"]) for raw, group in rows.groupby("raw_record_id")}
    assert by_raw == {"raw1": ["phone"], "raw2": ["phone", "resides_at"], "raw3": ["name"]}
    phones = rows[rows["attribute"] == "phone"].set_index("raw_record_id")
    assert phones.loc["raw1", "value_enc"] == b"\x00cipher1" and phones.loc["raw2", "token"] == "tok2"
    assert phones["value"].isna().all()
    raw3 = stored[row_id("raw3", "person")]
    assert (raw3.run_id, raw3.first_seen.day, raw3.last_seen.day) == ("run3", 1, 3)
    entries = json.loads(stored[row_id("raw1", "person")].statements)
    assert entries == [["phone", None, base64.b64encode(b"\x00cipher1").decode(), "tok1", "mapped", "PHONE", None]]

    _downgrade(engine, "0004")
    with engine.connect() as conn:
        back = [dict(r._mapping) for r in conn.execute(sa.select(long))]
        assert conn.execute(sa.select(sa.func.count()).select_from(pending)).scalar() == 0
    assert sorted((r["raw_record_id"], r["attribute"], r["value"], r["token"]) for r in back) == [
        ("raw1", "phone", None, "tok1"), ("raw2", "phone", None, "tok2"), ("raw2", "resides_at", "house", None),
        ("raw3", "name", "张伟", None)]
    assert {bytes(r["value_enc"]) for r in back if r["value_enc"] is not None} == {b"\x00cipher1", b"\x00cipher2"}
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), tables.metadata) == []
        assert len(stored_statements(conn)) == 4
