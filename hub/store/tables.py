"""The store's tables (SQLAlchemy Core): what each stage writes, as architecture.md lists it.

Identifiers of raw records and statements are keyed hashes of their natural keys, computed in
Python before loading, so bulk loads need no round trip for generated ids and re-ingesting the
same content collides with, instead of duplicating, what is there.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

HASH = String(32)

run = Table(
    "run",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("source", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),          # running | succeeded | failed
    Column("extracted", Integer, nullable=False, default=0),
    Column("loaded", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("quarantined_values", Integer, nullable=False, default=0),
    Column("statements", Integer, nullable=False, default=0),
    Column("batches", Integer, nullable=False, default=0),
    Column("watermark_before", Text),
    Column("watermark_after", Text),
    Column("error", Text),
    Index(None, "source", "started_at"),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("watermark", Text),
    Column("columns", Text),            # JSON list of the columns discovered at the last run
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_run_id", String(32)),
)

raw_record = Table(
    "raw_record",
    metadata,
    Column("id", HASH, primary_key=True),          # keyed hash of (source, source_record_id, content_hash)
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("content_hash", HASH, nullable=False),  # keyed hash of the canonical JSON payload
    Column("payload", LargeBinary, nullable=False),  # AES-GCM of the payload as the source gave it
    Column("position", String(128)),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(32), nullable=False),
    Index(None, "source", "source_record_id"),
)

statement = Table(
    "statement",
    metadata,
    Column("id", HASH, primary_key=True),          # keyed hash of (source, record, entity, attribute, value)
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_ref", String(64), nullable=False),   # local entity name within the record (mapping key)
    Column("attribute", String(64), nullable=False),
    Column("value", Text),                              # clear value, only for public/internal attributes
    Column("value_enc", LargeBinary),                   # AES-GCM value for sensitive attributes
    Column("token", String(32)),                        # keyed lookup token (resident_id, phone)
    Column("method", String(16), nullable=False),       # mapped | derived | const | relation
    Column("source_field", String(256)),                # the source column(s) the value came from
    Column("flags", String(128)),
    Column("raw_record_id", HASH, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Index(None, "source", "source_record_id"),
    Index(None, "entity_type", "attribute"),
    Index(None, "token"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256)),
    Column("run_id", String(32), nullable=False),
    Column("raw_record_id", HASH),
    Column("position", String(128)),
    Column("entity_ref", String(64)),
    Column("field", String(256)),
    Column("kind", String(16), nullable=False),     # record | entity | value | flag
    Column("reason", Text, nullable=False),
    Column("raw_enc", LargeBinary),                 # encrypted raw text of a row no connector could parse
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "source", "run_id"),
)
