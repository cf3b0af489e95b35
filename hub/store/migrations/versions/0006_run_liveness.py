"""run: who runs it (host, pid, process start) and its heartbeat, to tell a killed run from a live one

A run killed with SIGKILL (or by a power cut) never writes its end, and stayed "running" for ever.
These columns let hub.store.runs judge it: on the run's own host by its process, elsewhere by the
age of its heartbeat; the next run of the same stage and source marks it interrupted and records the
take-over (took_over on the new run, taken_over_by on the old one). Rows written before this
revision have no process: they are judged by the age of their start, so nothing needs backfilling.
All columns are nullable, added in place on PostgreSQL and by a table copy on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('process_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('took_over', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('taken_over_by', sa.String(length=32), nullable=True))


def downgrade() -> None:
    # An interrupted run reads as failed to the code of revision 0005, which knew no other end.
    run = sa.table('run', sa.column('status', sa.String), sa.column('error', sa.Text))
    op.execute(run.update().where(run.c.status == 'interrupted').values(
        status='failed', error=sa.func.coalesce(run.c.error, 'interrupted: its process was gone')))
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('taken_over_by')
        batch_op.drop_column('took_over')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('process_started_at')
        batch_op.drop_column('pid')
        batch_op.drop_column('host')
