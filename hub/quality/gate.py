"""The quality gate between landing and publication (G14), and retirement of records gone from a source.

A batch is what one ingest run of a source landed. Its statements are in the store as soon as it commits
(one transaction per batch with its watermark, G3); the gate decides afterwards whether fusion and
publication may read them. A batch that fails a critical expectation is *held*: every record version it
landed gets a `record_hold` row (reason "quality") and the readers of statements skip those versions
(`visible`), so fusion keeps the previous version of each record and the read model keeps serving what it
served. Nothing is deleted. The hold ends in one of three ways:

- `hub batches approve RUN`: an operator accepts the batch as it is; its versions are released.
- a later run of the source is gated: the held batch is superseded (what the source holds now counts). Held
  versions that run saw again unchanged (only a full read sees every record) are validated with its batch:
  released if it passes, held on its behalf if it fails. The others (content the fix replaced) stay held,
  kept for the record.

A full read (the connector read the whole source, not an increment) that passes also settles deletions:
every record of the source it no longer found is retired (reason "gone": all its versions are skipped by
fusion, so golden values stop carrying a claim the department withdrew) and a retired record found again
is released. Resolution still reads retired records (they remain evidence of who is who); held ones it
skips like fusion does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.errors import ConfigurationError
from hub.ingest.repeats import SeenRecordIds, record_key
from hub.protect import Vault
from hub.store import tables
from hub.store.runs import now

log = logging.getLogger(__name__)

PUBLISHED, HELD, APPROVED, SUPERSEDED = "published", "held", "approved", "superseded"
QUALITY, GONE = "quality", "gone"
CHUNK = 900


def visible(raw_record_id: Any, reasons: Collection[str] | None = None) -> sa.ColumnElement[bool]:
    """WHERE clause keeping the record versions no hold keeps out (of the `reasons` given, else of any).

    One subquery, no bound list: the held set may hold a whole source's records, and the server answers
    NOT IN over the indexed primary key with a hashed lookup."""
    h = tables.record_hold.c
    held = sa.select(h.raw_record_id).where(h.released_at.is_(None))
    if reasons is not None:
        held = held.where(h.reason.in_(list(reasons)))
    return sa.not_(raw_record_id.in_(held))


def changed_since(since: datetime) -> sa.Select[Any]:
    """(source, source_record_id) of records held, retired or released after `since`: an incremental
    resolution must look at them again, although no new version of them landed."""
    h = tables.record_hold.c
    return sa.select(h.source, h.source_record_id).where(sa.or_(h.held_at > since, h.released_at > since))


@dataclass
class GateResult:
    """What the gate decided for one run's batch."""

    run_id: str
    source: str
    state: str                       # published | held
    rows: int = 0                    # record versions validated
    failed_critical: list[str] = field(default_factory=list)
    failed_warning: list[str] = field(default_factory=list)
    held_versions: int = 0
    released_versions: int = 0       # earlier held versions this run saw again, released with it
    superseded_runs: list[str] = field(default_factory=list)
    retired_records: int = 0
    returned_records: int = 0
    full_read: bool = False

    @property
    def note(self) -> str:
        return "; ".join(self.failed_critical)


@dataclass
class BatchInfo:
    """A gated ingest run, as `hub batches list` shows it."""

    run_id: str
    source: str
    finished_at: datetime | None
    gate: str
    note: str | None
    loaded: int
    held_versions: int


def set_gate(conn: Connection, run_id: str, state: str, note: str | None) -> None:
    r = tables.run.c
    conn.execute(tables.run.update().where(r.id == run_id).values(gate=state, gate_note=note))


def hold_run(conn: Connection, run_id: str, source: str) -> int:
    """Hold every record version the run landed (INSERT … SELECT: the versions never leave the server)."""
    raw, h = tables.raw_record.c, tables.record_hold.c
    already = sa.select(h.raw_record_id).where(h.reason == QUALITY)
    chosen = sa.select(raw.id, sa.literal(QUALITY), raw.source, raw.source_record_id, sa.literal(run_id),
                       sa.literal(now(), sa.DateTime(timezone=True))).where(
        raw.run_id == run_id, raw.source == source, raw.id.not_in(already))
    result = conn.execute(tables.record_hold.insert().from_select(
        ["raw_record_id", "reason", "source", "source_record_id", "run_id", "held_at"], chosen))
    return int(result.rowcount or 0)


def _release(conn: Connection, raw_ids: Sequence[str], reason: str, by: str) -> int:
    h = tables.record_hold.c
    done = 0
    for start in range(0, len(raw_ids), CHUNK):
        done += int(conn.execute(tables.record_hold.update().where(
            h.raw_record_id.in_(list(raw_ids[start:start + CHUNK])), h.reason == reason, h.released_at.is_(None))
            .values(released_at=now(), released_by=by)).rowcount or 0)
    return done


def _held_versions(conn: Connection, source: str, reason: str) -> pd.DataFrame:
    h, raw = tables.record_hold.c, tables.raw_record.c
    rows = conn.execute(sa.select(h.raw_record_id, h.source_record_id, h.run_id, raw.content_hash)
                        .join(tables.raw_record, raw.id == h.raw_record_id)
                        .where(h.source == source, h.reason == reason, h.released_at.is_(None))).all()
    return pd.DataFrame(rows, columns=["raw_record_id", "source_record_id", "run_id", "content_hash"])


def _seen_again(vault: Vault, source: str, versions: pd.DataFrame, seen: SeenRecordIds,
                *, same_content: bool) -> pd.Series:
    """Per row of `versions`: did the full extract behind `seen` show its record (with this content)?"""
    if versions.empty:
        return pd.Series([], dtype=bool)
    keys = record_key(vault, source, versions["source_record_id"].tolist())
    slots = seen.earlier_slots(keys)
    found = []
    for i, content_hash in enumerate(versions["content_hash"]):
        slot = slots.get(i)
        if slot is None:
            found.append(False)
        elif same_content:
            found.append(seen.find(slot).content == int(content_hash[:16], 16))
        else:
            found.append(True)
    return pd.Series(found, index=versions.index, dtype=bool)


def reseen_held(conn: Connection, vault: Vault, source: str, seen: SeenRecordIds | None) -> list[str]:
    """Held versions of the source a full read found again, unchanged: part of what that run would publish,
    so its suites validate them too (`seen` None: not a full read, nothing is known to be seen again)."""
    if seen is None:
        return []
    held = _held_versions(conn, source, QUALITY)
    return held.loc[_seen_again(vault, source, held, seen, same_content=True), "raw_record_id"].tolist()


def supersede_earlier(conn: Connection, result: GateResult) -> None:
    """The source's earlier held batches give way to this run's: what the source holds now is what counts."""
    r = tables.run.c
    held_runs = [row[0] for row in conn.execute(sa.select(r.id).where(
        r.stage == "ingest", r.source == result.source, r.gate == HELD, r.id != result.run_id))]
    for run_id in held_runs:
        set_gate(conn, run_id, SUPERSEDED, f"superseded by run {result.run_id}")
    result.superseded_runs = held_runs


def hold_again(conn: Connection, run_id: str, reseen: Sequence[str]) -> None:
    """Held versions a held run saw again are held on its behalf now (approving it releases them too)."""
    h = tables.record_hold.c
    for start in range(0, len(reseen), CHUNK):
        conn.execute(tables.record_hold.update().where(
            h.raw_record_id.in_(list(reseen[start:start + CHUNK])), h.reason == QUALITY, h.released_at.is_(None))
            .values(run_id=run_id))


def settle_passing_run(conn: Connection, vault: Vault, result: GateResult, seen: SeenRecordIds | None,
                       reseen: Sequence[str]) -> None:
    """A run that passed its critical suite: release the held versions it saw again (its suites validated them)
    and, after a full read, retire the records gone from the source and release the retired ones found again."""
    result.released_versions = _release(conn, reseen, QUALITY, result.run_id)
    if seen is not None:
        _retire_gone(conn, vault, result, seen)


def _retire_gone(conn: Connection, vault: Vault, result: GateResult, seen: SeenRecordIds) -> None:
    raw, h = tables.raw_record.c, tables.record_hold.c
    source = result.source
    gone_held = _held_versions(conn, source, GONE)
    if not gone_held.empty:
        back = gone_held[_seen_again(vault, source, gone_held, seen, same_content=False)]
        result.returned_records = int(back["source_record_id"].nunique())
        _release(conn, back["raw_record_id"].tolist(), GONE, result.run_id)
    versions = pd.DataFrame(conn.execute(sa.select(raw.id, raw.source_record_id).where(
        raw.source == source, visible(raw.id, [GONE]))).all(), columns=["raw_record_id", "source_record_id"])
    versions = versions[~versions["source_record_id"].str.startswith("?")]   # no usable id: never a record
    if versions.empty:
        return
    records = versions.drop_duplicates("source_record_id")
    keys = record_key(vault, source, records["source_record_id"].tolist())
    present = seen.earlier_slots(keys)
    gone = {sid for i, sid in enumerate(records["source_record_id"]) if i not in present}
    if not gone:
        return
    stamp = now()
    rows = [{"raw_record_id": rid, "reason": GONE, "source": source, "source_record_id": sid,
             "run_id": result.run_id, "held_at": stamp}
            for rid, sid in zip(versions["raw_record_id"], versions["source_record_id"], strict=True) if sid in gone]
    existing = {row[0] for row in conn.execute(sa.select(h.raw_record_id).where(
        h.source == source, h.reason == GONE))}   # released when the record came back; gone again now
    again = [row["raw_record_id"] for row in rows if row["raw_record_id"] in existing]
    for start in range(0, len(again), CHUNK):
        chunk = again[start:start + CHUNK]
        conn.execute(tables.record_hold.update().where(h.reason == GONE, h.raw_record_id.in_(chunk))
                     .values(released_at=None, released_by=None, run_id=result.run_id, held_at=stamp))
    rows = [row for row in rows if row["raw_record_id"] not in existing]
    for start in range(0, len(rows), CHUNK):
        conn.execute(tables.record_hold.insert(), rows[start:start + CHUNK])
    result.retired_records = len(gone)


def approve(engine: Engine, run_id: str, who: str, why: str | None = None) -> BatchInfo:
    """Release a held batch as it is: an operator's decision, recorded on the run with who and why."""
    r = tables.run.c
    with engine.begin() as conn:
        row = conn.execute(sa.select(r.source, r.gate, r.gate_note).where(r.id == run_id)).first()
        if row is None:
            raise ConfigurationError(f"no run {run_id!r}: `hub batches list` shows the held batches")
        if row.gate not in (HELD, SUPERSEDED):
            raise ConfigurationError(f"run {run_id} is not held (its batch is {row.gate or 'not gated'})")
        h = tables.record_hold.c
        conn.execute(tables.record_hold.update().where(h.run_id == run_id, h.reason == QUALITY,
                                                       h.released_at.is_(None))
                     .values(released_at=now(), released_by=f"approved by {who}"[:128]))
        note = json.dumps({"held": row.gate_note, "approved_by": who, "why": why}, ensure_ascii=False)
        set_gate(conn, run_id, APPROVED, note)
    log.warning("batch of run %s (%s) approved by %s", run_id, row.source, who)
    return next(b for b in batches(engine, include_released=True) if b.run_id == run_id)


def batches(engine: Engine, *, include_released: bool = False) -> list[BatchInfo]:
    """Gated ingest runs, newest first: the held (and superseded) ones, or every gated one."""
    r, h = tables.run.c, tables.record_hold.c
    states = [HELD, SUPERSEDED] if not include_released else [HELD, SUPERSEDED, APPROVED, PUBLISHED]
    held = (sa.select(h.run_id, sa.func.count().label("n")).where(h.reason == QUALITY, h.released_at.is_(None))
            .group_by(h.run_id).subquery())
    query = (sa.select(r.id, r.source, r.finished_at, r.gate, r.gate_note, r.loaded, held.c.n)
             .outerjoin(held, held.c.run_id == r.id).where(r.gate.in_(states)).order_by(r.started_at.desc()))
    with engine.connect() as conn:
        return [BatchInfo(row.id, row.source, row.finished_at, row.gate, row.gate_note, row.loaded, int(row.n or 0))
                for row in conn.execute(query)]
