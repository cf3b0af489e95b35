"""rule findings: what the cross-department rules (rules/, hub.rules) found, with the statements they cite

One row per (rule, entity), kept across runs: found first and last, cleared when a run no longer finds it,
reopened when one finds it again. Evidence is statement ids and sources, never a value.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('related', sa.Text(), nullable=False),
    sa.Column('first_run', sa.String(length=32), nullable=False),
    sa.Column('first_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run', sa.String(length=32), nullable=False),
    sa.Column('last_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_run', sa.String(length=32), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding'))
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_rule_id_cleared_at'), ['rule_id', 'cleared_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_entity_id'), ['entity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_entity_id'))
        batch_op.drop_index(batch_op.f('ix_finding_rule_id_cleared_at'))
    op.drop_table('finding')
