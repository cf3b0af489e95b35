"""The record ids one extract has shown so far, to catch a record id that repeats within it.

A record id identifies one row of an extract. When it repeats with other content, landing both
would make two versions of one record out of two rows, and the later one (or whichever the raw
zone's tie-break picks) would silently hide the other: 1,000 rows over 2 ids became 2 records. So
the first occurrence lands and each later one with other content is quarantined, naming both
positions; a source that really is a change log declares the column ordering its versions
(`record_versions` in its mapping), and only then are repeats landed as versions in that order.

Memory: record ids may be sensitive, and an extract may hold millions, so they are kept as 64-bit
keyed hashes, with the first occurrence's content hash (64 bits) and position (its text, UTF-8, in
one buffer): some 40 bytes a record, where a dict of the clear ids would take some 250. Lookups go
by batch: one binary search over a sorted array for the whole batch, then a small dict of the ids
added since the array was last merged (merging is a linear insert, every MERGE_AT new ids).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime
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
    """Record ids (as keyed 64-bit hashes) seen so far in one extract, with their first occurrence."""

    def __init__(self, *, versions: bool = False) -> None:
        self.versions = versions                       # a change log: repeats may be versions (keeps their order)
        self._keys = np.empty(0, dtype=np.uint64)      # sorted
        self._slots = np.empty(0, dtype=np.uint32)     # aligned with _keys
        self._recent: dict[int, int] = {}              # key → slot, not merged yet
        self._content = array("Q")                     # by slot
        self._position_starts = array("Q")             # by slot: where its position is in _positions
        self._position_ends = array("Q")
        self._positions = bytearray()
        self._orders: list[VersionOrder | None] = []   # by slot, change logs only: the latest version's order
        self.rows = 0                                  # rows of the extract so far (positions of sources without)
        self.started: datetime | None = None           # the first batch's time: older versions land just before it
        self.latest: datetime | None = None            # the latest time given to a version so far

    def __len__(self) -> int:
        return len(self._content)

    def earlier_slots(self, keys: list[int]) -> list[int | None]:
        """For each key, the slot of an occurrence merged before (the dict of recent ones is asked by `find`)."""
        if not len(self._keys) or not keys:
            return [None] * len(keys)
        wanted = np.array(keys, dtype=np.uint64)
        at = np.searchsorted(self._keys, wanted)
        inside = at < len(self._keys)
        found = np.zeros(len(keys), dtype=bool)
        found[inside] = self._keys[at[inside]] == wanted[inside]
        slots = self._slots[np.minimum(at, len(self._keys) - 1)]
        return [int(s) if f else None for s, f in zip(slots.tolist(), found.tolist(), strict=True)]

    def find(self, key: int, merged_slot: int | None) -> Earlier | None:
        slot = merged_slot if merged_slot is not None else self._recent.get(key)
        if slot is None:
            return None
        position = self._positions[self._position_starts[slot]:self._position_ends[slot]].decode("utf-8", "replace")
        order = self._orders[slot] if self._orders else None
        return Earlier(slot, self._content[slot], position, order)

    def add(self, key: int, content: int, position: str, order: VersionOrder | None = None) -> None:
        slot = len(self._content)
        self._recent[key] = slot
        self._content.append(content)
        self._position_starts.append(len(self._positions))
        self._positions += position.encode("utf-8", "backslashreplace")
        self._position_ends.append(len(self._positions))
        if self.versions:
            self._orders.append(order)

    def newer_version(self, earlier: Earlier, content: int, position: str, order: VersionOrder) -> None:
        """Record that a later version of the record landed (what the next repeat is compared with)."""
        slot = earlier.slot
        self._content[slot] = content
        self._orders[slot] = order
        self._position_starts[slot] = len(self._positions)
        self._positions += position.encode("utf-8", "backslashreplace")
        self._position_ends[slot] = len(self._positions)

    def merge(self, force: bool = False) -> None:
        """Move the recent ids into the sorted arrays (when there are enough of them, or `force`)."""
        if not self._recent or (len(self._recent) < MERGE_AT and not force):
            return
        keys = np.fromiter(self._recent.keys(), dtype=np.uint64, count=len(self._recent))
        slots = np.fromiter(self._recent.values(), dtype=np.uint32, count=len(self._recent))
        order = np.argsort(keys, kind="stable")
        keys, slots = keys[order], slots[order]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._slots = np.insert(self._slots, at, slots)
        self._recent.clear()
