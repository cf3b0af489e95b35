"""核验: the claim kinds a consumer may check, and the rate-limit counters of verification

consumer.claims lists the claim kinds (hub.verify) a consumer may verify (NULL: none); verify_limit counts
tries per bucket (a consumer, or a subject's keyed hash) and fixed window, shared by every API worker.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consumer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claims', sa.Text(), nullable=True))

    op.create_table('verify_limit',
    sa.Column('bucket', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'window_start', name=op.f('pk_verify_limit'))
    )


def downgrade() -> None:
    op.drop_table('verify_limit')
    with op.batch_alter_table('consumer', schema=None) as batch_op:
        batch_op.drop_column('claims')
