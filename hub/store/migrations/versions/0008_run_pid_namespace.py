"""run: the kernel boot and pid namespace a run's pid belongs to

Containers may share a host name without sharing a pid namespace: from one of them, the pid of a
run started in another is absent or another process, and a live run read as killed. hub.store.runs
now records where its pid means something (boot id and pid namespace of the process) and looks at
the process table only when they are this process's; otherwise it judges by heartbeat age, as for
another host. Rows written before this revision have none and are judged by heartbeat age too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pid_namespace', sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('pid_namespace')
