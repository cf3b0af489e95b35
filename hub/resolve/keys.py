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


def column_keys(*columns: str, sep: str = "|") -> KeyFn:
    """Key = the columns' values joined; rows missing any of them get no key."""

    def keys(features: pd.DataFrame) -> KeyTable:
        values = features[columns[0]].astype(object)
        present = values.notna().to_numpy().copy()
        for column in columns[1:]:
            other = features[column].astype(object)
            present &= other.notna().to_numpy()
            values = values.fillna("") + sep + other.fillna("")
        rows = np.flatnonzero(present).astype(np.int64)
        return rows, values.to_numpy(dtype=object)[rows]

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


def wildcard_keys(columns: Sequence[str]) -> KeyFn:
    """17 keys per ID: the ID with positions p and p+1 blanked out, for p = 0..16.

    Two IDs that differ by one character or by one adjacent swap share at least one key. Keys are
    integers (base 11 over the 16 kept characters, plus p), from running prefix and suffix values of
    the digit matrix, so all 17 keys cost a few array operations.
    """

    def keys(features: pd.DataFrame) -> KeyTable:
        all_rows, all_keys = [], []
        for column in columns:
            rows, digits = id_digit_matrix(features[column].to_numpy(dtype=object))
            if not len(rows):
                continue
            prefix = np.zeros((len(rows), ID_DIGITS + 1), dtype=np.int64)   # value of digits[:p]
            suffix = np.zeros((len(rows), ID_DIGITS + 1), dtype=np.int64)   # value of digits[p:]
            for p in range(ID_DIGITS):
                prefix[:, p + 1] = prefix[:, p] * _BASE + digits[:, p]
            for p in range(ID_DIGITS - 1, -1, -1):
                suffix[:, p] = digits[:, p] * _BASE ** (ID_DIGITS - 1 - p) + suffix[:, p + 1]
            for p in range(ID_DIGITS - 1):
                all_rows.append(rows)
                all_keys.append(prefix[:, p] * _BASE ** (ID_DIGITS - 2 - p) + suffix[:, p + 2]
                                + p * _BASE ** (ID_DIGITS - 2))
        if not all_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(all_rows), np.concatenate(all_keys)

    return keys


def _codes(left: npt.NDArray[np.generic], right: npt.NDArray[np.generic]) -> tuple[Rows, Rows]:
    """Shared integer codes for two key arrays."""
    codes, _ = pd.factorize(np.concatenate([right, left]) if len(left) else right)
    return codes[len(right):].astype(np.int64), codes[: len(right)].astype(np.int64)


def join_keys(left: KeyTable, right: KeyTable, cap: int, narrow: bool = False,
          star: bool = False) -> tuple[Rows, Rows, int, int]:
    """Pairs (left row, right row) sharing a key, skipping keys held by more than `cap` right rows.

    `narrow` first keeps only the right rows whose key occurs on the left: the whole block of
    every such key survives, so block sizes stay right, and a few new records probe a large index
    without encoding all of it.
    """
    l_rows, l_keys = left
    r_rows, r_keys = right
    if not len(l_rows) or not len(r_rows):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0
    if narrow:
        hit = pd.Series(r_keys).isin(pd.Series(l_keys)).to_numpy()
        r_rows, r_keys = r_rows[hit], r_keys[hit]
        if not len(r_rows):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0
    l_codes, r_codes = _codes(l_keys, r_keys)
    if star:
        return _star(l_rows, l_codes, r_rows, r_codes)
    sizes = np.bincount(r_codes, minlength=max(int(r_codes.max()), int(l_codes.max(initial=0))) + 1)
    oversized = sizes > cap
    capped_blocks, capped_rows = int(oversized.sum()), int(sizes[oversized].sum())
    keep_l, keep_r = ~oversized[l_codes], ~oversized[r_codes]
    lf = pd.DataFrame({"k": l_codes[keep_l], "a": l_rows[keep_l]})
    rf = pd.DataFrame({"k": r_codes[keep_r], "b": r_rows[keep_r]})
    merged = lf.merge(rf, on="k", how="inner")
    return (merged["a"].to_numpy(np.int64), merged["b"].to_numpy(np.int64), capped_blocks, capped_rows)


def _star(l_rows: Rows, l_codes: Rows, r_rows: Rows, r_codes: Rows) -> tuple[Rows, Rows, int, int]:
    """Each left row paired with the smallest right row of its key (a star per block, no cap)."""
    first = np.full(int(max(r_codes.max(initial=0), l_codes.max(initial=0))) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, r_codes, r_rows)
    hub_row = first[l_codes]
    keep = hub_row != np.iinfo(np.int64).max
    return l_rows[keep], hub_row[keep], 0, 0


def unique_pairs(a: Rows, b: Rows, n: int) -> tuple[Rows, Rows]:
    """Distinct unordered pairs with a < b, sorted, self-pairs dropped."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    code = np.unique(lo[keep] * np.int64(n) + hi[keep])
    return code // n, code % n


RuleTables = dict[str, tuple[KeyTable, KeyTable]]
"""Per rule: (keys of every row, probe keys); the same table twice for a symmetric rule."""


def key_tables(features: pd.DataFrame, rules: Sequence[BlockingRule]) -> RuleTables:
    tables = {}
    for rule in rules:
        right = rule.keys(features)
        tables[rule.name] = (right, rule.probe(features) if rule.probe is not None else right)
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
    tables = key_tables(features, rules) if tables is None else tables
    stats = BlockingStats()
    found_a, found_b = [], []
    for rule in rules:
        right, probe = tables[rule.name]
        sides = [(probe, right)]
        if new is not None:
            sides = [(_subset(probe, new), right)]
            if rule.probe is not None:
                sides.append((_subset(right, new), probe))
        count = 0
        for left, other in sides:
            narrow = new is not None or len(left[0]) * 4 < len(other[0])
            a, b, blocks, rows = join_keys(left, other, rule.cap, narrow=narrow, star=rule.star)
            stats.capped_blocks[rule.name] = stats.capped_blocks.get(rule.name, 0) + blocks
            stats.capped_rows[rule.name] = stats.capped_rows.get(rule.name, 0) + rows
            found_a.append(a)
            found_b.append(b)
            count += int((a != b).sum())
        stats.pairs_by_rule[rule.name] = count if new is not None or rule.probe is not None else count // 2
    a, b = unique_pairs(np.concatenate(found_a or [np.zeros(0, np.int64)]),
                        np.concatenate(found_b or [np.zeros(0, np.int64)]), n)
    stats.candidate_pairs = len(a)
    return a, b, stats


def _subset(table: KeyTable, mask: npt.NDArray[np.bool_]) -> KeyTable:
    rows, keys = table
    keep = mask[rows]
    return rows[keep], keys[keep]
