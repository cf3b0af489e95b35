"""raw_record.id and statement.id as unique indexes instead of primary keys, and statement_pending

An initial load drops every index of the two largest tables and builds each once at the end; a
primary key cannot be dropped on SQLite, a unique index can (see hub.store.initial_load). On
PostgreSQL the two id columns compare byte-wise (COLLATE "C"): random hashes sort twice as fast so.
statement_pending holds the updates such a load cannot apply while the statement index is away.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_HASH = sa.String(length=32)
_KEY_HASH = sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql')


def _statement_columns() -> list[sa.Column]:
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


def upgrade() -> None:
    for table in ('raw_record', 'statement'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'pk_{table}', type_='primary')
            if op.get_bind().dialect.name == 'postgresql':
                batch_op.alter_column('id', type_=_KEY_HASH, existing_nullable=False)
            batch_op.create_index(f'ix_{table}_id', ['id'], unique=True)
    op.create_table(
        'statement_pending',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        *_statement_columns(),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_statement_pending')),
    )


def downgrade() -> None:
    op.drop_table('statement_pending')
    for table in ('statement', 'raw_record'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_id')
            if op.get_bind().dialect.name == 'postgresql':
                batch_op.alter_column('id', type_=_HASH, existing_nullable=False)
            batch_op.create_primary_key(f'pk_{table}', ['id'])
