"""quality gate: the batch state of an ingest run, held and retired record versions, suite results

A failed critical expectation holds the versions its batch landed out of fusion and publication
(record_hold, reason quality); a full read retires the records gone from its source (reason gone);
nothing is deleted. quality_result keeps every suite run for the auditors' report (hub.quality).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gate', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('gate_note', sa.Text(), nullable=True))

    op.create_table('record_hold',
    sa.Column('raw_record_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_record_id', sa.String(length=256), nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('raw_record_id', 'reason', name=op.f('pk_record_hold'))
    )
    with op.batch_alter_table('record_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_hold_released_at'), ['released_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_hold_source_reason'), ['source', 'reason'], unique=False)

    op.create_table('quality_result',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('suite', sa.String(length=16), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('evaluated', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_result'))
    )
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_result_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_result_subject_created_at'), ['subject', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_result_subject_created_at'))
        batch_op.drop_index(batch_op.f('ix_quality_result_run_id'))
    op.drop_table('quality_result')
    with op.batch_alter_table('record_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_hold_source_reason'))
        batch_op.drop_index(batch_op.f('ix_record_hold_released_at'))
    op.drop_table('record_hold')
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_column('gate_note')
        batch_op.drop_column('gate')
