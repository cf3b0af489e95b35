"""store_key: the key check value, the wrapped token and hash keys, and a key rotation's progress

A store now records which key it was written with (a keyed MAC of a constant, hub.protect), so a hub
opened with another key refuses to read or write instead of mixing two keys. The token and hash keys,
which name raw records, statements and lookup tokens, are kept here wrapped by the master key, so that
`hub keys rotate` can replace the key without changing a single id.

Existing stores get no rows from this migration (it has no key): their check value and wrapped keys
(the HKDF subkeys of the key in use, as before) are recorded on their first open by a write command
(`hub ingest`, `hub resolve`, `hub db upgrade`), after that key has been seen to decrypt their data.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'store_key',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_store_key')),
    )


def downgrade() -> None:
    op.drop_table('store_key')
