"""audit log: a partial index of the rows waiting for the seal

The sealer asks for the rows with `seq` NULL every half second. Through the unique index on `seq` that lookup
visits every NULL entry, and sealing a row leaves its unsealed version's entry behind until a vacuum: the
lookup grew with the log (7.5 ms and 2,600 heap pages at 27,600 rows). A partial index on `id` where `seq` is
NULL holds only those entries, and the sealer's index scan marks the dead ones so the next tick skips them.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07 22:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_pending', ['id'], unique=False,
                              postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_pending', postgresql_where=sa.text('seq IS NULL'),
                            sqlite_where=sa.text('seq IS NULL'))
