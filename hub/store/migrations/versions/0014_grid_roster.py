"""grid roster: which grid each building belongs to and which workers serve it (hub.events.roster)

Loaded from the operator's grids file (HUB_GRIDS_FILE) on every events run, so that locating and assigning
events are joins in the store.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:46:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grid_area',
    sa.Column('estate', sa.String(length=200), nullable=False),
    sa.Column('building', sa.String(length=64), nullable=False),
    sa.Column('grid', sa.String(length=100), nullable=False),
    sa.Column('community', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('estate', 'building', name=op.f('pk_grid_area'))
    )
    op.create_table('grid_worker',
    sa.Column('worker_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('grid', sa.String(length=100), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_grid_worker'))
    )
    with op.batch_alter_table('grid_worker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_worker_grid_rank'), ['grid', 'rank'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('grid_worker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_worker_grid_rank'))
    op.drop_table('grid_worker')
    op.drop_table('grid_area')
