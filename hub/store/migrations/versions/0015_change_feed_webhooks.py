"""change feed and webhooks: the outbox publication writes, webhooks and their deliveries

change_event is written by publication in the transaction that switches a version on: one row per entity whose
served state changed (created, updated, merged, split, retired), with change_event_place naming the places it
was in before or after, so that a consumer's feed is filtered by scope in SQL. webhook holds a consumer's
receiver URL and its signing secret (sealed by the vault); webhook_delivery one row per webhook and event, with
its attempts and the dead-letter state the operator replays (hub.webhooks).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 17:45:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('change_event',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('other_id', sa.String(length=24), nullable=True),
    sa.Column('parts', sa.Text(), nullable=True),
    sa.Column('attributes', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_event'))
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_entity_id_id'), ['entity_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_version'), ['version'], unique=False)

    op.create_table('change_event_place',
    sa.Column('event_id', _ID, autoincrement=False, nullable=False),
    sa.Column('place_id', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'place_id', name=op.f('pk_change_event_place'))
    )
    with op.batch_alter_table('change_event_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_event_place_place_id_event_id'), ['place_id', 'event_id'],
                              unique=False)

    op.create_table('webhook',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('consumer_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret_enc', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('cursor', _ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_consumer_id'), ['consumer_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('webhook_id', sa.String(length=32), nullable=False),
    sa.Column('event_id', _ID, nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replays', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_webhook_id_event_id'), ['webhook_id', 'event_id'],
                              unique=True)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_webhook_id_entity_id_event_id'),
                              ['webhook_id', 'entity_id', 'event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_state_next_attempt_at'), ['state', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('webhook_delivery')
    op.drop_table('webhook')
    op.drop_table('change_event_place')
    op.drop_table('change_event')
