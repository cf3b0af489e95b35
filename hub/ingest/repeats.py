"""The record ids one extract has shown so far, to catch a record id that repeats within it.

A record id identifies one row of an extract. When it repeats with other content, landing both
would make two versions of one record out of two rows, and the later one (or whichever the raw
zone's tie-break picks) would silently hide the other: 1,000 rows over 2 ids became 2 records. So
the first occurrence lands and each later one with other content is quarantined, naming both
positions; a source that really is a change log declares the column ordering its versions
(`record_versions` in its mapping), and only then are repeats landed as versions in that order.

Memory: record ids may be sensitive, and an extract may hold millions, so they are kept as 64-bit
keyed hashes, each with its first occurrence's content hash (64 bits) and position (its text, UTF-8,
in one buffer, with two offsets): packed arrays, no Python object per id, where a dict of the clear ids
would hold several. Lookups go by batch: one binary search over the sorted keys for the whole batch,
then a dict of the ids added since the keys were last merged (a linear insert, every MERGE_AT new ids).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

import numpy as np

from hub.normalize import get_normalizer
from hub.normalize.base import is_blank

MERGE_AT = 65_536
"""New ids held in the dict before they are merged into the sorted arrays."""

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


@dataclass(frozen=True, slots=True)
class Earlier:
    """What the extract showed first under a record id (of a change log: its latest version so far)."""

    slot: int
    content: int            # the first 64 bits of its keyed content hash
    position: str
    order: VersionOrder | None


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
        self._position_starts = array("Q")             # by slot: where its position is in _positions
        self._position_ends = array("Q")
        self._positions = bytearray()
        self._orders: list[VersionOrder | None] = []   # by slot, change logs only: the latest version's order
        self._new: list[tuple[int, str, VersionOrder | None]] = []   # this batch's new slots, packed at its end
        self.rows = 0                                  # rows of the extract so far (positions of sources without)
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
            content, position, order = self._new[slot - packed]
            return Earlier(slot, content, position, order)
        position = self._positions[self._position_starts[slot]:self._position_ends[slot]].decode("utf-8", "replace")
        return Earlier(slot, self._content[slot], position, self._orders[slot] if self.versions else None)

    def add(self, key: int, content: int, position: str, order: VersionOrder | None = None) -> None:
        self.recent[key] = len(self._content) + len(self._new)
        self._new.append((content, position, order))

    def newer_version(self, earlier: Earlier, content: int, position: str, order: VersionOrder) -> None:
        """Record that a later version of the record landed (what the next repeat is compared with)."""
        slot = earlier.slot
        packed = len(self._content)
        if slot >= packed:
            self._new[slot - packed] = (content, position, order)
            return
        self._content[slot] = content
        self._orders[slot] = order
        self._position_starts[slot] = len(self._positions)
        self._positions += position.encode("utf-8", "backslashreplace")
        self._position_ends[slot] = len(self._positions)

    def end_batch(self) -> None:
        """Pack the batch's new ids, and merge the recent ones into the sorted arrays once there are enough."""
        if self._new:
            encoded = [position.encode("utf-8", "backslashreplace") for _, position, _ in self._new]
            ends = list(accumulate(map(len, encoded), initial=len(self._positions)))
            self._position_starts.extend(ends[:-1])
            self._position_ends.extend(ends[1:])
            self._positions += b"".join(encoded)
            self._content.extend([content for content, _, _ in self._new])
            if self.versions:
                self._orders.extend([order for _, _, order in self._new])
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
