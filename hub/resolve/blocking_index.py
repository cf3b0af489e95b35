"""The blocking index of resolved records, kept ready so that an incremental run costs O(new records).

A `ResolutionIndex` holds, per blocking rule, the keys of every resolved record as a compressed
sorted table (distinct keys → the rows holding them), the term-frequency counts of the frame, and
each cluster's guard values (its valid ID, whether it holds a register record). Looking up the keys
of a thousand new records is then a hash probe per key, not a pass over a million old ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.keys import BlockingRule, KeyTable, Rows, RuleTables

Pairs = tuple[Rows, Rows]


@dataclass(frozen=True)
class KeyIndex:
    """Distinct keys and, for each, the rows holding it (CSR: rows[starts[k]:starts[k + 1]], ascending)."""

    keys: npt.NDArray[np.generic]
    """Sorted: a probe is a binary search, so an index read back from disk needs no hash table rebuilt."""
    starts: Rows
    rows: Rows

    @classmethod
    def build(cls, table: KeyTable) -> KeyIndex:
        rows, keys = table
        codes, uniques = pd.factorize(keys, sort=True)
        order = np.lexsort((rows, codes))
        counts = np.bincount(codes, minlength=len(uniques))
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(np.asarray(uniques), starts, rows[order].astype(np.int64))

    def lookup(self, keys: npt.NDArray[np.generic]) -> Rows:
        """Position of each key among the distinct keys, -1 where absent."""
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, at, -1)

    def probe(self, table: KeyTable, cap: int, star: bool) -> tuple[Pairs, int]:
        """(new row, indexed row) pairs for a table of new keys; blocks over `cap` skipped (counted)."""
        new_rows, keys = table
        if not len(new_rows) or not len(self.keys):
            return (np.zeros(0, np.int64), np.zeros(0, np.int64)), 0
        codes = self.lookup(np.asarray(keys))
        found = codes >= 0
        new_rows, codes = new_rows[found], codes[found]
        sizes = self.starts[codes + 1] - self.starts[codes]
        if star:
            return (new_rows, self.rows[self.starts[codes]]), 0
        capped = sizes > cap
        new_rows, codes, sizes = new_rows[~capped], codes[~capped], sizes[~capped]
        left = np.repeat(new_rows, sizes)
        offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        right = self.rows[np.repeat(self.starts[codes], sizes) + offsets]
        return (left, right), int(capped.sum())


@dataclass(frozen=True)
class ResolutionIndex:
    keys: dict[str, tuple[KeyIndex, KeyIndex | None]]
    """Per rule: the index of every row's keys, and of its probe keys (asymmetric rules)."""
    term_counts: dict[str, pd.Series]
    """Per term-frequency column: value → number of records."""
    term_totals: dict[str, int]
    cluster_unique: pd.Series
    cluster_register: pd.Series

    @classmethod
    def build(cls, rules: Sequence[BlockingRule], tables: RuleTables, features: pd.DataFrame,
              tf_columns: Sequence[str], labels: npt.NDArray[np.object_], unique_column: str | None,
              register: npt.NDArray[np.bool_]) -> ResolutionIndex:
        keys = {rule.name: (KeyIndex.build(tables[rule.name][0]),
                            KeyIndex.build(tables[rule.name][1]) if rule.probe is not None else None)
                for rule in rules}
        counts = {column: pd.Series(features[column].to_numpy(dtype=object)).value_counts() for column in tf_columns}
        unique = (features[unique_column].groupby(labels).first() if unique_column
                  else pd.Series(dtype=object))
        register_of = pd.Series(register).groupby(labels).any()
        for series in [*counts.values(), unique, register_of]:
            _ = series.index.is_unique   # computed once here, not on the first increment's lookup
        return cls(keys, counts, {c: int(s.sum()) for c, s in counts.items()}, unique, register_of)
