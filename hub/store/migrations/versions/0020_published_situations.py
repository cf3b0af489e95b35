"""published situations: the derived situations (情) that hold, versioned with the read model

Publication copies the open periods of derived_situation into pub_situation with the rest of a version, so that
a reader pinned to a version sees the situations of that version, not those of a later rules run. Filled by the
next publication.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 01:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pub_situation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('situation_type', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_situation'))
    )
    with op.batch_alter_table('pub_situation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_situation_entity_id'), ['entity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pub_situation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_situation_entity_id'))
    op.drop_table('pub_situation')
