"""raw_record.extracted_at index: what an incremental resolution asks first (records landed since)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:20:00
"""

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_raw_record_extracted_at'), ['extracted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('raw_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_raw_record_extracted_at'))
