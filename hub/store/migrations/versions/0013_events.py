"""events (事): what a finding or a property ticket asks someone to handle, and its life cycle

One row per event, kept across runs (a finding's event has the finding's id), located at a house, its
building, grid and community, assigned to a grid worker, due by severity; `event_step` is its history.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:45:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('house_id', sa.String(length=24), nullable=True),
    sa.Column('building', sa.String(length=200), nullable=True),
    sa.Column('grid', sa.String(length=100), nullable=True),
    sa.Column('community', sa.String(length=100), nullable=True),
    sa.Column('worker_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('first_run', sa.String(length=32), nullable=False),
    sa.Column('last_run', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_state_grid'), ['state', 'grid'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_worker_id_state'), ['worker_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_entity_id'), ['entity_id'], unique=False)
    op.create_table('event_step',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_step'))
    )
    with op.batch_alter_table('event_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_step_event_id_at'), ['event_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_step_event_id_at'))
    op.drop_table('event_step')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_entity_id'))
        batch_op.drop_index(batch_op.f('ix_event_worker_id_state'))
        batch_op.drop_index(batch_op.f('ix_event_state_grid'))
    op.drop_table('event')
