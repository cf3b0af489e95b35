"""derived situations: the periods (情) rule files declaring `derives` find, with the statements behind them

One row per (rule, entity, period): started at the reference time of the run that first derived it, ended at the
one of the first run that no longer did. Evidence is statement ids and sources, never a value.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('derived_situation',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('situation_type', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_run', sa.String(length=32), nullable=False),
    sa.Column('last_run', sa.String(length=32), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_run', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_derived_situation'))
    )
    with op.batch_alter_table('derived_situation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_derived_situation_rule_id_ended_at'), ['rule_id', 'ended_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_derived_situation_entity_id'), ['entity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('derived_situation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_derived_situation_entity_id'))
        batch_op.drop_index(batch_op.f('ix_derived_situation_rule_id_ended_at'))
    op.drop_table('derived_situation')
