"""Land one batch in two steps: `prepare_batch` (the CPU work: hashes, encryption, statements) and
`write_batch` (raw zone rows, statements and quarantine, inside the caller's transaction, which the
runner commits together with the watermark).

The raw zone is append-only and keyed: a record's id is a keyed hash of (source, source record id,
content hash), so landing the same content twice adds nothing, while a changed record adds a new
version beside the old one. Statements are built only for versions the raw zone did not hold, one
row per record entity of that version, and are only ever appended (hub.store.tables.statement).

Before that, each record's id is screened, once and in extract order (`screen_batch`): a record whose
id is blank, cannot be stored (a control character, a lone surrogate, longer than the column) or
repeats an id the extract already showed with other content (hub.ingest.repeats) is kept in the raw
zone under its content hash and quarantined as a whole, with a reason naming its position; the rest
of the batch lands. No single row can make a bulk write fail for the batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Column, Connection, String

import schemas
from connectors.base import Batch
from hub.ingest.repeats import SeenRecordIds, extract_row, record_key, version_order
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
    record_id: str            # the raw zone's key: the record id, or "?" + content hash when it has no usable one
    problem: str | None       # why the whole record is quarantined (record id blank, unstorable or repeated)
    shown_id: str | None      # the record id as its quarantine row names it
    content_hash: str
    payload: bytes
    position: str | None
    stamp: datetime | str     # its extracted_at (and first/last seen): the batch's time, later for a newer version


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


_PAYLOAD_ASCII = json.JSONEncoder(ensure_ascii=True, sort_keys=True, default=str)


def _payload(row: dict[str, Any]) -> bytes:
    """The row as canonical JSON. Text UTF-8 cannot hold (a lone surrogate from a JSON "\\ud800" escape)
    is written as JSON escapes instead: the payload still says exactly what the source said."""
    text = _PAYLOAD_JSON.encode(row)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _PAYLOAD_ASCII.encode(row).encode("ascii")


def _length(column: Column[Any]) -> int:
    assert isinstance(column.type, String) and column.type.length is not None
    return column.type.length


ID_LENGTH = _length(tables.raw_record.c.source_record_id)
POSITION_LENGTH = _length(tables.raw_record.c.position)
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (PostgreSQL refuses NUL in text; the others make an id no one can type or read)
and lone surrogates (no UTF-8 for them): a record id holding one is quarantined."""


def _escaped(text: str) -> str:
    """The text with control characters and lone surrogates written as \\x.. / \\u.... escapes."""
    return _UNSTORABLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _fitted(text: str, length: int) -> str:
    """Text any store holds in a column of `length`: escaped, and cut with an ellipsis when too long."""
    text = _escaped(text)
    return text if len(text) <= length else text[:length - 1] + "…"


def _id_problem(clear: str, stored: str) -> str | None:
    """Why a record id cannot be stored as it is, or None (`stored`: what the raw zone would hold)."""
    bad = _UNSTORABLE.search(clear)
    if bad is not None:
        code = ord(bad[0])
        what = "a lone surrogate, not text" if 0xD800 <= code <= 0xDFFF else "a control character"
        return f"holds {what} (U+{code:04X}) at character {bad.start() + 1}"
    if len(stored) > ID_LENGTH:
        return f"is {len(stored)} characters long, longer than {ID_LENGTH}, the most a record id may have"
    return None


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
class Screened:
    """A batch's records, each given its raw zone key, its time and its fate by the record id it carries:
    what a stale batch is prepared again from, since record ids are screened once, in extract order."""

    source: str
    records: dict[str, _Landed]          # raw record id → record
    counts: BatchCounts                  # extracted, and what screening settled (exact repeats, rejected rows)
    quarantine: list[tuple[Any, ...]]    # the connector's rejected rows
    stamp: datetime | str
    change_log: bool = False             # versions come from the extract itself (record_versions), in its order


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
    screened: Screened | None = None

    @property
    def raw_ids(self) -> list[str]:
        return [row[0] for row in self.raw_rows]


def prepare_batch(conn: Connection, spec: MappingSpec, batch: Batch, *, run_id: str, now: datetime,
                  vault: Vault, landed: LandedThisRun | None = None,
                  seen: SeenRecordIds | None = None) -> PreparedBatch:
    """Hash, encrypt, normalize and build the statements of the records the store does not hold yet.

    `seen`: the record ids of the extract so far (one per run, given batch after batch in extract
    order); without it, repeats are caught within this batch only.
    """
    screened = screen_batch(conn, spec, batch, run_id=run_id, now=now, vault=vault,
                            seen=seen if seen is not None else SeenRecordIds(versions=spec.record_versions is not None))
    return prepare_screened(conn, spec, screened, run_id=run_id, vault=vault, landed=landed)


_RecordId = tuple[str | None, str | None, str | None]
"""(stored record id, problem, shown id): the stored id is None where the id cannot be used."""


def _ids_and_problems(spec: MappingSpec, rows: list[dict[str, Any]], vault: Vault) -> list[_RecordId]:
    pseudonymous = record_id_is_sensitive(spec)
    columns = ", ".join(spec.record_id)
    out: list[_RecordId] = []
    for row in rows:
        clear = _record_id(row, spec.record_id)
        if clear is None:
            out.append((None, f"record id column(s) {columns} blank", None))
            continue
        stored = "~" + vault.token(clear) if pseudonymous else clear
        problem = _id_problem(clear, stored)
        if problem is None:
            out.append((stored, None, stored))
        else:
            shown = stored if pseudonymous else _fitted(clear, ID_LENGTH)   # a token is always storable
            out.append((None, f"record id column(s) {columns}: {problem}", shown))
    return out


def screen_batch(conn: Connection, spec: MappingSpec, batch: Batch, *, run_id: str, now: datetime, vault: Vault,
                 seen: SeenRecordIds) -> Screened:
    """Key and time every record of a batch, and settle what its record id decides (see hub.ingest.repeats):
    a record without a usable id (blank, unstorable, or repeated with other content) keeps its place in the
    raw zone under its content hash and is quarantined; an exact repeat counts as unchanged."""
    counts = BatchCounts(extracted=len(batch.rows) + len(batch.rejected))
    if seen.started is None:
        seen.started = now
    if seen.latest is not None and now <= seen.latest:
        now = seen.latest + timedelta(microseconds=1)   # a later batch's versions are always the later ones
    stamp = timestamp_param(conn, now)
    quarantine: list[tuple[Any, ...]] = []
    for rejected in batch.rejected:
        raw_enc = vault.encrypt_text(rejected.raw) if rejected.raw is not None else None
        quarantine.append((spec.source, None, run_id, None, _fitted(rejected.position, POSITION_LENGTH), None, None,
                           "record", rejected.reason, raw_enc, stamp))
    counts.quarantined += len(batch.rejected)

    rows = batch.rows
    positions: list[str] | None = batch.positions or None
    payloads = [_payload(row) for row in rows]
    hashes = [vault.keyed_hash(payload) for payload in payloads]
    ids = _ids_and_problems(spec, rows, vault)
    before = seen.rows   # row i of the batch is row before + i + 1 of the extract
    fates = _repeats(spec, seen, rows, positions, hashes, ids, vault, now)
    seen.rows = before + len(rows)

    fresh: dict[str, _Landed] = {}
    for i, row in enumerate(rows):
        fate = fates[i]
        if fate is UNCHANGED:
            counts.unchanged += 1
            continue
        stored, problem, shown = ids[i]
        if isinstance(fate, str):
            problem, stored = fate, None
        key = stored if stored is not None else f"?{hashes[i]}"
        raw_id = vault.keyed_hash(f"{spec.source}\x1f{key}\x1f{hashes[i]}".encode())
        if raw_id in fresh:
            counts.unchanged += 1   # the same record without a usable id twice in one batch
            continue
        position = positions[i] if positions is not None else None
        if position is None and isinstance(fate, str):   # a repeat, from a source without positions (SQL)
            position = extract_row(before + i + 1)
        if position is not None and (len(position) > POSITION_LENGTH or _UNSTORABLE.search(position)):
            position = _fitted(position, POSITION_LENGTH)
        row_stamp = stamp if not isinstance(fate, timedelta) else timestamp_param(conn, now + fate)
        fresh[raw_id] = _Landed(row, key, problem, shown, hashes[i], payloads[i], position, row_stamp)
    return Screened(spec.source, fresh, counts, quarantine, stamp, spec.record_versions is not None)


UNCHANGED = object()
"""The fate of an exact repeat: counted as unchanged, nothing landed."""


def _repeats(spec: MappingSpec, seen: SeenRecordIds, rows: list[dict[str, Any]], positions: list[str] | None,
             hashes: list[str], ids: list[_RecordId], vault: Vault,
             now: datetime) -> list[object]:
    """Per row, what its record id's earlier occurrences in the extract decide: None (lands as it is),
    UNCHANGED, a quarantine reason, or for a change log's version the time offset it lands with."""
    fates: list[object] = [None] * len(rows)
    usable = [i for i, (stored, _, _) in enumerate(ids) if stored is not None]
    if not usable:
        seen.end_batch()
        return fates
    keys = record_key(vault, spec.source, [cast(str, ids[i][0]) for i in usable])
    key_of = dict(zip(usable, keys, strict=True))
    merged = {usable[j]: slot for j, slot in seen.earlier_slots(keys).items()}
    recent = seen.recent
    versions = spec.record_versions
    orders = {i: version_order(rows[i].get(versions.ordered_by)) for i in usable} if versions else {}
    if versions:   # versions of one record within a batch land in their order, a microsecond apart
        usable.sort(key=lambda i: (orders[i] is None, orders[i] or (0, 0.0)))
    offsets: dict[int, int] = {}
    first = seen.rows + 1   # the ordinal of the batch's row 0
    given: Sequence[str | None] = positions if positions is not None else [None] * len(rows)

    for i in usable:
        key, content = key_of[i], int(hashes[i][:16], 16)
        slot = merged.get(i)
        if slot is None:
            slot = recent.get(key)
        if slot is None:
            seen.add(key, content, first + i, given[i], orders.get(i))
            if versions:
                offsets[key] = 0
            continue
        earlier = seen.find(slot)
        if earlier.content == content:
            fates[i] = UNCHANGED
            continue
        order = orders.get(i)
        if versions is None:
            fates[i] = f"duplicate record id: first at {earlier.position}, this row has other content"
        elif order is None or earlier.order is None:
            fates[i] = (f"duplicate record id: a version at {earlier.position}, and a blank {versions.ordered_by} "
                        "leaves their order unknown")
        elif order == earlier.order:
            fates[i] = (f"duplicate record id: the version at {earlier.position} has the same "
                        f"{versions.ordered_by}, so which is newer is unknown")
        elif order > earlier.order:
            offsets[key] = offsets.get(key, -1) + 1
            fates[i] = timedelta(microseconds=offsets[key])
            seen.newer_version(earlier, content, first + i, given[i], order)
        else:   # older than a version an earlier batch landed: it lands as an earlier version
            assert seen.started is not None
            fates[i] = seen.started - now - timedelta(microseconds=1)
    if offsets:
        seen.latest = now + timedelta(microseconds=max(offsets.values()))
    seen.end_batch()
    return fates


def prepare_screened(conn: Connection, spec: MappingSpec, screened: Screened, *, run_id: str, vault: Vault,
                     landed: LandedThisRun | None = None) -> PreparedBatch:
    """The rows to write for the screened records the store does not hold yet (again, when a batch went stale)."""
    prepared = build_rows(spec, unknown_records(conn, screened, landed), run_id=run_id, vault=vault)
    prepared.screened = screened
    return prepared


@dataclass
class NewRecords:
    """The screened records of a batch the store did not hold when asked (`unknown_records`): all that
    `build_rows`, the CPU work, needs; it crosses to a worker process as it is (hub.ingest.parallel)."""

    source: str
    counts: BatchCounts                  # the screening's counts, with the records found known as unchanged
    quarantine: list[tuple[Any, ...]]    # the connector's rejected rows
    stamp: datetime | str
    records: dict[str, _Landed]          # raw record id → record, new ones only


def unknown_records(conn: Connection, screened: Screened, landed: LandedThisRun | None = None) -> NewRecords:
    """The screened records the store does not hold yet (one query, or none during an initial load)."""
    counts = BatchCounts()
    counts.add(screened.counts)
    known = _known_raw_ids(conn, list(screened.records), landed)
    returned = {rid for rid in _changed_back(conn, known) if screened.records[rid].problem is None} \
        if landed is None and not screened.change_log else set()
    counts.unchanged += len(known) - len(returned)
    new = {rid: x for rid, x in screened.records.items() if rid not in known}
    for rid in returned:
        x = screened.records[rid]
        again = hashlib.blake2b(f"{rid}\x1f{x.stamp}".encode(), digest_size=len(rid) // 2).hexdigest()
        new[again] = x
    return NewRecords(screened.source, counts, list(screened.quarantine), screened.stamp, new)


def _changed_back(conn: Connection, known: set[str]) -> set[str]:
    """The known raw ids whose record has landed a newer version with other content since: a record changed
    back (A, then B, then A again: a welfare payment suspended, then resumed). Its content is current again, so
    it lands once more, as the newest version, under an id of its own (the raw zone keeps A, B, A in order)."""
    if not known:
        return set()
    from hub.quality.gate import visible  # here, not above: hub.quality.gate imports hub.ingest

    k, n = tables.raw_record.alias("k"), tables.raw_record.alias("n")
    query = (sa.select(k.c.id, k.c.content_hash, n.c.content_hash, n.c.extracted_at, n.c.id)
             .join(n, (n.c.source == k.c.source) & (n.c.source_record_id == k.c.source_record_id)
                   & (n.c.extracted_at > k.c.extracted_at))
             .where(visible(n.c.id)))
    ids = sorted(known)
    newest: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(ids), 900):
        for row in conn.execute(query.where(k.c.id.in_(ids[start:start + 900]))):
            if row[0] not in newest or (row[3], row[4]) > (newest[row[0]][3], newest[row[0]][4]):
                newest[row[0]] = tuple(row)
    return {rid for rid, row in newest.items() if row[2] != row[1]}


def build_rows(spec: MappingSpec, records: NewRecords, *, run_id: str, vault: Vault) -> PreparedBatch:
    """Encrypt the new records' payloads and build their statements and quarantine rows: no store access,
    so batches can be built in other processes, in any order, and give the same rows."""
    counts, quarantine, stamp, new = records.counts, records.quarantine, records.stamp, records.records
    encrypted = vault.encrypt_many_bytes(x.payload for x in new.values())
    raw_rows = [(rid, spec.source, x.record_id, x.content_hash, payload, x.position, x.stamp, run_id)
                for (rid, x), payload in zip(new.items(), encrypted, strict=True)]

    keyed = [rid for rid, x in new.items() if x.problem is None]
    for rid, x in new.items():
        if x.problem is not None:
            counts.quarantined += 1
            quarantine.append((spec.source, x.shown_id, run_id, rid, x.position, None, ",".join(spec.record_id),
                               "record", x.problem, None, stamp))
    statements: list[tuple[Any, ...]] = []
    if keyed:
        frame = pd.DataFrame.from_records([new[rid].row for rid in keyed])
        refs = RecordRefs(record_ids=[new[rid].record_id for rid in keyed], raw_ids=keyed,
                          positions=[new[rid].position for rid in keyed],
                          stamps=None if all(new[rid].stamp == stamp for rid in keyed) else
                          [new[rid].stamp for rid in keyed])
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
    batches in flight together); the caller then prepares it again on this connection (`prepare_screened`
    of its `screened` records).
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
