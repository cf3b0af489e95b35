"""G10: the audit chain. Every kind of tampering with the stored log (edit, deletion, insertion, reordering,
a cut tail, a re-hash without the key) is found by `verify`, which names the first bad row; appends run in
the caller's transaction and fail it when they fail; concurrent appenders keep one chain."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from hub.access import AccessKeys, Policy
from hub.audit import AuditEntry, AuditValueError, Sealer, append, query, record, seal, verify
from hub.audit.chain import pending_query, row_hash
from hub.pipeline import Hub
from hub.store import tables

OPERATOR = Policy.operator("tester")
ROWS = 10
LOG, HEAD = tables.audit_log, tables.audit_head


def _fill(hub: Hub, keys: AccessKeys, n: int = ROWS) -> None:
    for i in range(1, n + 1):
        record(hub.engine, keys, OPERATOR, "hub find", entity_ids=[f"P-{i:016x}"], fields={"name": "masked"},
               detail={"i": i})


def _row(conn: Connection, seq: int) -> dict[str, Any]:
    return dict(conn.execute(sa.select(LOG).where(LOG.c.seq == seq)).mappings().one())


def _drop(conn: Connection, where: sa.ColumnElement[bool]) -> None:
    """Delete log rows (their entity index goes with them), as someone covering their tracks would."""
    conn.execute(sa.delete(LOG).where(where))


def _edit(conn: Connection) -> None:
    conn.execute(sa.update(LOG).where(LOG.c.seq == 5).values(actor="someone-else"))


def _edit_and_rehash_without_the_key(conn: Connection) -> None:
    row = _row(conn, 5) | {"status": 403}
    fake = hashlib.sha256(row["prev_hash"].encode() + str(row).encode()).hexdigest()
    conn.execute(sa.update(LOG).where(LOG.c.seq == 5).values(status=403, row_hash=fake))
    conn.execute(sa.update(LOG).where(LOG.c.seq == 6).values(prev_hash=fake))


def _edit_and_rehash_under_another_key(conn: Connection) -> None:
    other = b"\x01" * 32
    prev = _row(conn, 4)["row_hash"]
    for seq in range(5, ROWS + 1):          # the whole rest of the chain, consistently, under a wrong key
        row = _row(conn, seq) | ({"detail": '{"i":99}'} if seq == 5 else {}) | {"prev_hash": prev}
        row["row_hash"] = row_hash(other, prev, row)
        conn.execute(sa.update(LOG).where(LOG.c.seq == seq).values(**row))
        prev = row["row_hash"]
    conn.execute(sa.update(HEAD).values(row_hash=prev))


def _delete(conn: Connection) -> None:
    _drop(conn, LOG.c.seq == 5)


def _insert(conn: Connection) -> None:
    """A forged row slipped in as row 5: the rows from 5 on move one up, the head too."""
    for seq in range(ROWS, 4, -1):
        conn.execute(sa.update(LOG).where(LOG.c.seq == seq).values(seq=seq + 1))
    forged = _row(conn, 4) | {"id": 1000, "seq": 5, "actor": "nobody", "prev_hash": _row(conn, 4)["row_hash"]}
    conn.execute(LOG.insert().values(**forged))
    conn.execute(sa.update(HEAD).values(seq=ROWS + 1))


def _append_beyond_the_head(conn: Connection) -> None:
    last = _row(conn, ROWS)
    conn.execute(LOG.insert().values(**(last | {"id": 1000, "seq": ROWS + 1, "prev_hash": last["row_hash"]})))


def _reorder(conn: Connection) -> None:
    """Rows 4 and 5 swap places: each keeps its content and hashes, under the other's seq."""
    conn.execute(sa.update(LOG).where(LOG.c.seq == 4).values(seq=-4))
    conn.execute(sa.update(LOG).where(LOG.c.seq == 5).values(seq=4))
    conn.execute(sa.update(LOG).where(LOG.c.seq == -4).values(seq=5))


def _cut_tail(conn: Connection) -> None:
    _drop(conn, LOG.c.seq >= 9)


def _cut_first(conn: Connection) -> None:
    _drop(conn, LOG.c.seq == 1)


def _replace_last(conn: Connection) -> None:
    last = _row(conn, ROWS)
    conn.execute(sa.update(LOG).where(LOG.c.seq == ROWS).values(
        **(_row(conn, ROWS - 1) | {"id": last["id"], "seq": ROWS})))


def _unindex_an_entity(conn: Connection) -> None:
    other = ["P-ffffffffffffffff"]
    conn.execute(sa.update(LOG).where(LOG.c.seq == 5).values(
        entity_index=other if conn.dialect.name == "postgresql" else json.dumps(other)))


TAMPERING: dict[str, tuple[Callable[[Connection], None], int, str]] = {
    "edit": (_edit, 5, "row 5 was altered"),
    "edit, re-hashed without the key": (_edit_and_rehash_without_the_key, 5, "row 5 was altered"),
    "edit, re-hashed under another key": (_edit_and_rehash_under_another_key, 5, "row 5 was altered"),
    "delete": (_delete, 5, "row 5 is missing"),
    "insert": (_insert, 5, "row 5 was altered"),
    "insert beyond the head": (_append_beyond_the_head, ROWS + 1, "lies beyond the head"),
    "reorder": (_reorder, 4, "row 4 was altered"),
    "delete the tail": (_cut_tail, 9, "rows 9–10 missing"),
    "delete the first row": (_cut_first, 1, "row 1 is missing"),
    "replace the last row": (_replace_last, ROWS, "row 10 was altered"),
    "change the entity index": (_unindex_an_entity, 5, "entity index of row 5"),
}


@pytest.mark.reliability("G10")
@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_found_and_the_first_bad_row_named(
        hub: Hub, keys: AccessKeys, kind: str, record_property: Callable[[str, object], None]) -> None:
    _fill(hub, keys)
    clean = verify(hub.engine, keys)
    assert clean.ok and clean.rows_checked == ROWS and clean.head_seq == ROWS and clean.problem is None
    tamper, first_bad, problem = TAMPERING[kind]
    with hub.engine.begin() as conn:
        tamper(conn)
    found = verify(hub.engine, keys)
    record_property("tamperings tried", 1)
    record_property("tamperings undetected", int(found.ok))
    assert not found.ok
    assert found.first_bad_seq == first_bad and found.problem is not None and problem in found.problem, found


@pytest.mark.reliability("G10")
def test_a_cut_tail_with_its_head_set_back_is_found_against_a_noted_anchor(
        hub: Hub, keys: AccessKeys, record_property: Callable[[str, object], None]) -> None:
    _fill(hub, keys)
    noted = verify(hub.engine, keys)
    anchor = (noted.head_seq, noted.head_hash)
    _fill(hub, keys, 2)
    assert verify(hub.engine, keys, anchor=anchor).ok
    with hub.engine.begin() as conn:       # rows 9 to 12 gone, the head moved back to row 8: consistent
        eight = _row(conn, 8)
        _drop(conn, LOG.c.seq >= 9)
        conn.execute(sa.update(HEAD).values(seq=8, row_hash=eight["row_hash"]))
    assert verify(hub.engine, keys).ok          # the chain alone cannot tell (see hub.audit.chain)
    found = verify(hub.engine, keys, anchor=anchor)
    record_property("tamperings tried", 1)
    record_property("tamperings undetected", int(found.ok))
    assert not found.ok and found.first_bad_seq == 9 and "were cut and the head set back" in (found.problem or "")
    with hub.engine.begin() as conn:       # or the rows after 8 rewritten under a wrong key: the anchor row differs
        conn.execute(LOG.insert().values(**(eight | {"id": 1000, "seq": 9, "actor": "x"})))
        conn.execute(LOG.insert().values(**(eight | {"id": 1001, "seq": 10, "actor": "y"})))
    assert verify(hub.engine, keys, anchor=anchor).first_bad_seq == 9


def test_an_append_belongs_to_the_callers_transaction(hub: Hub, keys: AccessKeys) -> None:
    _fill(hub, keys, 2)
    with pytest.raises(AuditValueError, match="resident ID or phone"), hub.engine.begin() as conn:
        conn.execute(tables.consumer.insert().values(
            id="app-1", name="app", purpose="p", role="consumer", clearance="internal", entity_types="[]",
            state="active", created_at=sa.func.current_timestamp()))
        append(conn, AuditEntry.of(OPERATOR, "hub find", detail={"query": "13800138000"}))
    with pytest.raises(sa.exc.DBAPIError), hub.engine.begin() as conn:   # a failed read is not logged either
        append(conn, AuditEntry.of(OPERATOR, "hub find", entity_ids=["P-0000000000000001"]))
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert seal(hub.engine, keys) == 0
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.consumer)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(LOG)).scalar_one() == 2
    assert verify(hub.engine, keys).ok and verify(hub.engine, keys).rows_checked == 2
    record(hub.engine, keys, OPERATOR, "hub find")
    assert verify(hub.engine, keys).head_seq == 3


def test_appended_rows_wait_unsealed_then_join_the_chain_in_order(hub: Hub, keys: AccessKeys) -> None:
    _fill(hub, keys, 2)
    with hub.engine.begin() as conn:
        ids = [append(conn, AuditEntry.of(OPERATOR, "hub find", entity_ids=[f"P-{i:016x}"])) for i in range(3)]
    waiting = verify(hub.engine, keys)
    assert waiting.ok and waiting.rows_checked == 2 and waiting.pending == 3
    assert waiting.oldest_pending_at is not None
    assert [r.seq for r in query(hub.engine, limit=3).rows] == [None, None, None]
    assert seal(hub.engine, keys) == 3
    sealed = verify(hub.engine, keys)
    assert sealed.ok and sealed.rows_checked == 5 and sealed.pending == 0
    assert [r.seq for r in query(hub.engine, limit=3).rows] == [5, 4, 3]
    assert [r.id for r in query(hub.engine, limit=3).rows] == ids[::-1]


def test_the_sealer_reads_the_pending_rows_through_their_own_index(hub: Hub, keys: AccessKeys) -> None:
    """Sealing a row leaves its unsealed version's entry in `seq`'s index until a vacuum, so a lookup of NULL seq
    through it grew with the log; the sealer's lookup reads the partial pending index instead, and on PostgreSQL
    as an index scan (which marks the sealed rows' entries dead for the next tick), never a bitmap scan."""
    _fill(hub, keys, 3)
    with hub.engine.begin() as conn:
        append(conn, AuditEntry.of(OPERATOR, "hub find", entity_ids=["P-00000000000000aa"]))
    with hub.engine.begin() as conn:
        compiled = pending_query(10).compile(conn, compile_kwargs={"literal_binds": True})
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))   # as seal_pending does
            plan = "\n".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {compiled}")))
            assert "Index Scan using ix_audit_log_pending" in plan, plan
        else:
            # SQLite updates an index entry in place (no dead versions): any index of the pending rows will do
            plan = "\n".join(str(r[-1]) for r in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert plan.startswith("SEARCH audit_log USING INDEX"), plan
        assert [r["entity_ids"] for r in conn.execute(pending_query(10)).mappings()] == ['["P-00000000000000aa"]']
    assert seal(hub.engine, keys) == 1
    with hub.engine.connect() as conn:
        assert conn.execute(pending_query(10)).all() == []
    assert verify(hub.engine, keys).ok


@pytest.mark.reliability("G10")
def test_concurrent_appenders_and_a_sealer_keep_one_chain(hub: Hub, keys: AccessKeys,
                                                          record_property: Callable[[str, object], None]) -> None:
    per_thread, errors = 60, []

    def appender(name: str) -> None:
        try:
            for i in range(per_thread):
                with hub.engine.begin() as conn:
                    append(conn, AuditEntry.of(Policy.operator(name), "GET /api/v1/persons/{id}", status=200,
                                               entity_ids=[f"P-{i:016x}"]))
        except Exception as exc:   # reported below: a thread's exception would otherwise vanish
            errors.append(exc)

    sealer = Sealer(hub.engine, keys, interval=0.02).start()
    threads = [threading.Thread(target=appender, args=(f"worker-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sealer.stop()
    assert errors == []
    result = verify(hub.engine, keys)
    record_property("rows appended concurrently", result.rows_checked)
    assert result.ok and result.rows_checked == 3 * per_thread and result.head_seq == 3 * per_thread
    assert result.pending == 0
    assert len(query(hub.engine, entity_ids=["P-0000000000000000"]).rows) == 3
