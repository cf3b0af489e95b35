"""The store's tables (SQLAlchemy Core): what each stage writes, as architecture.md lists it.

Identifiers of raw records and statements are keyed hashes of their natural keys, computed in
Python before loading, so bulk loads need no round trip for generated ids; re-ingesting the same
content finds its raw record there and adds nothing. Those two tables, the largest,
carry their id in a unique index rather than a primary key: an initial load drops it with the
other indexes and builds it once at the end (hub.store.initial_load), instead of inserting millions
of random keys into a B-tree one by one.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects import postgresql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

HASH = String(32)
KEY_HASH = String(32).with_variant(String(32, collation="C"), "postgresql")
"""The random id keys of the two largest tables: compared byte-wise on PostgreSQL, where sorting them
for an index under a linguistic collation takes about twice as long and buys nothing."""

run = Table(
    "run",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("source", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),          # running | succeeded | failed | interrupted
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
    # Who runs it, to tell a live run from a killed one (hub.store.runs): the process on its host, and
    # the time that process started (a reused pid is another process); the heartbeat for other hosts.
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_namespace", String(80)),      # boot id and pid namespace where `pid` means this process
    Column("process_started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("took_over", Text),                 # ids of the interrupted runs this run took over, comma-separated
    Column("taken_over_by", String(32)),       # on an interrupted run: the run that found it and took over
    # The quality gate of an ingest run's batch (hub.quality.gate, migration 0010): NULL where no gate ran
    # (a run before 0010, or ingest_source called directly), else published | held | approved | superseded.
    Column("gate", String(16)),
    Column("gate_note", Text),                 # why it is held (the failed expectations), who approved it
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
    Column("id", KEY_HASH, nullable=False),        # keyed hash of (source, source_record_id, content_hash)
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("content_hash", HASH, nullable=False),  # keyed hash of the canonical JSON payload
    Column("payload", LargeBinary, nullable=False),  # AES-GCM of the payload as the source gave it
    Column("position", String(128)),
    Column("extracted_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(32), nullable=False),
    Index(None, "id", unique=True),
    Index(None, "source", "source_record_id"),
    Index(None, "extracted_at"),     # records landed since a resolution run: its next increment
)

statement = Table(
    # What one version of a source record states about one of its entities: one row per (raw record,
    # entity), its attribute values and relations a JSON list of entries (hub.statements.entries).
    # Rows are written once and never updated: a changed record lands a new raw record and new rows,
    # the old ones stay, so every value keeps the version, run and time it came from.
    "statement",
    metadata,
    Column("id", KEY_HASH, nullable=False),        # keyed hash of (raw record id, entity_ref)
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_ref", String(64), nullable=False),   # local entity name within the record (mapping key)
    Column("statements", Text, nullable=False),         # JSON [[attribute, value, value_enc, token, method,
                                                        #        source_field, flags], ...]; sensitive values
                                                        # only as AES-GCM ciphertext (base64) and token
    Column("raw_record_id", HASH, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Index(None, "id", unique=True),
    Index(None, "source", "source_record_id"),
    Index(None, "entity_type"),
)

record_hold = Table(
    # Record versions kept out of fusion and publication, never deleted (hub.quality, migration 0010): the
    # versions a held batch landed (reason "quality", released when approved or re-seen by a passing full
    # read, left held when a passing run supersedes them), and every version of a record a full read of
    # its source no longer found (reason "gone", released when the record comes back). Readers of
    # statements skip a version while a row of it here has no `released_at` (hub.quality.gate.visible).
    "record_hold",
    metadata,
    Column("raw_record_id", HASH, primary_key=True),
    Column("reason", String(16), primary_key=True),     # quality | gone
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("run_id", String(32), nullable=False),       # the run that held or retired it
    Column("held_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True)),
    Column("released_by", String(128)),                 # a run id, or "approved by …"
    Index(None, "released_at"),
    Index(None, "source", "reason"),
)

quality_result = Table(
    # One row per suite run (hub.quality): what the auditors' report and its trends read. Counts and
    # expectation names only, never a value. Migration 0010.
    "quality_result",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),       # the ingest run (source suites) or the report run
    Column("scope", String(16), nullable=False),        # source | entity_type
    Column("subject", String(64), nullable=False),      # the source id or the entity type
    Column("suite", String(16), nullable=False),        # critical | warning
    Column("success", Boolean, nullable=False),
    Column("evaluated", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("rows", Integer, nullable=False),            # rows of the batch validated
    Column("detail", Text, nullable=False),             # JSON list of expectations and their outcome
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "subject", "created_at"),
    Index(None, "run_id"),
)

store_key = Table(
    # What the store knows of its keys (hub.keys), never a key in clear: the check value of the master key
    # it accepts, the token and hash keys wrapped by that master key and, while `hub keys rotate` runs, the
    # new key's counterparts and the rotation's progress. Migration 0007_store_key_meta.
    "store_key",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Text, nullable=False),
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


# ---------------------------------------------------------------------------------------------------------------
# Resolution and fusion (issue 4): record → entity links with stable ids, reviewers' judgements, golden records.
# Written by hub.resolve (runner, store, review) and hub.fuse; migration 0002_resolution.
# ---------------------------------------------------------------------------------------------------------------

RECORD_KEY = String(400)   # source (64) | source_record_id (256) | entity_ref (64)
ENTITY_ID = String(24)     # "P-" + 16 hex characters of a keyed hash of the founding record key

judgement = Table(
    "judgement",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("entity_type", String(32), nullable=False),
    Column("record_a", RECORD_KEY, nullable=False),       # the smaller record key of the pair
    Column("record_b", RECORD_KEY, nullable=False),
    Column("positive", Boolean, nullable=False),           # true: the same entity; false: different entities
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Index(None, "entity_type", "record_a", "record_b"),
)

record_link = Table(
    "record_link",
    metadata,
    Column("record_key", RECORD_KEY, primary_key=True),
    Column("entity_type", String(32), nullable=False),
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(256), nullable=False),
    Column("entity_ref", String(64), nullable=False),
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("score", Float),                                 # weight of the strongest match inside its entity
    Column("linked_to", RECORD_KEY),                        # the record of that match
    Column("decided_by", String(16), nullable=False),       # model | judgement | key
    Column("run_id", String(32), nullable=False),
    Index(None, "entity_id"),
    Index(None, "source", "source_record_id"),
    Index(None, "entity_type", "entity_id"),
)

entity = Table(
    "entity",
    metadata,
    Column("id", ENTITY_ID, primary_key=True),
    Column("entity_type", String(32), nullable=False),
    Column("state", String(16), nullable=False),            # active | merged | retired
    Column("founding_record", RECORD_KEY, nullable=False),
    Column("merged_into", ENTITY_ID),
    Column("records", Integer, nullable=False, default=0),
    Column("created_run", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_run", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "entity_type", "state"),
)

entity_change = Table(
    "entity_change",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("change", String(16), nullable=False),           # created | updated | merged_into | split_from | retired
    Column("other_id", ENTITY_ID),                          # merged_into: the survivor; split_from: the origin
    Column("detail", Text),                                 # JSON: records added / removed, new founding record
    Column("run_id", String(32), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index(None, "entity_id"),
    Index(None, "other_id"),
    Index(None, "run_id"),
)

review_pair = Table(
    "review_pair",
    metadata,
    Column("id", HASH, primary_key=True),                   # hash of (entity type, record a, record b)
    Column("entity_type", String(32), nullable=False),
    Column("record_a", RECORD_KEY, nullable=False),
    Column("record_b", RECORD_KEY, nullable=False),
    Column("weight", Float, nullable=False),
    Column("reason", String(32)),                           # why a would-be match was held back, if it was
    Column("run_id", String(32), nullable=False),
    Index(None, "entity_type", "weight"),
)

match_model = Table(
    "match_model",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("entity_type", String(32), nullable=False),
    Column("weights", Text, nullable=False),                # hub.resolve.model.Model as JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "entity_type", "created_at"),
)

golden_value = Table(
    "golden_value",
    metadata,
    Column("entity_id", ENTITY_ID, primary_key=True),
    Column("attribute", String(64), primary_key=True),
    Column("entity_type", String(32), nullable=False),
    Column("value", Text),                                  # clear only where the statement's value is clear
    Column("value_enc", LargeBinary),                       # copied from the winning statement
    Column("token", String(32)),
    Column("statement_id", HASH, nullable=False),           # the winning statement
    Column("source", String(64), nullable=False),
    Column("statements", Integer, nullable=False),          # statements behind the value, every source
    Column("sources", Integer, nullable=False),
    Column("run_id", String(32), nullable=False),
    Index(None, "entity_type", "attribute"),
)

conflict = Table(
    "conflict",
    metadata,
    Column("entity_id", ENTITY_ID, primary_key=True),
    Column("attribute", String(64), primary_key=True),
    Column("entity_type", String(32), nullable=False),
    Column("distinct_values", Integer, nullable=False),
    Column("sources", Text, nullable=False),                # JSON list of the sources holding a value
    Column("statement_ids", Text, nullable=False),          # JSON list: the best statement of each value
    Column("run_id", String(32), nullable=False),
    Index(None, "entity_type", "attribute"),
)

relation = Table(
    "relation",
    metadata,
    Column("id", HASH, primary_key=True),                   # hash of (subject, predicate, object)
    Column("subject_id", ENTITY_ID, nullable=False),
    Column("predicate", String(32), nullable=False),
    Column("object_id", ENTITY_ID, nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("sources", Text, nullable=False),                # JSON list
    Column("statement_ids", Text, nullable=False),          # JSON list of the relation statements behind it
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_to", DateTime(timezone=True)),            # empty while a current record still states it
    Column("run_id", String(32), nullable=False),
    Index(None, "subject_id"),
    Index(None, "object_id"),
)

place = Table(
    "place",
    metadata,
    Column("id", String(24), primary_key=True),             # "PL-" + hash of the path from the top
    Column("place_type", String(16), nullable=False),       # schemas.PlaceType
    Column("name", Text),
    Column("code", String(32)),
    Column("parent_id", String(24)),
    Column("house_id", ENTITY_ID),                          # room level: the house entity it stands for
    Column("run_id", String(32), nullable=False),
    Index(None, "parent_id"),
    Index(None, "house_id"),
)

# ---------------------------------------------------------------------------------------------------------
# The read model (hub.publish): what the API, `hub find` and the exports read, never the fusion tables.
# Every pub_* row is visible from publication version `since` up to, not including, `until` (NULL: still
# current). A reader pins the latest published version once per request and reads `since <= v and (until
# is null or until > v)`, so a run being published, whose rows carry a version not yet marked published,
# is invisible until the one UPDATE of `publication` that switches it on (G13). Publishing writes only
# differences: a changed row gets `until` set and a new row from the new version. Migration 0009.

PUB_VERSION = Integer

publication = Table(
    "publication",
    metadata,
    Column("version", PUB_VERSION, primary_key=True, autoincrement=False),
    Column("run_id", String(32), nullable=False),           # the publish run (run table, stage "publish")
    Column("state", String(16), nullable=False),            # building | published | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("counts", Text),                                 # JSON: rows added and retired per table
)


def _versioned(name: str, *columns: Column, indexes: tuple[Index, ...] = ()) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("since", PUB_VERSION, nullable=False),
        Column("until", PUB_VERSION),
        *columns,
        *indexes,
    )


pub_entity = _versioned(
    "pub_entity",
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("state", String(16), nullable=False),            # active | merged
    Column("merged_into", ENTITY_ID),                       # merged: the survivor (the API answers 308)
    Column("label", Text),                                  # a display label safe at every clearance
    Column("records", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    indexes=(Index(None, "entity_id", "since"), Index(None, "entity_type", "since")),
)

pub_value = _versioned(
    "pub_value",
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("value", Text),                                  # clear only where the golden value is clear
    Column("value_enc", LargeBinary),
    Column("source", String(64), nullable=False),
    Column("statements", Integer, nullable=False),
    Column("sources", Integer, nullable=False),
    indexes=(Index(None, "entity_id", "since"),),
)

PUB_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")
"""Search keys compared by code point on PostgreSQL too, so that a prefix is one index range (hub.views.search)."""

pub_key = _versioned(
    "pub_key",
    Column("kind", String(24), nullable=False),             # resident_id | phone | name | pinyin | address …
    Column("key", PUB_KEY, nullable=False),                 # a token for identifiers, a normalized key otherwise
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    indexes=(Index(None, "kind", "key"), Index(None, "entity_id")),
)

pub_relation = _versioned(
    "pub_relation",
    Column("subject_id", ENTITY_ID, nullable=False),
    Column("predicate", String(32), nullable=False),
    Column("object_id", ENTITY_ID, nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("sources", Text, nullable=False),                # JSON list
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_to", DateTime(timezone=True)),
    indexes=(Index(None, "subject_id"), Index(None, "object_id")),
)

pub_scope = _versioned(
    "pub_scope",
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("place_id", String(24), nullable=False),         # a community or grid place the entity belongs to
    Column("place_type", String(16), nullable=False),
    Column("name", Text),                                   # the place's name, for profiles and filters by name
    indexes=(Index(None, "entity_id"), Index(None, "place_id")),
)

pub_claim = _versioned(
    "pub_claim",
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("attribute", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("record_key", RECORD_KEY, nullable=False),      # the source record (source|record id|entity)
    Column("department", String(32)),
    Column("value", Text),
    Column("value_enc", LargeBinary),
    Column("statements", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("chosen", Boolean, nullable=False),              # the value fusion chose for the golden record
    indexes=(Index(None, "entity_id", "attribute"),),
)

# The derived situations (情) that hold, as published with the version: the open periods of derived_situation
# of active entities, so that a profile shows those of the same version as the rest of it (G13). Migration 0020.
pub_situation = _versioned(
    "pub_situation",
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("situation_type", String(32), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("sources", Text, nullable=False),                # JSON list, as in derived_situation
    Column("started_at", DateTime(timezone=True), nullable=False),
    indexes=(Index(None, "entity_id"),),
)

# ---------------------------------------------------------------------------------------------------------
# Consumers and the audit log (hub.access, hub.audit). Secrets are kept only as keyed hashes. Migration 0009.

consumer = Table(
    "consumer",
    metadata,
    Column("id", String(32), primary_key=True),             # the OAuth2 client id, "app-…"
    Column("name", String(100), nullable=False, unique=True),
    Column("purpose", Text, nullable=False),                # 用途, as declared and shown in the audit log
    Column("role", String(16), nullable=False),             # consumer | auditor
    Column("clearance", String(24), nullable=False),        # schemas.Sensitivity
    Column("entity_types", Text, nullable=False),           # JSON list
    Column("fields", Text),                                 # JSON {entity type: [attributes]}; NULL = every field
    Column("scope", Text),                                  # JSON {"communities": [...], "grids": [...]}; NULL = all
    Column("claims", Text),                                 # JSON list of 核验 claim kinds it may check; NULL = none
    Column("state", String(16), nullable=False),            # active | revoked
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

credential = Table(
    "credential",
    metadata,
    Column("id", String(32), primary_key=True),             # key id, public (JWT `kid`, API key prefix)
    Column("consumer_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),             # client_secret | api_key
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index(None, "consumer_id"),
)

verify_limit = Table(
    # 核验 rate limits (hub.verify.limits): tries counted per bucket (a consumer, or a subject's keyed hash) and
    # fixed window; one upsert per bucket and try, so every API worker counts against the same rows. Migration 0011.
    "verify_limit",
    metadata,
    Column("bucket", String(80), primary_key=True),         # "consumer:<id>" | "subject:<keyed hash>"
    Column("window_start", BigInteger, primary_key=True),   # epoch seconds
    Column("tries", Integer, nullable=False),
)

audit_log = Table(
    # Appended in the request's transaction with `seq` NULL (no lock: requests never wait for each other), then
    # sealed into the chain by hub.audit.chain.seal, which numbers rows in `id` order and hashes them.
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("seq", BigInteger().with_variant(Integer, "sqlite")),   # place in the chain; NULL until sealed
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),           # consumer id, or the operator's login
    Column("role", String(16), nullable=False),             # consumer | auditor | operator
    Column("purpose", Text),
    Column("action", String(200), nullable=False),          # "GET /api/v1/persons/{id}", "hub find", …
    Column("status", Integer, nullable=False),
    Column("entity_ids", Text, nullable=False),             # JSON list
    Column("fields", Text, nullable=False),                 # JSON {attribute: "clear" | "masked" | "withheld"}
    Column("detail", Text),                                 # JSON, never a personal value
    Column("prev_hash", String(64)),                        # NULL until sealed
    Column("row_hash", String(64)),
    # "Who looked at this person": the entity ids of a sealed row, written by the seal from `entity_ids` and
    # checked against it by `hub audit verify` (migration 0017, in place of one audit_entity row per id).
    # PostgreSQL: text[] under a GIN index; SQLite: the same JSON list, searched with json_each.
    Column("entity_index", Text().with_variant(postgresql.ARRAY(Text()), "postgresql")),
    Index(None, "seq", unique=True),
    Index(None, "at"),
    Index(None, "actor", "at"),
    # The rows waiting for the seal (migration 0019). On PostgreSQL the NULL entries of `seq`'s index keep every
    # sealed row's pre-seal version until a vacuum; the sealer reads this partial index instead (SQLite updates
    # its index entries in place and may use either).
    Index("ix_audit_log_pending", "id", postgresql_where=text("seq IS NULL"),
          sqlite_where=text("seq IS NULL")),
    # SQLite has no GIN: there the index is declared empty (WHERE 0), so that both stores keep one schema.
    Index("ix_audit_log_entity_index", "entity_index", postgresql_using="gin", sqlite_where=text("0")),
)

audit_head = Table(
    # The chain's tail: its last seq and hash, locked by each seal (one sealer at a time) and compared by
    # `hub audit verify`, so removing the last rows is detected too.
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

# ---------------------------------------------------------------------------------------------------------
# Rule findings (hub.rules): one row per (rule, entity), kept across runs. `evidence` is a JSON list of
# [clause, source, statement id], `related` a JSON {clause: [entity ids]}: ids only, never a value. Migration 0012.

finding = Table(
    "finding",
    metadata,
    Column("id", HASH, primary_key=True),                   # hash of (rule id, entity id)
    Column("rule_id", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("severity", String(16), nullable=False),         # low | medium | high
    Column("evidence", Text, nullable=False),
    Column("sources", Text, nullable=False),                # JSON list of the sources cited
    Column("related", Text, nullable=False),
    Column("first_run", String(32), nullable=False),
    Column("first_found_at", DateTime(timezone=True), nullable=False),
    Column("last_run", String(32), nullable=False),
    Column("last_found_at", DateTime(timezone=True), nullable=False),
    Column("cleared_run", String(32)),                      # the run that no longer found it; NULL while open
    Column("cleared_at", DateTime(timezone=True)),
    Index(None, "rule_id", "cleared_at"),
    Index(None, "entity_id"),
)

# ---------------------------------------------------------------------------------------------------------
# Events (事, hub.events): one row per thing to handle, kept across runs. A finding's event has the finding's
# id (one event per (rule, entity), however many runs find it); a property ticket's event has the ticket's
# canonical id. `event_step` is its history: every change of state with who, when and the feedback given.
# Ids, places and codes only, never a value. Migration 0013.

event = Table(
    "event",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("origin", String(16), nullable=False),           # finding | ticket
    Column("kind", String(64), nullable=False),             # the rule id, or the ticket's type (repair, complaint)
    Column("severity", String(16), nullable=False),         # low | medium | high
    Column("entity_type", String(32), nullable=False),      # what it is about: the finding's entity, the ticket
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("house_id", ENTITY_ID),                          # located: the house, its building, grid, community
    Column("building", String(200)),
    Column("grid", String(100)),
    Column("community", String(100)),
    Column("worker_id", String(64)),                        # the grid worker it is assigned to
    Column("state", String(16), nullable=False),            # discovered assigned in_progress resolved closed suppressed
    Column("discovered_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("reopened", Integer, nullable=False),            # times a failed check sent it back
    Column("first_run", String(32), nullable=False),
    Column("last_run", String(32), nullable=False),         # the last run whose check still found it
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(None, "state", "grid"),
    Index(None, "worker_id", "state"),
    Index(None, "entity_id"),
)

event_step = Table(
    "event_step",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),            # the state it entered
    Column("by", String(100), nullable=False),              # a run id (`run:…`), an operator, a consumer id
    Column("note", Text, nullable=False),                   # the feedback, or why (a suppression's reason)
    Index(None, "event_id", "at"),
)

# The grid-worker roster (hub.events.roster), loaded from the operator's grids file on every events run:
# which grid each (estate, building) belongs to, and which workers serve each grid. Migration 0014.

grid_area = Table(
    "grid_area",
    metadata,
    Column("estate", String(200), primary_key=True),        # normalized as the house's golden estate value
    Column("building", String(64), primary_key=True),       # normalized as the house's golden building value
    Column("grid", String(100), nullable=False),
    Column("community", String(100), nullable=False),
)

grid_worker = Table(
    "grid_worker",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("grid", String(100), nullable=False),
    Column("rank", Integer, nullable=False),                # 1: the grid's own worker, who is assigned first
    Column("consumer_id", String(64)),                      # the API client id of the worker's app
    Index(None, "grid", "rank"),
)

# The change feed (hub.feed) and webhooks (hub.webhooks). `change_event` is the outbox: publication writes
# one row per entity whose served state changed, in the transaction that switches the version on, with the
# places (communities, grids) the entity belonged to before or after, so a feed is filtered by scope in SQL.
# A webhook's deliveries are made from the feed by the delivery worker. Migration 0015.

change_event = Table(
    "change_event",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("version", PUB_VERSION, nullable=False),         # the publication that made the change visible
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("change", String(16), nullable=False),           # created | updated | merged | split | retired
    Column("other_id", ENTITY_ID),                          # merged: the survivor; split: the entity split from
    Column("parts", Text),                                  # what changed: entity, values, relations, scope, lineage
    Column("attributes", Text),                             # the attributes whose value or lineage changed
    Column("published_at", DateTime(timezone=True), nullable=False),
    Index(None, "entity_id", "id"),
    Index(None, "version"),
)

change_event_place = Table(
    "change_event_place",
    metadata,
    Column("event_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("place_id", String(24), primary_key=True),
    Index(None, "place_id", "event_id"),
)

webhook = Table(
    "webhook",
    metadata,
    Column("id", String(32), primary_key=True),             # "wh-…"
    Column("consumer_id", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret_enc", LargeBinary, nullable=False),      # the signing secret, sealed by the vault
    Column("state", String(16), nullable=False),            # active | removed
    Column("cursor", BigInteger().with_variant(Integer, "sqlite"), nullable=False),  # last event enqueued
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    Index(None, "consumer_id"),
)

webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("webhook_id", String(32), nullable=False),
    Column("event_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("state", String(16), nullable=False),            # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status", Integer),                         # the receiver's HTTP status; NULL: no answer
    Column("last_error", Text),                             # why the last attempt failed, never a value
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),         # delivered or dead-lettered at
    Column("replays", Integer, nullable=False, default=0),
    Index(None, "webhook_id", "event_id", unique=True),
    Index(None, "webhook_id", "entity_id", "event_id"),
    Index(None, "state", "next_attempt_at"),
)

# Derived situations (情, hub.rules.situations): what a rule file declaring `derives` found, as a period per
# (rule, entity): started at the reference time of the run that first derived it, ended at the one of the run
# that no longer did; derived again later, a new period. `evidence` and `sources` as in `finding`. Migration 0016.
# The derive stage's own history: readers see the periods that hold through pub_situation, which publication
# copies from it with the rest of the read model.

derived_situation = Table(
    "derived_situation",
    metadata,
    Column("id", HASH, primary_key=True),                   # hash of (rule id, entity id, the run that started it)
    Column("rule_id", String(64), nullable=False),
    Column("situation_type", String(32), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", ENTITY_ID, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("sources", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("first_run", String(32), nullable=False),
    Column("last_run", String(32), nullable=False),
    Column("ended_at", DateTime(timezone=True)),            # NULL while it holds
    Column("ended_run", String(32)),
    Index(None, "rule_id", "ended_at"),
    Index(None, "entity_id"),
)
