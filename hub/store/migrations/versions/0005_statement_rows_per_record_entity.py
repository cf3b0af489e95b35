"""statement: one row per (raw record, entity) holding its values as JSON entries; statement_pending goes

Eleven rows per source record, one per value, made the statement table and its four indexes the
bulk of an initial load's cost (bench/results/ingest.md). A row now holds everything one version of a
record states about one entity, as `[attribute, value, value_enc, token, method, source_field, flags]`
entries (hub.statements.entries), and rows are only appended, so nothing waits for an index any more.

Upgrade groups the existing statements by the raw record they point to and their entity: each value
keeps its clear text or ciphertext, token, method, field, flags and times. Downgrade gives each entry
its own row again; those rows get new ids (the old ones were keyed hashes of the value, which a
migration cannot compute without the hub's key) and repeated values of two versions stay two rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:30:00
"""

import base64
import hashlib
import json
from collections.abc import Iterator
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


def _long_columns() -> list[sa.Column]:
    return [
        sa.Column('id', _KEY_HASH, nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('source_record_id', sa.String(length=256), nullable=False),
        sa.Column('entity_type', sa.String(length=32), nullable=False),
        sa.Column('entity_ref', sa.String(length=64), nullable=False),
        sa.Column('attribute', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=True),
        sa.Column('value_enc', sa.LargeBinary(), nullable=True),
        sa.Column('token', sa.String(length=32), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('source_field', sa.String(length=256), nullable=True),
        sa.Column('flags', sa.String(length=128), nullable=True),
        sa.Column('raw_record_id', _HASH, nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    ]


def _wide_columns() -> list[sa.Column]:
    return [
        sa.Column('id', _KEY_HASH, nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('source_record_id', sa.String(length=256), nullable=False),
        sa.Column('entity_type', sa.String(length=32), nullable=False),
        sa.Column('entity_ref', sa.String(length=64), nullable=False),
        sa.Column('statements', sa.Text(), nullable=False),
        sa.Column('raw_record_id', _HASH, nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    ]


def _light(name: str, columns: tuple[str, ...], *extra: str) -> sa.TableClause:
    """A table of plain columns, the times typed so that SQLite's text comes back as datetimes."""
    times = {'first_seen', 'last_seen'}
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


def _groups(conn: sa.Connection) -> Iterator[list[Any]]:
    long = _light('statement', _LONG)
    query = sa.select(*(long.c[c] for c in _LONG)).order_by(long.c.raw_record_id, long.c.entity_ref,
                                                             long.c.attribute, long.c.id)
    group: list[Any] = []
    for row in conn.execute(query.execution_options(stream_results=True, yield_per=_CHUNK)):
        if group and (group[0].raw_record_id, group[0].entity_ref) != (row.raw_record_id, row.entity_ref):
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _wide_row(group: list[Any]) -> dict[str, Any]:
    first, newest = group[0], max(group, key=lambda r: r.last_seen)
    entries = [[r.attribute, r.value, None if r.value_enc is None else base64.b64encode(bytes(r.value_enc)).decode(),
                r.token, r.method, r.source_field, r.flags] for r in group]
    return {'id': _row_id(first.raw_record_id, first.entity_ref), 'source': first.source,
            'source_record_id': first.source_record_id, 'entity_type': first.entity_type,
            'entity_ref': first.entity_ref, 'statements': json.dumps(entries, ensure_ascii=False, separators=(',', ':')),
            'raw_record_id': first.raw_record_id, 'run_id': newest.run_id,
            'first_seen': min(r.first_seen for r in group), 'last_seen': newest.last_seen}


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
    _apply_pending(conn)
    op.drop_table('statement_pending')
    wide = op.create_table('statement_wide', *_wide_columns())
    _insert(conn, wide, (_wide_row(group) for group in _groups(conn)))
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
