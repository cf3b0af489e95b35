"""statement: one row per (raw record, entity) holding its values as JSON entries; statement_pending goes

Eleven rows per source record, one per value, made the statement table and its four indexes the
bulk of an initial load's cost (bench/results/ingest.md). A row now holds everything one version of a
record states about one entity, as `[attribute, value, value_enc, token, method, source_field, flags]`
entries (hub.statements.entries), and rows are only appended, so nothing waits for an index any more.

Upgrade rebuilds each version's rows: an old statement was stamped with the landing time of every
version that stated it (first_seen, and last_seen each time a newer version repeated it), so it goes
into each version of its record landed between the two, with its clear text or ciphertext, token,
method, field and flags. (A value a record dropped and later stated again goes into the versions
between too: the old table could not tell.) A statement no version's time matches stays with the raw
record it points to. Golden values, conflicts and relations name statements by id, and the ids change:
the upgrade records a failed fusion run, so the next `hub resolve` rebuilds them all. The unique id
index is made first if a killed initial load left it missing, for the pending updates to use.
Downgrade gives each entry its own row again; those rows get new ids (the old ones were keyed hashes of
the value, which a migration cannot compute without the hub's key) and repeated values of two versions
stay two rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:30:00
"""

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_HASH = sa.String(length=32)
_KEY_HASH = sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql')
_CHUNK = 5_000
_ENTRY = ('attribute', 'value', 'value_enc', 'token', 'method', 'source_field', 'flags')
_LONG = ('id', 'source', 'source_record_id', 'entity_type', 'entity_ref', *_ENTRY, 'raw_record_id', 'run_id',
         'first_seen', 'last_seen')
_WIDE = ('id', 'source', 'source_record_id', 'entity_type', 'entity_ref', 'statements', 'raw_record_id', 'run_id',
         'first_seen', 'last_seen')


def _columns(*middle: sa.Column) -> list[sa.Column]:
    """The statement table's columns, both shapes: the record entity, `middle`, then the lineage."""
    return [
        sa.Column('id', _KEY_HASH, nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('source_record_id', sa.String(length=256), nullable=False),
        sa.Column('entity_type', sa.String(length=32), nullable=False),
        sa.Column('entity_ref', sa.String(length=64), nullable=False),
        *middle,
        sa.Column('raw_record_id', _HASH, nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    ]


def _long_columns() -> list[sa.Column]:
    return _columns(
        sa.Column('attribute', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('value_enc', sa.LargeBinary(), nullable=True),
        sa.Column('token', sa.String(length=32), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('source_field', sa.String(length=256), nullable=True),
        sa.Column('flags', sa.String(length=128), nullable=True),
    )


def _wide_columns() -> list[sa.Column]:
    return _columns(sa.Column('statements', sa.Text(), nullable=False))


def _light(name: str, columns: tuple[str, ...], *extra: str) -> sa.TableClause:
    """A table of plain columns, the times typed so that SQLite's text comes back as datetimes."""
    times = {'first_seen', 'last_seen', 'extracted_at', 'started_at', 'finished_at'}
    return sa.table(name, *(sa.column(c, sa.DateTime(timezone=True)) if c in times else sa.column(c)
                            for c in (*extra, *columns)))


def _row_id(raw_record_id: str, entity_ref: str) -> str:
    """As hub.statements.builder names a row: the raw record id is itself a keyed hash."""
    return hashlib.blake2b(f'{raw_record_id}\x1f{entity_ref}'.encode(), digest_size=16).hexdigest()


def _apply_pending(conn: sa.Connection) -> None:
    """The updates a killed initial load left waiting, in order, as restore_indexes would have applied them."""
    long = _light('statement', _LONG)
    pending = _light('statement_pending', _LONG, 'seq')
    for row in conn.execute(sa.select(*(pending.c[c] for c in _LONG)).order_by(pending.c.seq)).mappings():
        updated = conn.execute(long.update().where(long.c.id == row['id']).values(
            last_seen=row['last_seen'], raw_record_id=row['raw_record_id'], run_id=row['run_id']))
        if updated.rowcount == 0:
            conn.execute(long.insert().values(**dict(row)))


def _by_record(rows: Iterator[Any]) -> Iterator[tuple[tuple[str, str], list[Any]]]:
    """Consecutive rows of one (source, source_record_id), from rows ordered by it."""
    key = ('', '')
    group: list[Any] = []
    for row in rows:
        here = (row.source, row.source_record_id)
        if group and here != key:
            yield key, group
            group = []
        key = here
        group.append(row)
    if group:
        yield key, group


def _stream(conn: sa.Connection, query: sa.Select[Any]) -> Iterator[Any]:
    return iter(conn.execute(query.execution_options(stream_results=True, yield_per=_CHUNK)))


def _wide_rows(conn: sa.Connection) -> Iterator[dict[str, Any]]:
    """Each record's statement rows, version by version: a merge of the raw zone and the old statements,
    both read in (source, source_record_id) order."""
    long = _light('statement', _LONG)
    raw = _light('raw_record', ('id', 'source', 'source_record_id', 'run_id', 'extracted_at'))

    def bytewise(column: Any) -> Any:   # the order Python compares the keys in, whatever the database collation
        return column.collate('C') if conn.dialect.name == 'postgresql' else column

    statements = _by_record(_stream(conn, sa.select(*(long.c[c] for c in _LONG)).order_by(
        bytewise(long.c.source), bytewise(long.c.source_record_id), long.c.entity_ref, long.c.attribute,
        long.c.id)))
    versions = _by_record(_stream(conn, sa.select(*raw.c).order_by(
        bytewise(raw.c.source), bytewise(raw.c.source_record_id), raw.c.extracted_at, raw.c.id)))
    pending = next(versions, None)
    for key, group in statements:
        while pending is not None and pending[0] < key:
            pending = next(versions, None)
        record_versions = pending[1] if pending is not None and pending[0] == key else []
        yield from _record_rows(group, record_versions)


def _record_rows(statements: list[Any], versions: list[Any]) -> Iterator[dict[str, Any]]:
    """The rows of one record: each statement in every version landed between its first and last sighting."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(raw_id: str, run_id: str, seen_first: Any, seen_last: Any, s: Any) -> None:
        row = rows.setdefault((raw_id, s.entity_ref), {
            'id': _row_id(raw_id, s.entity_ref), 'source': s.source, 'source_record_id': s.source_record_id,
            'entity_type': s.entity_type, 'entity_ref': s.entity_ref, 'entries': [], 'raw_record_id': raw_id,
            'run_id': run_id, 'first_seen': seen_first, 'last_seen': seen_last})
        row['entries'].append(_entry(s))
        row['first_seen'], row['last_seen'] = min(row['first_seen'], seen_first), max(row['last_seen'], seen_last)

    landed = [(v, _utc(v.extracted_at)) for v in versions]
    for s in statements:
        first, last = _utc(s.first_seen), _utc(s.last_seen)
        stating = [(v, at) for v, at in landed if first <= at <= last]
        for v, at in stating:
            add(v.id, v.run_id, at, at, s)
        if not stating:
            add(s.raw_record_id, s.run_id, first, last, s)
    for row in rows.values():
        row['statements'] = json.dumps(row.pop('entries'), ensure_ascii=False, separators=(',', ':'))
        yield row


def _utc(moment: datetime) -> datetime:
    """SQLite gives times back without an offset (the hub writes them in UTC); PostgreSQL with one."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _entry(s: Any) -> list[Any]:
    enc = None if s.value_enc is None else base64.b64encode(bytes(s.value_enc)).decode()
    return [s.attribute, s.value, enc, s.token, s.method, s.source_field, s.flags]


def _fuse_again(conn: sa.Connection) -> None:
    """Golden values, conflicts and relations name the old statement ids: a failed fusion run makes the
    next fusion rebuild every entity (hub.fuse catches up after a failure)."""
    run = _light('run', ('id', 'stage', 'source', 'started_at', 'finished_at', 'status', 'extracted', 'loaded',
                         'unchanged', 'quarantined', 'quarantined_values', 'statements', 'batches', 'error'))
    if conn.execute(sa.select(run.c.id).where(run.c.stage == 'fuse').limit(1)).first() is None:
        return
    moment = datetime.now(UTC)
    conn.execute(run.insert().values(
        id=uuid.uuid4().hex, stage='fuse', source='all', started_at=moment, finished_at=moment, status='failed',
        extracted=0, loaded=0, unchanged=0, quarantined=0, quarantined_values=0, statements=0, batches=0,
        error='migration 0005: statement ids changed; the next fusion rebuilds every golden record and relation'))


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _CHUNK:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _long_rows(conn: sa.Connection) -> Iterator[dict[str, Any]]:
    wide = _light('statement', _WIDE)
    query = sa.select(*(wide.c[c] for c in _WIDE)).order_by(wide.c.id)
    for row in conn.execute(query.execution_options(stream_results=True, yield_per=_CHUNK)):
        for n, entry in enumerate(json.loads(row.statements)):
            values = dict(zip(_ENTRY, entry, strict=True))
            if values['value_enc'] is not None:
                values['value_enc'] = base64.b64decode(values['value_enc'])
            yield {**values, 'id': _row_id(row.id, str(n)), 'source': row.source,
                   'source_record_id': row.source_record_id, 'entity_type': row.entity_type,
                   'entity_ref': row.entity_ref, 'raw_record_id': row.raw_record_id, 'run_id': row.run_id,
                   'first_seen': row.first_seen, 'last_seen': row.last_seen}


def _create_indexes(long: bool) -> None:
    op.create_index('ix_statement_id', 'statement', ['id'], unique=True)
    op.create_index('ix_statement_source_source_record_id', 'statement', ['source', 'source_record_id'])
    if long:
        op.create_index('ix_statement_entity_type_attribute', 'statement', ['entity_type', 'attribute'])
        op.create_index('ix_statement_token', 'statement', ['token'])
    else:
        op.create_index('ix_statement_entity_type', 'statement', ['entity_type'])


def upgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text('CREATE UNIQUE INDEX IF NOT EXISTS ix_statement_id ON statement (id)'))
    _apply_pending(conn)
    op.drop_table('statement_pending')
    wide = op.create_table('statement_wide', *_wide_columns())
    _insert(conn, wide, _wide_rows(conn))
    _fuse_again(conn)
    op.drop_table('statement')
    op.rename_table('statement_wide', 'statement')
    _create_indexes(long=False)


def downgrade() -> None:
    conn = op.get_bind()
    long = op.create_table('statement_long', *_long_columns())
    _insert(conn, long, _long_rows(conn))
    op.drop_table('statement')
    op.rename_table('statement_long', 'statement')
    _create_indexes(long=True)
    op.create_table(
        'statement_pending',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        *_long_columns(),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_statement_pending')),
    )
