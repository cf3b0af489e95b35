"""read model (publication, pub_*), consumers and credentials, the hash-chained audit log

The API and `hub find` read only the pub_* tables, whose rows carry the publication versions they are
visible in (hub.publish); consumers and their hashed credentials decide what each app may see
(hub.access); every read and write appends one row to a hash chain (hub.audit).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:09:43.606380
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entity',
    sa.Column('log_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.PrimaryKeyConstraint('log_id', 'entity_id', name=op.f('pk_audit_entity'))
    )
    with op.batch_alter_table('audit_entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entity_entity_id'), ['entity_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain's head before its first row (hub.audit.chain: HEAD_ID, GENESIS_HASH): every seal locks it.
    op.execute("INSERT INTO audit_head (id, seq, row_hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('action', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('entity_ids', sa.Text(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('row_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_actor_at'), ['actor', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_seq'), ['seq'], unique=True)

    op.create_table('consumer',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('clearance', sa.String(length=24), nullable=False),
    sa.Column('entity_types', sa.Text(), nullable=False),
    sa.Column('fields', sa.Text(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consumer')),
    sa.UniqueConstraint('name', name=op.f('uq_consumer_name'))
    )
    op.create_table('credential',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('consumer_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential'))
    )
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_consumer_id'), ['consumer_id'], unique=False)

    op.create_table('pub_claim',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('attribute', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('record_key', sa.String(length=400), nullable=False),
    sa.Column('department', sa.String(length=32), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('value_enc', sa.LargeBinary(), nullable=True),
    sa.Column('statements', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chosen', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_claim'))
    )
    with op.batch_alter_table('pub_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_claim_entity_id_attribute'), ['entity_id', 'attribute'], unique=False)

    op.create_table('pub_entity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('merged_into', sa.String(length=24), nullable=True),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_entity'))
    )
    with op.batch_alter_table('pub_entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_entity_entity_id_since'), ['entity_id', 'since'], unique=False)
        batch_op.create_index(batch_op.f('ix_pub_entity_entity_type_since'), ['entity_type', 'since'], unique=False)

    op.create_table('pub_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('key', sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql'),
              nullable=False),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_key'))
    )
    with op.batch_alter_table('pub_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_key_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pub_key_kind_key'), ['kind', 'key'], unique=False)

    op.create_table('pub_relation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.String(length=24), nullable=False),
    sa.Column('predicate', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=24), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_relation'))
    )
    with op.batch_alter_table('pub_relation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_relation_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pub_relation_subject_id'), ['subject_id'], unique=False)

    op.create_table('pub_scope',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('place_id', sa.String(length=24), nullable=False),
    sa.Column('place_type', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_scope'))
    )
    with op.batch_alter_table('pub_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_scope_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pub_scope_place_id'), ['place_id'], unique=False)

    op.create_table('pub_value',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('until', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.String(length=24), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('attribute', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('value_enc', sa.LargeBinary(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('statements', sa.Integer(), nullable=False),
    sa.Column('sources', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_value'))
    )
    with op.batch_alter_table('pub_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pub_value_entity_id_since'), ['entity_id', 'since'], unique=False)

    op.create_table('publication',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_publication'))
    )


def downgrade() -> None:
    op.drop_table('publication')
    with op.batch_alter_table('pub_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_value_entity_id_since'))

    op.drop_table('pub_value')
    with op.batch_alter_table('pub_scope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_scope_place_id'))
        batch_op.drop_index(batch_op.f('ix_pub_scope_entity_id'))

    op.drop_table('pub_scope')
    with op.batch_alter_table('pub_relation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_relation_subject_id'))
        batch_op.drop_index(batch_op.f('ix_pub_relation_object_id'))

    op.drop_table('pub_relation')
    with op.batch_alter_table('pub_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_key_kind_key'))
        batch_op.drop_index(batch_op.f('ix_pub_key_entity_id'))

    op.drop_table('pub_key')
    with op.batch_alter_table('pub_entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_entity_entity_type_since'))
        batch_op.drop_index(batch_op.f('ix_pub_entity_entity_id_since'))

    op.drop_table('pub_entity')
    with op.batch_alter_table('pub_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pub_claim_entity_id_attribute'))

    op.drop_table('pub_claim')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_consumer_id'))

    op.drop_table('credential')
    op.drop_table('consumer')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_seq'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_at'))

    op.drop_table('audit_log')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entity_entity_id'))

    op.drop_table('audit_entity')

