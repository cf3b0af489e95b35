"""The record ids one extract has shown so far, to catch a record id that repeats within it.

A record id identifies one row of an extract. When it repeats with other content, landing both
would make two versions of one record out of two rows, and the later one (or whichever the raw
zone's tie-break picks) would silently hide the other: 1,000 rows over 2 ids became 2 records. So
the first occurrence lands and each later one with other content is quarantined, naming both
positions; a source that really is a change log declares the column ordering its versions
(`record_versions` in its mapping), and only then are repeats landed as versions in that order.

An extract may span several runs: a run that fails or is killed half way leaves the watermark of its
last committed batch, and the next run resumes after it. That run's `seen` is therefore seeded, before
its first batch, with what the earlier runs of the same extract landed (`earlier_runs_of_extract`,
`seed_from_runs`). Those runs are the unbroken chain of runs of the source right before this one, newest
first, each failed or interrupted and each ending at the watermark the next one started from:
- a run that started from no watermark began the extract: it is the last one of the chain;
- a run that ended where it started (it failed before its first batch, or its connector keeps the
  incoming watermark until its last batch, as the HTTP connector does) is passed over: whatever it
  landed, the run after it extracts again;
- a succeeded or still running run, or a watermark that changed between two runs (set by hand, or
  forgotten to load a source again), ends the chain; a run without a watermark starts a new extract.
Two limits follow from what the store records. Only what those runs landed is known: a record they
found already in the raw zone (unchanged since an earlier extract) left no row, so a repeat of its id
in the resumed part is not caught. And a connector given the watermark of an unfinished extract may
start another one (a file that changed meanwhile): the rows of the unfinished extract are then still
compared with the new one, and a record whose content changed in between is quarantined as a repeat;
it lands as usual with the next complete extract.

Positions: a row with a position of the connector's own ("line 12") is named by it; a row without
(a SQL source) by its place among the rows the extract gave: "row N of the extract", counting every
row of every batch (rejected rows carry their own positions and are not counted), continued across
the runs of one extract. A seeded record from a source without positions is named by the run that
landed it, since its place within that run's batch was not kept.

Memory: record ids may be sensitive, and an extract may hold millions, so they are kept as 64-bit
keyed hashes, each with its first occurrence's content hash (64 bits) and one 64-bit word: its row's
ordinal, or where the connector's position of it is (UTF-8 ended by NUL, in one buffer):
packed arrays, no Python object per id, where a dict of the clear ids would hold several. The text
"row N of the extract" is made only when a repeat names it. Lookups go by batch: one binary search
over the sorted keys for the whole batch, then a dict of the ids added since the keys were last
merged (a linear insert, every MERGE_AT new ids).
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from hub.mapping import MappingSpec
from hub.normalize import get_normalizer
from hub.normalize.base import is_blank
from hub.protect import Vault
from hub.store import tables
from hub.store.runs import FAILED, INTERRUPTED, as_utc

MERGE_AT = 65_536
"""New ids held in the dict before they are merged into the sorted arrays."""

SEED_PART = 50_000
"""Raw rows read at a time when an earlier run's part of the extract is put into `seen`."""

_ORDINAL = 1 << 63
"""Marks a slot's `_where` as its row's ordinal (no position of the connector's) rather than an offset."""

VersionOrder = tuple[int, float | str]
"""A comparable ordering value: (0, number), (1, ISO timestamp) or (2, text)."""

_DATETIME = get_normalizer("datetime")


def version_order(value: Any) -> VersionOrder | None:
    """Where a version goes among its record's versions: numbers as numbers, timestamps (any form the
    datetime normalizer reads) as timestamps, other text as text; None when the value is blank."""
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    text = str(value).strip()
    try:
        return (0, float(text))
    except ValueError:
        pass
    stamp = _DATETIME(text).value
    return (1, stamp) if stamp is not None else (2, text)


def extract_row(ordinal: int) -> str:
    """The position of a row without one of its own (a SQL source): its place in the extract."""
    return f"row {ordinal} of the extract"


@dataclass(frozen=True, slots=True)
class Earlier:
    """What the extract showed first under a record id (of a change log: its latest version so far)."""

    slot: int
    content: int            # the first 64 bits of its keyed content hash
    ordinal: int            # its place among the extract's rows (0: landed by an earlier run, place not kept)
    given: str | None       # the connector's position of it, if any
    order: VersionOrder | None

    @property
    def position(self) -> str:
        return self.given if self.given is not None else extract_row(self.ordinal)


class SeenRecordIds:
    """Record ids (as keyed 64-bit hashes) seen so far in one extract, with their first occurrence.

    Per batch: `earlier_slots` for the whole batch, then per row `recent.get(key)` and `find` / `add`,
    then `end_batch`, which packs the batch's new ids into the compact arrays.
    """

    def __init__(self, *, versions: bool = False) -> None:
        self.versions = versions                       # a change log: repeats may be versions (keeps their order)
        self._keys = np.empty(0, dtype=np.uint64)      # sorted
        self._slots = np.empty(0, dtype=np.uint32)     # aligned with _keys
        self.recent: dict[int, int] = {}               # key → slot, not merged yet
        self._content = array("Q")                     # by slot
        self._where = array("Q")                       # by slot: its ordinal | _ORDINAL, or where its position is
        self._positions = bytearray()                  # the connector's positions: UTF-8, each ended by NUL
        self._orders: list[VersionOrder | None] = []   # by slot, change logs only: the latest version's order
        self._new: list[tuple[int, int, str | None, VersionOrder | None]] = []   # this batch's, packed at its end
        self.rows = 0                                  # rows of the extract so far: the last row's ordinal
        self.started: datetime | None = None           # the first batch's time: older versions land just before it
        self.latest: datetime | None = None            # the latest time given to a version so far

    def __len__(self) -> int:
        return len(self._content) + len(self._new)

    def earlier_slots(self, keys: list[int]) -> dict[int, int]:
        """Index in `keys` → slot, for the keys merged before this batch (few: most ids are new)."""
        if not len(self._keys) or not keys:
            return {}
        wanted = np.fromiter(keys, dtype=np.uint64, count=len(keys))
        at = np.minimum(np.searchsorted(self._keys, wanted), len(self._keys) - 1)
        hits = np.flatnonzero(self._keys[at] == wanted)
        return dict(zip(hits.tolist(), self._slots[at[hits]].tolist(), strict=True))

    def find(self, slot: int) -> Earlier:
        packed = len(self._content)
        if slot >= packed:
            content, ordinal, given, order = self._new[slot - packed]
            return Earlier(slot, content, ordinal, given, order)
        where = self._where[slot]
        order = self._orders[slot] if self.versions else None
        if where & _ORDINAL:
            return Earlier(slot, self._content[slot], where & ~_ORDINAL, None, order)
        given = self._positions[where:self._positions.index(0, where)].decode("utf-8", "replace")
        return Earlier(slot, self._content[slot], 0, given, order)

    def add(self, key: int, content: int, ordinal: int, given: str | None = None,
            order: VersionOrder | None = None) -> None:
        """A record id not seen before, at row `ordinal` of the extract (`given`: the connector's position)."""
        self.recent[key] = len(self._content) + len(self._new)
        self._new.append((content, ordinal, given, order))

    def newer_version(self, earlier: Earlier, content: int, ordinal: int, given: str | None,
                      order: VersionOrder) -> None:
        """Record that a later version of the record landed (what the next repeat is compared with)."""
        slot = earlier.slot
        packed = len(self._content)
        if slot >= packed:
            self._new[slot - packed] = (content, ordinal, given, order)
            return
        self._content[slot] = content
        self._orders[slot] = order
        [self._where[slot]] = self._places([ordinal], [given])

    def _places(self, ordinals: list[int], givens: list[str | None]) -> list[int]:
        """What `_where` holds for rows: each one's ordinal, or (appending its text) where its position is."""
        if givens.count(None) == len(givens):   # a source without positions: no text at all
            return [ordinal | _ORDINAL for ordinal in ordinals]
        texts = [given.encode("utf-8", "backslashreplace") if given is not None else b"" for given in givens]
        packed = b"\0".join(texts) + b"\0"
        if packed.count(0) != len(texts):   # a NUL in a position: written as its escape, NUL ends each text
            texts = [text.replace(b"\0", b"\\x00") for text in texts]
            packed = b"\0".join(texts) + b"\0"
        starts = accumulate([len(text) + 1 for text in texts], initial=len(self._positions))
        self._positions += packed
        return [start if given is not None else ordinal | _ORDINAL
                for start, ordinal, given in zip(starts, ordinals, givens, strict=False)]

    def end_batch(self) -> None:
        """Pack the batch's new ids, and merge the recent ones into the sorted arrays once there are enough."""
        if self._new:
            self._where.extend(self._places([ordinal for _, ordinal, _, _ in self._new],
                                            [given for _, _, given, _ in self._new]))
            self._content.extend([content for content, _, _, _ in self._new])
            if self.versions:
                self._orders.extend([order for _, _, _, order in self._new])
            self._new.clear()
        if len(self.recent) >= MERGE_AT:
            self.merge()

    def merge(self) -> None:
        """Move the recent ids into the sorted arrays: a linear insert of the few into the many."""
        if not self.recent:
            return
        keys = np.fromiter(self.recent.keys(), dtype=np.uint64, count=len(self.recent))
        slots = np.fromiter(self.recent.values(), dtype=np.uint32, count=len(self.recent))
        order = np.argsort(keys, kind="stable")
        keys, slots = keys[order], slots[order]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._slots = np.insert(self._slots, at, slots)
        self.recent.clear()


def record_key(vault: Vault, source: str, stored_ids: list[str]) -> list[int]:
    """The 64-bit keys `SeenRecordIds` holds for record ids as the raw zone stores them."""
    return [int(h[:16], 16) for h in vault.keyed_hashes([f"{source}\x1f{stored}" for stored in stored_ids])]


def earlier_runs_of_extract(conn: Connection, run_id: str) -> list[str]:
    """The runs whose extract this run resumes, newest first (the chain in the module's docstring)."""
    r = tables.run.c
    this = conn.execute(select(r.stage, r.source, r.started_at, r.watermark_before).where(r.id == run_id)).one()
    watermark = this.watermark_before
    chain: list[str] = []
    if watermark is None:
        return chain
    earlier = conn.execute(select(r.id, r.status, r.watermark_before, r.watermark_after).where(
        r.stage == this.stage, r.source == this.source, r.started_at < this.started_at, r.id != run_id)
        .order_by(r.started_at.desc()))
    for run in earlier:
        if run.status not in (FAILED, INTERRUPTED):
            break
        ended = run.watermark_after if run.watermark_after is not None else run.watermark_before   # killed early
        if ended != watermark:
            break
        if run.watermark_before == watermark:
            continue
        chain.append(run.id)
        watermark = run.watermark_before
        if watermark is None:
            break
    return chain


def seed_from_runs(conn: Connection, spec: MappingSpec, vault: Vault, seen: SeenRecordIds, runs: list[str]) -> int:
    """Put what `runs` (the earlier part of this extract) landed into `seen`, keyed and valued as landing
    keys them, and continue the extract's row count after their rows; the number of record ids seeded."""
    if not runs:
        return 0
    raw, q, r = tables.raw_record.c, tables.quarantine.c, tables.run.c
    extracted = conn.execute(select(func.coalesce(func.sum(r.extracted), 0)).where(r.id.in_(runs))).scalar_one()
    rejected = conn.execute(select(func.count()).select_from(tables.quarantine).where(
        q.run_id.in_(runs), q.kind == "record", q.raw_record_id.is_(None))).scalar_one()
    seen.rows = int(extracted) - int(rejected)
    versions = spec.record_versions
    columns = [raw.source_record_id, raw.content_hash, raw.position, raw.run_id, raw.extracted_at]
    if versions is not None:
        columns.append(raw.payload)
    query = (select(*columns).where(raw.source == spec.source, raw.run_id.in_(runs))
             .order_by(raw.extracted_at, raw.id))
    seeded = 0
    # in parts, as landing goes through batches: the packed arrays hold them, not a list of every row
    for part in conn.execution_options(yield_per=SEED_PART).execute(query).partitions():
        usable = [row for row in part if row.source_record_id != "?" + row.content_hash]   # a usable record id
        if not usable:
            continue
        if seen.started is None:
            seen.started = as_utc(usable[0].extracted_at)
        seen.latest = as_utc(usable[-1].extracted_at)
        keys = record_key(vault, spec.source, [row.source_record_id for row in usable])
        merged = seen.earlier_slots(keys)
        for j, (key, row) in enumerate(zip(keys, usable, strict=True)):
            order = None
            if versions is not None:
                order = version_order(json.loads(vault.decrypt(bytes(row.payload))).get(versions.ordered_by))
            given = row.position if row.position is not None else f"a row run {row.run_id} landed"
            content = int(row.content_hash[:16], 16)
            slot = merged.get(j, seen.recent.get(key))
            if slot is None:
                seen.add(key, content, 0, given, order)
                seeded += 1
                continue
            earlier = seen.find(slot)   # the same id landed again: a newer version of a change log keeps its place
            if versions is not None and order is not None and earlier.order is not None and order > earlier.order:
                seen.newer_version(earlier, content, 0, given, order)
        seen.end_batch()
    return seeded
