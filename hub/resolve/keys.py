"""Blocking: which record pairs get compared at all (matching-notes §8).

A blocking rule gives each record zero or more keys; two records sharing a key become a candidate
pair, and the candidates are the union over all rules. A rule may be asymmetric: typo-tolerant
ID keys are probed only from records whose ID failed its check, against every ID, so that two
valid IDs (which never differ by one digit or one adjacent swap) do not pair up through them.
Blocks larger than the rule's cap (a grid worker's office phone on 300 welfare rows) are skipped
and counted, never silently truncated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

Rows = npt.NDArray[np.int64]
KeyTable = tuple[Rows, npt.NDArray[np.generic]]
"""(row positions, one key per position); a row may appear several times with different keys."""
KeyFn = Callable[[pd.DataFrame], KeyTable]

ID_DIGITS = 18
_BASE = 11   # ID characters are 0-9 and X (10)


@dataclass(frozen=True)
class BlockingRule:
    """A named way of giving records keys; `probe` is the narrower side of an asymmetric rule."""

    name: str
    keys: KeyFn
    probe: KeyFn | None = None
    cap: int = 200
    """Largest block compared; bigger blocks say little about identity and cost quadratically."""
    star: bool = False
    """For identifiers (credit codes): pair each record with the block's first record only, and never
    cap: 3,000 employees' rows of one employer are one entity, and 2,999 pairs say so."""


@dataclass
class BlockingStats:
    pairs_by_rule: dict[str, int] = field(default_factory=dict)
    capped_blocks: dict[str, int] = field(default_factory=dict)
    capped_rows: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0


_MIX = np.uint64(0x9E3779B97F4A7C15)


def sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """np.unique of an integer array by sorting: numpy 2.4's hash-based np.unique takes ~200 times
    longer on ten million pairs (41 s against 0.2 s)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _distinct_codes(values: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """(code per row, -1 if missing; the distinct values): free for a categorical column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return (values.cat.codes.to_numpy().astype(np.int64),
                values.cat.categories.to_numpy(dtype=object))
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def column_keys(*columns: str) -> KeyFn:
    """Key = a 64-bit hash of the columns' values; rows missing any of them get no key.

    Hashes, not joined strings: a million-row rule then costs 8 bytes a row instead of a new
    string a row, and the key still depends on the values only (not on a frame's encoding), so an
    incremental run's keys meet the index's. Two different values sharing a hash (about one chance
    in 10^7 for a district's keys) only add a candidate pair, which comparison then judges.
    """

    def keys(features: pd.DataFrame) -> KeyTable:
        present = np.ones(len(features), dtype=bool)
        encoded = []
        for column in columns:
            codes, distinct = _distinct_codes(features[column])
            present &= codes >= 0
            encoded.append((codes, distinct))
        rows = np.flatnonzero(present).astype(np.int64)
        hashed = np.zeros(len(rows), dtype=np.uint64)
        for codes, distinct in encoded:   # each distinct value hashed once, then spread to the rows
            part = pd.util.hash_array(distinct, categorize=False) if len(distinct) else np.zeros(0, np.uint64)
            hashed = (hashed * _MIX) ^ part[codes[rows]]   # wraps modulo 2**64; column order matters
        return rows, hashed

    return keys


def id_digit_matrix(ids: npt.ArrayLike) -> tuple[Rows, npt.NDArray[np.int64]]:
    """Rows holding an 18-character ID and their characters as numbers (X = 10)."""
    series = pd.Series(np.asarray(ids, dtype=object))
    ok = series.notna() & (series.astype(str).str.len() == ID_DIGITS)
    rows = np.flatnonzero(ok.to_numpy()).astype(np.int64)
    text = series[ok].astype(str).str.replace("X", ":", regex=False)   # ':' is '9' + 1 in ASCII
    if not len(text):
        return rows, np.zeros((0, ID_DIGITS), dtype=np.int64)
    raw = np.frombuffer("".join(text).encode("ascii"), dtype=np.uint8).reshape(-1, ID_DIGITS)
    return rows, raw.astype(np.int64) - ord("0")


@dataclass(frozen=True)
class WildcardKeys:
    """17 keys per ID: the ID with positions p and p+1 blanked out, for p = 0..16.

    Two IDs that differ by one character or by one adjacent swap share at least one key. Keys are
    integers: the ID read as a base-11 number v, key_p = (v // 11^(18-p)) · 11^(16-p) + v mod 11^(16-p)
    + p · 11^16 (11^18 < 2^63), so all 17 keys cost a few operations on one integer column.
    `within` keeps only the keys a probe side holds: the full table is 17 keys for every ID of the
    district, and blocking needs only those a mistyped ID can meet.
    """

    columns: tuple[str, ...]

    def __call__(self, features: pd.DataFrame) -> KeyTable:
        return self.within(features, None)

    def within(self, features: pd.DataFrame, wanted: npt.NDArray[np.generic] | None) -> KeyTable:
        all_rows, all_keys = [], []
        wanted_index = pd.Index(sorted_unique(np.asarray(wanted, dtype=np.int64))) if wanted is not None else None
        for column in self.columns:
            codes, distinct = _distinct_codes(features[column])
            ok, digits = id_digit_matrix(distinct)   # read once per distinct ID
            number = np.zeros(len(ok), dtype=np.int64)
            for p in range(ID_DIGITS):
                number = number * _BASE + digits[:, p]
            del digits
            of_code = np.full(len(distinct) + 1, -1, dtype=np.int64)
            of_code[ok] = number
            value = of_code[codes]   # missing (-1) picks the last entry: -1 too
            rows = np.flatnonzero(value >= 0).astype(np.int64)
            value = value[rows]
            for p in range(ID_DIGITS - 1):
                key = (value // _BASE ** (ID_DIGITS - p)) * _BASE ** (ID_DIGITS - 2 - p) \
                    + value % _BASE ** (ID_DIGITS - 2 - p) + p * _BASE ** (ID_DIGITS - 2)
                if wanted_index is not None:
                    keep = wanted_index.get_indexer(key) >= 0
                    all_rows.append(rows[keep])
                    all_keys.append(key[keep])
                else:
                    all_rows.append(rows)
                    all_keys.append(key)
        if not all_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(all_rows), np.concatenate(all_keys)


def wildcard_keys(columns: Sequence[str]) -> WildcardKeys:
    """Typo-tolerant ID keys (see WildcardKeys)."""
    return WildcardKeys(tuple(columns))


def _codes(left: npt.NDArray[np.generic], right: npt.NDArray[np.generic]) -> tuple[Rows, Rows]:
    """Shared integer codes for two key arrays."""
    codes, _ = pd.factorize(np.concatenate([right, left]) if len(left) else right)
    return codes[len(right):].astype(np.int64), codes[: len(right)].astype(np.int64)


def _empty() -> tuple[Rows, Rows, int, int]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0


def _blocks(codes: Rows, rows: Rows, n_codes: int) -> tuple[Rows, Rows, Rows]:
    """CSR of rows by code: (rows sorted by code, start of each code, size of each code)."""
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_codes).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return rows[order], starts, sizes


def _expand(first: Rows, counts: Rows) -> Rows:
    """0..counts[i]-1 for each i, concatenated: the position inside each repeated run."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first, counts)


def join_keys(left: KeyTable, right: KeyTable, cap: int, narrow: bool = False,
              star: bool = False) -> tuple[Rows, Rows, int, int]:
    """Pairs (left row, right row) sharing a key, skipping keys held by more than `cap` right rows.

    `narrow` first keeps only the right rows whose key occurs on the left: the whole block of
    every such key survives, so block sizes stay right, and a few new records probe a large index
    without encoding all of it. Blocks are read from a sorted index (no DataFrame join), so the
    pairs cost two integer arrays.
    """
    l_rows, l_keys = left
    r_rows, r_keys = right
    if not len(l_rows) or not len(r_rows):
        return _empty()
    if narrow:
        hit = pd.Series(r_keys).isin(pd.Series(l_keys)).to_numpy()
        r_rows, r_keys = r_rows[hit], r_keys[hit]
        if not len(r_rows):
            return _empty()
    l_codes, r_codes = _codes(l_keys, r_keys)
    if star:
        return _star(l_rows, l_codes, r_rows, r_codes)
    n_codes = max(int(r_codes.max()), int(l_codes.max(initial=0))) + 1
    sorted_rows, starts, sizes = _blocks(r_codes, r_rows.astype(np.int64), n_codes)
    oversized = sizes > cap
    capped_blocks, capped_rows = int(oversized.sum()), int(sizes[oversized].sum())
    keep = ~oversized[l_codes] & (sizes[l_codes] > 0)
    l_rows, l_codes = l_rows[keep], l_codes[keep]
    counts = sizes[l_codes]
    left_out = np.repeat(l_rows.astype(np.int64), counts)
    right_out = sorted_rows[_expand(starts[l_codes], counts)]
    return left_out, right_out, capped_blocks, capped_rows


def _star(l_rows: Rows, l_codes: Rows, r_rows: Rows, r_codes: Rows) -> tuple[Rows, Rows, int, int]:
    """Each left row paired with the smallest right row of its key (a star per block, no cap)."""
    first = np.full(int(max(r_codes.max(initial=0), l_codes.max(initial=0))) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, r_codes, r_rows)
    hub_row = first[l_codes]
    keep = hub_row != np.iinfo(np.int64).max
    return l_rows[keep], hub_row[keep], 0, 0


def self_join(table: KeyTable, cap: int) -> tuple[Rows, Rows, int, int]:
    """Pairs of rows sharing a key within one table, each pair once (earlier, later in the block).

    The symmetric case of join_keys at half the work and memory: a block of s rows gives
    s(s-1)/2 pairs rather than s² (both orders and each row with itself).
    """
    rows, keys = table
    if len(rows) < 2:
        return _empty()
    codes, uniques = pd.factorize(keys)
    sorted_rows, starts, sizes = _blocks(codes.astype(np.int64), rows.astype(np.int64), len(uniques))
    oversized = sizes > cap
    capped_blocks, capped_rows = int(oversized.sum()), int(sizes[oversized].sum())
    usable = ~oversized & (sizes > 1)
    block_start, block_size = starts[usable], sizes[usable]
    # one entry per row of a usable block: its position p; it pairs with positions p+1 … end
    position = _expand(block_start, block_size)
    block_end = np.repeat(block_start + block_size, block_size)
    later = block_end - position - 1
    first = np.repeat(sorted_rows[position], later)
    second = sorted_rows[_expand(position + 1, later)]
    return first, second, capped_blocks, capped_rows


def unique_pairs(a: Rows, b: Rows, n: int) -> tuple[Rows, Rows]:
    """Distinct unordered pairs with a < b, sorted, self-pairs dropped."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    code = sorted_unique(lo[keep] * np.int64(n) + hi[keep])
    return code // n, code % n


RuleTables = dict[str, tuple[KeyTable, KeyTable]]
"""Per rule: (keys of every row, probe keys); the same table twice for a symmetric rule."""


def key_tables(features: pd.DataFrame, rules: Sequence[BlockingRule], *, restrict: bool = False) -> RuleTables:
    """Every rule's key tables. With `restrict`, a wildcard rule keeps only the keys its probe side
    holds (what one blocking pass needs); an index for later probes needs them all."""
    tables = {}
    for rule in rules:
        probe = rule.probe(features) if rule.probe is not None else None
        if restrict and probe is not None and isinstance(rule.keys, WildcardKeys):
            right = rule.keys.within(features, probe[1])
        else:
            right = rule.keys(features)
        tables[rule.name] = (right, probe if probe is not None else right)
    return tables


def concat_tables(first: RuleTables, second: RuleTables, offset: int) -> RuleTables:
    """Tables of two frames stacked (the second's rows shifted by `offset`)."""

    def stack(x: KeyTable, y: KeyTable) -> KeyTable:
        keys = np.concatenate([np.asarray(x[1], dtype=object), np.asarray(y[1], dtype=object)]) \
            if x[1].dtype == object or y[1].dtype == object else np.concatenate([x[1], y[1]])
        return np.concatenate([x[0], y[0] + offset]), keys

    return {name: (stack(first[name][0], second[name][0]), stack(first[name][1], second[name][1]))
            for name in first}


def candidate_pairs(features: pd.DataFrame, rules: Sequence[BlockingRule], new: npt.NDArray[np.bool_] | None = None,
                    tables: RuleTables | None = None) -> tuple[Rows, Rows, BlockingStats]:
    """Union of the rules' within-block pairs (i < j); with `new`, only pairs touching a new row."""
    n = len(features)
    tables = key_tables(features, rules, restrict=new is None) if tables is None else tables
    stats = BlockingStats()
    found: list[Rows] = []
    for rule in rules:
        right, probe = tables[rule.name]
        sides = [(probe, right)]
        if new is not None:
            sides = [(_subset(probe, new), right)]
            if rule.probe is not None:
                sides.append((_subset(right, new), probe))
        count = 0
        for left, other in sides:
            if left is other and not rule.star:
                a, b, blocks, rows = self_join(left, rule.cap)
                count += 2 * int((a != b).sum())   # counted as ordered pairs, as a join gives them
            else:
                narrow = new is not None or len(left[0]) * 4 < len(other[0])
                a, b, blocks, rows = join_keys(left, other, rule.cap, narrow=narrow, star=rule.star)
                count += int((a != b).sum())
            stats.capped_blocks[rule.name] = stats.capped_blocks.get(rule.name, 0) + blocks
            stats.capped_rows[rule.name] = stats.capped_rows.get(rule.name, 0) + rows
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            del a, b
            found.append(sorted_unique(lo[lo != hi] * np.int64(n) + hi[lo != hi]))   # one integer a pair
        stats.pairs_by_rule[rule.name] = count if new is not None or rule.probe is not None else count // 2
    code = sorted_unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    del found
    stats.candidate_pairs = len(code)
    return code // n, code % n, stats


def _subset(table: KeyTable, mask: npt.NDArray[np.bool_]) -> KeyTable:
    rows, keys = table
    keep = mask[rows]
    return rows[keep], keys[keep]
