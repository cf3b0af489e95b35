"""Migration 0017: the entity index moves from audit_entity rows into the log row, tampering included."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from hub.store.engine import make_engine
from hub.store.migrate import alembic_config, upgrade

PERSON, OTHER, FORGED = "P-0000000000000001", "P-0000000000000002", "P-ffffffffffffffff"


def _migrate(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _index(value: object) -> set[str]:
    return set(json.loads(value) if isinstance(value, str) else value or [])  # type: ignore[arg-type]


def test_rows_take_their_index_from_audit_entity_as_it_stands_and_give_it_back(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0020")
    log = sa.table("audit_log", *(sa.column(c) for c in ("id", "seq", "at", "actor", "role", "action", "status",
                                                        "entity_ids", "fields")))
    entity = sa.table("audit_entity", sa.column("log_id"), sa.column("entity_id"))
    row = {"at": datetime.now(UTC), "actor": "app-a", "role": "consumer", "action": "GET", "status": 200,
           "fields": "{}"}
    with engine.begin() as conn:
        conn.execute(log.insert(), [{**row, "id": 1, "seq": 1, "entity_ids": json.dumps([PERSON, OTHER])},
                                    {**row, "id": 2, "seq": 2, "entity_ids": json.dumps([PERSON])},
                                    {**row, "id": 3, "seq": None, "entity_ids": json.dumps([OTHER])}])
        # row 2's index was tampered with before the upgrade: it must still disagree with the row afterwards
        conn.execute(entity.insert(), [{"log_id": 1, "entity_id": PERSON}, {"log_id": 1, "entity_id": OTHER},
                                       {"log_id": 2, "entity_id": FORGED}])
    upgrade(engine)
    with engine.connect() as conn:
        found = {r.id: r.entity_index for r in conn.execute(sa.text("SELECT id, entity_index FROM audit_log"))}
    assert {i: _index(v) for i, v in found.items() if v is not None} == {1: {PERSON, OTHER}, 2: {FORGED}}
    assert found[3] is None                              # not sealed yet: the seal writes it
    _migrate(engine, "0020", down=True)
    with engine.connect() as conn:
        back = {tuple(r) for r in conn.execute(sa.text("SELECT log_id, entity_id FROM audit_entity"))}
    assert back == {(1, PERSON), (1, OTHER), (2, FORGED)}
    engine.dispose()
