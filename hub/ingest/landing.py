"""Land one batch in two steps: `prepare_batch` (the CPU work: hashes, encryption, statements) and
`write_batch` (raw zone rows, statements and quarantine, inside the caller's transaction, which the
runner commits together with the watermark).

The raw zone is append-only and keyed: a record's id is a keyed hash of (source, source record id,
content hash), so landing the same content twice adds nothing, while a changed record adds a new
version beside the old one. Statements are built only for versions the raw zone did not hold, one
row per record entity of that version, and are only ever appended (hub.store.tables.statement).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection

import schemas
from connectors.base import Batch
from hub.mapping import MappingSpec
from hub.normalize.base import is_blank
from hub.protect import Vault
from hub.statements import QUARANTINE_COLUMNS, STATEMENT_COLUMNS, RecordRefs, build_statements
from hub.store import tables
from hub.store.bulk import existing_keys, insert_rows, timestamp_param

log = logging.getLogger(__name__)

RAW_COLUMNS = ("id", "source", "source_record_id", "content_hash", "payload", "position", "extracted_at", "run_id")


@dataclass
class BatchCounts:
    extracted: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    quarantined_values: int = 0
    statements: int = 0

    def add(self, other: BatchCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Landed:
    row: dict[str, Any]
    record_id: str
    has_id: bool
    content_hash: str
    payload: bytes
    position: str | None


def record_id_is_sensitive(spec: MappingSpec) -> bool:
    """True when a record-id column also feeds an encrypted attribute (a register keyed by ID number).

    Record ids travel in clear (raw zone, statements, quarantine, logs), so such a source's record id
    is replaced by a keyed token: stable across runs, useless to anyone without the hub's key.
    """
    id_columns = set(spec.record_id)
    for entity in spec.entities.values():
        for attribute, mapped in entity.fields.items():
            meta = schemas.attribute_spec(entity.type, attribute)
            if meta is not None and meta.sensitivity.encrypted and id_columns & set(mapped.source_columns):
                return True
    return False


def _record_id(row: dict[str, Any], columns: list[str]) -> str | None:
    parts = []
    for column in columns:
        value = row.get(column)
        if is_blank(value):
            return None
        parts.append(str(value).strip())
    return "|".join(parts)


_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
"""What `json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)` uses, built once, not per record."""


def _payload(row: dict[str, Any]) -> bytes:
    return _PAYLOAD_JSON.encode(row).encode("utf-8")


@dataclass
class LandedThisRun:
    """What an initial load has written so far: all the store can hold, since it was empty at the start.

    With it, an initial load answers "is this raw record known?" from memory instead of from the index
    it dropped (and without a query per batch).
    """

    raw_ids: set[str] = field(default_factory=set)


def _known_raw_ids(conn: Connection, raw_ids: list[str], landed: LandedThisRun | None) -> set[str]:
    if landed is None:
        return existing_keys(conn, tables.raw_record, "id", raw_ids)
    return landed.raw_ids.intersection(raw_ids)


@dataclass
class PreparedBatch:
    """A batch turned into rows, ready to write: the CPU work of landing, done outside any write.

    `raw_ids` are the records it found new when it was prepared; the write re-checks them, because a
    pipelined ingest prepares the next batch while the previous one is still being written.
    """

    source: str
    counts: BatchCounts
    raw_rows: list[tuple[Any, ...]]
    statements: list[tuple[Any, ...]]
    quarantine: list[tuple[Any, ...]]

    @property
    def raw_ids(self) -> list[str]:
        return [row[0] for row in self.raw_rows]


def prepare_batch(conn: Connection, spec: MappingSpec, batch: Batch, *, run_id: str, now: datetime,
                  vault: Vault, landed: LandedThisRun | None = None) -> PreparedBatch:
    """Hash, encrypt, normalize and build the statements of the records the store does not hold yet."""
    counts = BatchCounts(extracted=len(batch.rows) + len(batch.rejected))
    stamp = timestamp_param(conn, now)
    pseudonymous = record_id_is_sensitive(spec)
    quarantine: list[tuple[Any, ...]] = []
    for rejected in batch.rejected:
        raw_enc = vault.encrypt_text(rejected.raw) if rejected.raw is not None else None
        quarantine.append((spec.source, None, run_id, None, rejected.position, None, None, "record",
                           rejected.reason, raw_enc, stamp))
    counts.quarantined += len(batch.rejected)

    positions: list[str | None] = list(batch.positions) if batch.positions else [None] * len(batch.rows)
    fresh: dict[str, _Landed] = {}
    for row, position in zip(batch.rows, positions, strict=True):
        payload = _payload(row)
        content_hash = vault.keyed_hash(payload)
        record_id = _record_id(row, spec.record_id)
        if record_id is not None and pseudonymous:
            record_id = "~" + vault.token(record_id)
        # A record without its id is still kept in the raw zone (under its content hash) and quarantined.
        key = record_id if record_id is not None else f"?{content_hash}"
        raw_id = vault.keyed_hash(f"{spec.source}\x1f{key}\x1f{content_hash}".encode())
        if raw_id in fresh:
            counts.unchanged += 1   # the same content twice in one batch
            continue
        fresh[raw_id] = _Landed(row, key, record_id is not None, content_hash, payload, position)

    known = _known_raw_ids(conn, list(fresh), landed)
    counts.unchanged += len(known)
    new = {rid: landed for rid, landed in fresh.items() if rid not in known}
    encrypted = vault.encrypt_many_bytes(x.payload for x in new.values())
    raw_rows = [(rid, spec.source, x.record_id, x.content_hash, payload, x.position, stamp, run_id)
                for (rid, x), payload in zip(new.items(), encrypted, strict=True)]

    keyed = [rid for rid, x in new.items() if x.has_id]
    for rid, x in new.items():
        if not x.has_id:
            counts.quarantined += 1
            quarantine.append((spec.source, None, run_id, rid, x.position, None, ",".join(spec.record_id), "record",
                               f"record id column(s) {', '.join(spec.record_id)} blank", None, stamp))
    statements: list[tuple[Any, ...]] = []
    if keyed:
        frame = pd.DataFrame.from_records([new[rid].row for rid in keyed])
        refs = RecordRefs(record_ids=[new[rid].record_id for rid in keyed], raw_ids=keyed,
                          positions=[new[rid].position for rid in keyed])
        built = build_statements(spec, frame, refs, run_id=run_id, now=stamp, vault=vault)
        statements = built.rows
        quarantine.extend(built.quarantine)
        counts.loaded += built.loaded
        counts.quarantined += built.quarantined
        counts.quarantined_values += built.quarantined_values
        counts.statements += built.values
    return PreparedBatch(spec.source, counts, raw_rows, statements, quarantine)


def write_batch(conn: Connection, prepared: PreparedBatch, landed: LandedThisRun | None = None) -> bool:
    """Write a prepared batch inside the caller's transaction; False (nothing written) when it went stale.

    Stale means another write landed one of its records since it was prepared (the same record in two
    batches in flight together); the caller then prepares it again on this connection.
    `landed`: given during an initial load only (see LandedThisRun).
    """
    if _known_raw_ids(conn, prepared.raw_ids, landed):
        return False
    insert_rows(conn, tables.raw_record, RAW_COLUMNS, prepared.raw_rows)
    insert_rows(conn, tables.statement, STATEMENT_COLUMNS, prepared.statements)
    if landed is not None:
        landed.raw_ids.update(prepared.raw_ids)
    insert_rows(conn, tables.quarantine, QUARANTINE_COLUMNS, prepared.quarantine)
    log.debug("source %s: batch landed, %d new raw records", prepared.source, len(prepared.raw_rows))
    return True
