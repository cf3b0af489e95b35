"""Initial load: fill an empty store without maintaining the indexes of its two largest tables row by row.

The first ingest of a district writes millions of statements. Keeping four B-trees up to date with
random inserts (the unique index of the keyed-hash ids worst of all) costs more than the rows
themselves; building each index once at the end is a sort. So when the store holds no records yet,
every index of the raw zone and the statements is dropped for the load and created again when it
ends, whatever way it ends. A process killed during the load leaves them missing; `restore_indexes`
(run at the start of every ingest and resolve) creates them again before anything relies on them.

While the indexes are gone, nothing may look statements up by source record or id: an ingest in this
mode knows, from the store being empty at its start, that only records of this very run can have any.
The one write that needs the id index, updating the statements of a record met again in the same
run, waits in `statement_pending` and is applied by `restore_indexes`, in the order it was written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Index, delete, inspect, select

from hub.store import tables
from hub.store.bulk import upsert_rows

log = logging.getLogger(__name__)

DEFERRED_TABLES = (tables.raw_record, tables.statement)


STATEMENT_UPDATES = ("last_seen", "raw_record_id", "run_id")
"""What a statement seen again takes from its newer record version (hub.ingest.landing does the same)."""


def deferred_indexes() -> list[Index]:
    """The indexes an initial load drops: all of the raw zone's and the statements', unique ones first."""
    return [index for table in DEFERRED_TABLES
            for index in sorted(table.indexes, key=lambda ix: (not ix.unique, str(ix.name)))]


def restore_indexes(engine: Engine) -> list[str]:
    """Create whichever deferred index is missing, then apply pending statement updates; the names created.

    PostgreSQL builds them with the server's own maintenance_work_mem: at 11.8M statements, 512MB made
    the builds slower than the default 64MB, not faster (bench/results/ingest.md).
    """
    created = []
    with engine.begin() as conn:
        inspector = inspect(conn)
        present = {ix["name"] for table in DEFERRED_TABLES for ix in inspector.get_indexes(table.name)}
        for index in deferred_indexes():
            if index.name not in present:
                index.create(conn)
                created.append(str(index.name))
        applied = apply_pending_statements(conn)
    if created:
        log.info("store: created index(es) %s", ", ".join(created))
    if applied:
        log.info("store: applied %d pending statement update(s)", applied)
    return created


def apply_pending_statements(conn: Connection) -> int:
    """Upsert the statements waiting in statement_pending, oldest first, then empty it; how many there were.

    Consecutive rows go in one bulk upsert until an id repeats (an upsert may touch a row once), so
    a statement met in three versions ends with the last one's run and raw record, as it would have
    had the index been there all along.
    """
    pending = tables.statement_pending
    columns = [c.name for c in tables.statement.columns]
    rows = [tuple(r) for r in conn.execute(select(*(pending.c[name] for name in columns)).order_by(pending.c.seq))]
    if not rows:
        return 0
    chunk: list[tuple[object, ...]] = []
    ids: set[object] = set()
    for row in rows:
        if row[0] in ids:
            upsert_rows(conn, tables.statement, columns, chunk, key="id", update=STATEMENT_UPDATES)
            chunk, ids = [], set()
        chunk.append(row)
        ids.add(row[0])
    upsert_rows(conn, tables.statement, columns, chunk, key="id", update=STATEMENT_UPDATES)
    conn.execute(delete(pending))
    return len(rows)


def refresh_statistics(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics of the tables an ingest grows (nothing on other backends).

    The lookups of an ingest into a non-empty store (known raw ids, known record ids) and the stages
    after it need index plans; a server with autovacuum off (seen here) never analyzes a table that
    grew from empty to millions of rows within one run.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "ANALYZE " + ", ".join(table.name for table in DEFERRED_TABLES))


def store_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return all(conn.execute(select(table.c.id).limit(1)).first() is None for table in DEFERRED_TABLES)


@contextmanager
def initial_load(engine: Engine) -> Iterator[bool]:
    """Yield True when this load fills an empty store (its secondary indexes dropped meanwhile).

    Such a load answers its own lookups from memory, so it refreshes the planner statistics once, at
    the end, instead of every few batches (see hub.ingest.runner).
    """
    restore_indexes(engine)
    if not store_is_empty(engine):
        yield False
        return
    with engine.begin() as conn:
        for index in deferred_indexes():
            index.drop(conn)
    log.info("store: empty, loading without secondary indexes; they are built at the end")
    try:
        yield True
    finally:
        restore_indexes(engine)
        refresh_statistics(engine)
