"""What auditors do with the log: who looked at an entity, by whom, when; export; prune past retention."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.access import AccessKeys, Policy
from hub.audit import RETENTION, AuditEntry, AuditQueryError, append, export, prune, query, seal, verify
from hub.audit.log import _indexed
from hub.pipeline import Hub
from hub.store import tables
from hub.store.runs import now

OPERATOR = Policy.operator("tester")
AUDITOR = Policy(actor="app-auditor", role="auditor", purpose="审计", clearance=OPERATOR.clearance,
                 entity_types=frozenset())
PERSON, OTHER = "P-00000000000000aa", "P-00000000000000bb"


def _append(hub: Hub, keys: AccessKeys, days_ago: float, actor: str, entity_ids: list[str]) -> int:
    entry = AuditEntry(actor=actor, role="consumer", purpose="核查", action="GET /api/v1/persons/{id}", status=200,
                       entity_ids=entity_ids, fields={"name": "masked", "phone": "withheld"},
                       at=now() - timedelta(days=days_ago))
    with hub.engine.begin() as conn:
        return append(conn, entry)


def _history(hub: Hub, keys: AccessKeys) -> None:
    """Six rows a year old, then four of last week, from two apps about two persons."""
    for i in range(6):
        _append(hub, keys, 400 - i, "app-a" if i % 2 else "app-b", [PERSON] if i % 3 else [PERSON, OTHER])
    for i in range(4):
        _append(hub, keys, 7 - i, "app-a", [OTHER] if i % 2 else [PERSON])


def test_who_looked_at_a_person_by_whom_and_when(hub: Hub, keys: AccessKeys) -> None:
    _history(hub, keys)
    about = query(hub.engine, entity_ids=[PERSON])
    assert [r.id for r in about.rows] == [9, 7, 6, 5, 4, 3, 2, 1] and about.next_cursor is None
    assert about.rows[0].fields == {"name": "masked", "phone": "withheld"} and about.rows[0].purpose == "核查"
    assert [r.id for r in query(hub.engine, entity_id=OTHER).rows] == [10, 8, 4, 1]
    by_app = query(hub.engine, actor="app-a", since=now() - timedelta(days=30))
    assert [r.id for r in by_app.rows] == [10, 9, 8, 7]
    first = query(hub.engine, entity_ids=[PERSON, OTHER], limit=4)
    second = query(hub.engine, entity_ids=[PERSON, OTHER], limit=4, cursor=first.next_cursor)
    third = query(hub.engine, entity_ids=[PERSON, OTHER], limit=4, cursor=second.next_cursor)
    assert [r.id for r in first.rows + second.rows + third.rows] == list(range(10, 0, -1))
    assert third.next_cursor is None
    old = query(hub.engine, until=now() - timedelta(days=100))
    assert [r.id for r in old.rows] == [6, 5, 4, 3, 2, 1]
    with pytest.raises(AuditQueryError, match="cursor"):
        query(hub.engine, cursor="bm90IGEgY3Vyc29y")
    with pytest.raises(AuditQueryError, match="limit"):
        query(hub.engine, limit=0)


def test_who_looked_is_the_same_before_and_after_the_seal_writes_the_index(hub: Hub, keys: AccessKeys) -> None:
    _history(hub, keys)
    log = tables.audit_log
    with hub.engine.connect() as conn:          # a request writes one row; the seal writes its entity index
        assert conn.execute(sa.select(sa.func.count()).where(log.c.entity_index.is_not(None))).scalar_one() == 0
    pending = {ids: [r.id for r in query(hub.engine, entity_ids=list(ids)).rows]
               for ids in [(PERSON,), (OTHER,), (PERSON, OTHER), ("P-%",)]}
    seal(hub.engine, keys)
    with hub.engine.connect() as conn:
        pairs = {(r.id, entity_id) for r in conn.execute(sa.select(log.c.id, log.c.entity_index))
                 for entity_id in (json.loads(r.entity_index) if isinstance(r.entity_index, str) else r.entity_index)}
    assert pairs == {(1, PERSON), (1, OTHER), (2, PERSON), (3, PERSON), (4, PERSON), (4, OTHER), (5, PERSON),
                     (6, PERSON), (7, PERSON), (8, OTHER), (9, PERSON), (10, OTHER)}
    assert {ids: [r.id for r in query(hub.engine, entity_ids=list(ids)).rows] for ids in pending} == pending
    assert pending[(PERSON,)] == [9, 7, 6, 5, 4, 3, 2, 1] and pending[("P-%",)] == []
    assert verify(hub.engine, keys).ok


def test_who_looked_reads_the_entity_index_through_its_gin_index(hub: Hub, keys: AccessKeys) -> None:
    _history(hub, keys)
    seal(hub.engine, keys)
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads the JSON list with json_each: no index to check")
    with hub.engine.begin() as conn:     # a handful of rows: a sequential scan would win without this
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        compiled = _indexed("postgresql", [PERSON]).compile(conn)
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    assert "ix_audit_log_entity_index" in plan, plan


def test_export_writes_json_lines_with_hashes_privately(hub: Hub, keys: AccessKeys, tmp_path: Path) -> None:
    _history(hub, keys)
    seal(hub.engine, keys)
    result = export(hub.engine, tmp_path / "out" / "audit.jsonl", since=now() - timedelta(days=30))
    assert (result.rows, result.first_seq, result.last_seq) == (4, 7, 10)
    lines = [json.loads(line) for line in result.path.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [7, 8, 9, 10]
    assert lines[1]["prev_hash"] == lines[0]["row_hash"] and lines[0]["entity_ids"] == [PERSON]
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert not list(result.path.parent.glob(".*partial"))


def test_prune_keeps_six_months_and_the_chain_verifiable(hub: Hub, keys: AccessKeys) -> None:
    _history(hub, keys)
    with pytest.raises(AuditQueryError, match="kept at least six months"):
        prune(hub.engine, keys, now() - RETENTION + timedelta(days=1), by=AUDITOR)
    result = prune(hub.engine, keys, now() - timedelta(days=300), by=AUDITOR)
    assert (result.rows_removed, result.pruned_through, result.checkpoint_seq) == (6, 6, 11)
    checked = verify(hub.engine, keys)
    assert checked.ok and checked.start_seq == 7 and checked.rows_checked == 5 and checked.head_seq == 11
    [checkpoint] = query(hub.engine, limit=1).rows
    assert checkpoint.actor == "app-auditor" and checkpoint.detail is not None
    assert checkpoint.detail["pruned_rows"] == 6
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.min(tables.audit_log.c.id))).scalar_one() == 7
    again = prune(hub.engine, keys, now() - timedelta(days=300), by=AUDITOR)
    assert again.rows_removed == 0 and verify(hub.engine, keys).head_seq == 11     # nothing older: no checkpoint
    _append(hub, keys, 0, "app-a", [PERSON])
    assert verify(hub.engine, keys).ok

    with hub.engine.begin() as conn:          # after the prune the chain still tells a removed row
        conn.execute(sa.delete(tables.audit_log).where(tables.audit_log.c.seq == 7))
    broken = verify(hub.engine, keys)
    assert not broken.ok and broken.first_bad_seq == 7
    with pytest.raises(AuditQueryError, match="does not verify"):
        prune(hub.engine, keys, now() - timedelta(days=300), by=AUDITOR)


def test_prune_of_every_row_leaves_the_checkpoint_as_the_chain(hub: Hub, keys: AccessKeys) -> None:
    for i in range(3):
        _append(hub, keys, 500 - i, "app-a", [PERSON])
    result = prune(hub.engine, keys, now() - timedelta(days=200), by=AUDITOR)
    assert (result.rows_removed, result.pruned_through, result.checkpoint_seq) == (3, 3, 4)
    checked = verify(hub.engine, keys)
    assert checked.ok and (checked.start_seq, checked.rows_checked) == (4, 1)
    with hub.engine.begin() as conn:          # a row of the pruned range put back is an insertion
        conn.execute(tables.audit_log.insert().values(**{
            **{c: v for c, v in conn.execute(sa.select(tables.audit_log)).mappings().one().items()},
            "id": 99, "seq": 2}))
    assert verify(hub.engine, keys).first_bad_seq == 2
