"""audit log: the entity index as one column of the row instead of one audit_entity row per entity

A profile's audit row names about thirty entities, and the seal wrote one `audit_entity` row for each (a heap
row and two btree entries apiece): most of the seal's cost per request on PostgreSQL. The index is now a
column of the row itself, `entity_index`, written by the seal from `entity_ids`: on PostgreSQL a `text[]`
under a GIN index (`entity_index && ARRAY[…]`), on SQLite the JSON list, searched with json_each.
`hub audit verify` still compares it with the hashed `entity_ids`.

Existing rows take their index from `audit_entity` as it stands, not from `entity_ids`: an index that was
tampered with before the upgrade still fails verification after it. The downgrade writes the rows back.

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-08 01:30:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entity_index', sa.Text().with_variant(postgresql.ARRAY(sa.Text()),
                                                                              'postgresql'), nullable=True))
    if postgres:
        op.execute("UPDATE audit_log SET entity_index = ARRAY(SELECT e.entity_id FROM audit_entity e "
                   "WHERE e.log_id = audit_log.id ORDER BY e.entity_id) WHERE seq IS NOT NULL")
    else:
        op.execute("UPDATE audit_log SET entity_index = (SELECT coalesce(json_group_array(e.entity_id), '[]') "
                   "FROM (SELECT entity_id FROM audit_entity WHERE log_id = audit_log.id ORDER BY entity_id) e) "
                   "WHERE seq IS NOT NULL")
    # SQLite has no GIN: there the index is empty (WHERE 0) and json_each reads the list (hub.audit.log).
    op.create_index('ix_audit_log_entity_index', 'audit_log', ['entity_index'], unique=False,
                    postgresql_using='gin', sqlite_where=sa.text('0'))
    with op.batch_alter_table('audit_entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entity_entity_id'))
    op.drop_table('audit_entity')


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('audit_entity',
    sa.Column('log_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('log_id', 'entity_id', name=op.f('pk_audit_entity'))
    )
    with op.batch_alter_table('audit_entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entity_entity_id'), ['entity_id'], unique=False)
    if postgres:
        op.execute("INSERT INTO audit_entity (log_id, entity_id) SELECT DISTINCT id, unnest(entity_index) "
                   "FROM audit_log WHERE entity_index IS NOT NULL")
    else:
        op.execute("INSERT OR IGNORE INTO audit_entity (log_id, entity_id) SELECT a.id, j.value "
                   "FROM audit_log a, json_each(a.entity_index) j WHERE a.entity_index IS NOT NULL")
    op.drop_index('ix_audit_log_entity_index', table_name='audit_log', postgresql_using='gin',
                  sqlite_where=sa.text('0'))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('entity_index')
