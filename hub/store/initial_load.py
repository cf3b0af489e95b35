"""Initial load: fill an empty store without maintaining the indexes of its two largest tables row by row.

The first ingest of a district writes millions of rows. Keeping six B-trees up to date with
random inserts (the unique index of the keyed-hash ids worst of all) costs more than the rows
themselves; building each index once at the end is a sort. So when the store holds no records yet,
every index of the raw zone and the statements is dropped for the load and created again when it
ends, whatever way it ends. A process killed during the load leaves them missing; `restore_indexes`
(run at the start of every ingest and resolve) creates them again before anything relies on them.

While the indexes are gone, nothing may look raw records up by id: an ingest in this mode knows, from
the store being empty at its start, that only records of this very run can be there. Statements are
only ever appended (one row per record entity version), so no write of the load needs an index.

The first publication fills the read model's tables the same way, inside its own transaction
(`indexes_built_after`): the drop, the load and the builds commit together, so nothing is left to restore.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Index, Table, inspect, select

from hub.store import tables

log = logging.getLogger(__name__)

DEFERRED_TABLES = (tables.raw_record, tables.statement)


def deferred_indexes(of: Sequence[Table] = DEFERRED_TABLES) -> list[Index]:
    """The indexes a load into empty tables drops (by default an initial load's: all of the raw zone's and the
    statements'), unique ones first. Primary keys stay."""
    return [index for table in of for index in sorted(table.indexes, key=lambda ix: (not ix.unique, str(ix.name)))]


def drop_indexes(conn: Connection, indexes: Sequence[Index]) -> None:
    for index in indexes:
        index.drop(conn)


def create_indexes(conn: Connection, indexes: Sequence[Index]) -> None:
    for index in indexes:
        index.create(conn)


@contextmanager
def indexes_built_after(conn: Connection, of: Sequence[Table]) -> Iterator[None]:
    """Within the caller's transaction: drop the secondary indexes of `of`, let the caller bulk-load, then build
    them again, each a sort of the loaded rows instead of one B-tree insert per row.

    For tables that are empty (or nearly) before the load. A failure before the end rolls the drop back with
    the load (DDL is transactional on PostgreSQL and SQLite), so the indexes are never left missing.
    """
    indexes = deferred_indexes(of)
    drop_indexes(conn, indexes)
    yield
    create_indexes(conn, indexes)


def restore_indexes(engine: Engine, *, analyze: bool = False) -> list[str]:
    """Create whichever deferred index is missing (then, with `analyze`, refresh the two tables'
    statistics); the names created.

    On PostgreSQL each table's indexes build on a connection of their own, the raw zone's beside the
    statements', each table analyzed once its indexes stand: on a loaded 1M store the rebuild took
    4.5 s instead of 4.9 s one after the other (bench/results/ingest.md). The builds use the server's own
    maintenance_work_mem: at 11.8M statements, 512MB made them slower than the default 64MB, not faster.
    """
    with engine.connect() as conn:
        inspector = inspect(conn)
        present = {ix["name"] for table in DEFERRED_TABLES for ix in inspector.get_indexes(table.name)}
    missing = {table: [ix for ix in deferred_indexes() if ix.table is table and ix.name not in present]
               for table in DEFERRED_TABLES}
    work = [(table, indexes) for table, indexes in missing.items() if indexes or analyze]
    if engine.dialect.name == "postgresql" and len(work) > 1:
        with ThreadPoolExecutor(len(work), thread_name_prefix="restore-indexes") as pool:
            list(pool.map(lambda item: _restore_table(engine, *item, analyze=analyze), work))
    else:
        for table, indexes in work:
            _restore_table(engine, table, indexes, analyze=analyze)
    created = [str(ix.name) for indexes in missing.values() for ix in indexes]
    if created:
        log.info("store: created index(es) %s", ", ".join(created))
    return created


def _restore_table(engine: Engine, table: Table, indexes: list[Index], *, analyze: bool) -> None:
    if indexes:
        with engine.begin() as conn:
            create_indexes(conn, indexes)
    if analyze:
        refresh_statistics(engine, [table])


def refresh_statistics(engine: Engine, of: Sequence[Table] = DEFERRED_TABLES) -> None:
    """Refresh PostgreSQL's planner statistics of the tables an ingest grows (nothing on other backends).

    The lookups of an ingest into a non-empty store (known raw ids) and the stages
    after it need index plans; a server with autovacuum off (seen here) never analyzes a table that
    grew from empty to millions of rows within one run.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "ANALYZE " + ", ".join(table.name for table in of))


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
        drop_indexes(conn, deferred_indexes())
    log.info("store: empty, loading without secondary indexes; they are built at the end")
    try:
        yield True
    finally:
        restore_indexes(engine, analyze=True)
