from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from hub.store import make_engine, tables, upgrade
from hub.store.bulk import existing_keys, insert_rows, upsert_rows

COLS = ("id", "source", "source_record_id", "content_hash", "payload", "position", "extracted_at", "run_id")


def _raw(i: int) -> tuple[object, ...]:
    return (f"{i:032x}", "src", f"r{i}", "h" * 32, b"\x00\x01payload", None, datetime.now(UTC), "run1")


def test_insert_upsert_and_lookup_on_each_backend(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine)
    upgrade(engine)   # idempotent
    with engine.begin() as conn:
        insert_rows(conn, tables.raw_record, COLS, [_raw(i) for i in range(2500)])
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(tables.raw_record)).scalar_one() == 2500
        found = existing_keys(conn, tables.raw_record, "id", [f"{i:032x}" for i in range(2490, 2510)])
        assert found == {f"{i:032x}" for i in range(2490, 2500)}
        changed = [(*_raw(i)[:7], "run2") for i in range(2490, 2510)]
        upsert_rows(conn, tables.raw_record, COLS, changed, key="id", update=("run_id",))
    with engine.connect() as conn:
        run_id = tables.raw_record.c.run_id
        counts = dict(conn.execute(select(run_id, func.count()).group_by(run_id)).all())
        assert counts == {"run1": 2490, "run2": 20}
        payload = conn.execute(select(tables.raw_record.c.payload).limit(1)).scalar_one()
        assert bytes(payload) == b"\x00\x01payload"
    engine.dispose()


def test_transaction_rolls_back_whole_batch(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine)
    try:
        with engine.begin() as conn:
            insert_rows(conn, tables.raw_record, COLS, [_raw(i) for i in range(10)])
            insert_rows(conn, tables.raw_record, COLS, [_raw(5)])   # duplicate key: the batch fails
    except Exception:
        pass
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.raw_record)).scalar_one() == 0
    engine.dispose()


AWKWARD = ["tab\there", "line\nbreak", "back\\slash \\N", '"quoted", comma', "\\x00ab", "全角　空格", "\r\n"]


def test_awkward_text_and_bytes_come_back_unchanged(store_url: str) -> None:
    """COPY escapes tabs, newlines, backslashes and look-alikes of NULL; None stays NULL, b"" stays empty."""
    engine = make_engine(store_url)
    upgrade(engine)
    rows = [(f"{i:032x}", "src", text, "h" * 32, text.encode(), None, datetime.now(UTC), "run1")
            for i, text in enumerate(AWKWARD)]
    rows.append((f"{99:032x}", "src", "empty", "h" * 32, b"", None, datetime.now(UTC), "run1"))
    with engine.begin() as conn:
        insert_rows(conn, tables.raw_record, COLS, rows)
    c = tables.raw_record.c
    with engine.connect() as conn:
        got = {r[0]: (r[1], bytes(r[2]), r[3]) for r in conn.execute(
            select(c.id, c.source_record_id, c.payload, c.position))}
    assert got == {row[0]: (row[2], row[4], None) for row in rows}
    engine.dispose()
