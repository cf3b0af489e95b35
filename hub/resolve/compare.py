"""Comparisons: ordered levels per field, computed for all candidate pairs at once.

As in Splink, each comparison sorts a pair into the first level whose condition holds, strongest
agreement first, then `else`; level 0 is always `null` (a value missing on either side), which
carries no weight. Conditions are integer equality on encoded features where possible and
rapidfuzz's element-wise `cpdist` (multi-threaded) for the fuzzy levels, evaluated only on the
pairs no earlier level took. The level functions are small and named; their docstrings are what
`hub explain` and docs/matching.md show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Levels = npt.NDArray[np.int8]


@dataclass
class Prepared:
    """Features of one frame plus integer codes computed on demand (equal code ⇔ equal value)."""

    features: pd.DataFrame
    frequencies: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False)
    """Per-row term frequencies counted on a larger frame (incremental runs score a subset)."""
    _codes: dict[tuple[str, ...], npt.NDArray[np.int64]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.features)

    def values(self, column: str) -> npt.NDArray[np.object_]:
        return self.features[column].to_numpy(dtype=object)

    def codes(self, *columns: str) -> list[npt.NDArray[np.int64]]:
        """Codes of several columns in one shared encoding (so 'loose of a = reversed loose of b' is ==)."""
        key = tuple(columns)
        if key not in self._codes:
            stacked = np.concatenate([self.values(c) for c in columns])
            codes, _ = pd.factorize(stacked, use_na_sentinel=True)
            self._codes[key] = codes.astype(np.int64)
        n = len(self.features)
        joint = self._codes[key]
        return [joint[k * n:(k + 1) * n] for k in range(len(columns))]

    def code(self, column: str) -> npt.NDArray[np.int64]:
        return self.codes(column)[0]


Condition = Callable[[Prepared, Rows, Rows, Mask], Mask]
"""(data, rows a, rows b, undecided) → which undecided pairs are at this level."""


@dataclass(frozen=True)
class Level:
    name: str
    condition: Condition | None   # None for `null` and `else`
    description: str
    tf_column: str | None = None   # term-frequency adjusted on this feature's value


@dataclass(frozen=True)
class Comparison:
    """One field's ordered levels; `present` says which rows have a value at all."""

    name: str
    present: Callable[[Prepared], Mask]
    levels: Sequence[Level]
    description: str

    @property
    def level_names(self) -> list[str]:
        return [level.name for level in self.levels]

    def compute(self, data: Prepared, a: Rows, b: Rows) -> Levels:
        """The level index of every pair (0 null … len-1 else)."""
        has = self.present(data)
        out = np.full(len(a), len(self.levels) - 1, dtype=np.int8)
        undecided = has[a] & has[b]
        out[~undecided] = 0
        for index, level in enumerate(self.levels[1:-1], start=1):
            if not undecided.any():
                break
            assert level.condition is not None
            hit = level.condition(data, a, b, undecided) & undecided
            out[hit] = index
            undecided &= ~hit
        return out


NULL = Level("null", None, "a value is missing on either side: no evidence")
ELSE = Level("else", None, "values present and none of the levels above holds")


def present(*columns: str) -> Callable[[Prepared], Mask]:
    """Rows where any of the columns has a value."""

    def has(data: Prepared) -> Mask:
        mask = np.zeros(len(data), dtype=bool)
        for column in columns:
            mask |= data.features[column].notna().to_numpy()
        return mask

    return has


def equal(column: str, other: str | None = None) -> Condition:
    """Same value of `column` on both sides (or `column` on one side equal to `other` on the other)."""

    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        if other is None:
            code = data.code(column)
            return (code[a] == code[b]) & (code[a] >= 0)
        first, second = data.codes(column, other)
        forward = (first[a] == second[b]) & (first[a] >= 0)
        backward = (second[a] == first[b]) & (second[a] >= 0)
        return forward | backward

    return condition


def any_of(*conditions: Condition) -> Condition:
    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        hit = np.zeros(len(a), dtype=bool)
        for cond in conditions:
            hit |= cond(data, a, b, undecided & ~hit)
        return hit

    return condition


def _scored(data: Prepared, column: str, a: Rows, b: Rows, undecided: Mask,
            scorer: Callable[..., float]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """rapidfuzz scores of `column` for the undecided pairs where both sides have a value."""
    values = data.values(column)
    idx = np.flatnonzero(undecided)
    left, right = values[a[idx]], values[b[idx]]
    both = pd.notna(left) & pd.notna(right)
    idx, left, right = idx[both], left[both], right[both]
    if not len(idx):
        return idx, np.zeros(0)
    return idx, process.cpdist(list(left), list(right), scorer=scorer, workers=-1).astype(np.float64)


def jaro_winkler_at_least(column: str, threshold: float) -> Condition:
    """Jaro-Winkler similarity of `column` ≥ threshold (pinyin keys: homophones and near spellings)."""

    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        idx, scores = _scored(data, column, a, b, undecided, JaroWinkler.normalized_similarity)
        hit = np.zeros(len(a), dtype=bool)
        hit[idx[scores >= threshold]] = True
        return hit

    return condition


def edits_at_most(column: str, edits: int) -> Condition:
    """At most `edits` edits apart, a swap of two neighbours counting as one (optimal string alignment)."""

    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        idx, distance = _scored(data, column, a, b, undecided, OSA.distance)
        hit = np.zeros(len(a), dtype=bool)
        hit[idx[distance <= edits]] = True
        return hit

    return condition


def both_present(column: str) -> Condition:
    """Both sides have `column` (used after the agreeing levels: both valid and still different)."""

    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        has = data.features[column].notna().to_numpy()
        return has[a] & has[b]

    return condition


def compute_levels(comparisons: Sequence[Comparison], data: Prepared, a: Rows, b: Rows) -> npt.NDArray[np.int8]:
    """Level matrix: one row per pair, one column per comparison."""
    out = np.zeros((len(a), len(comparisons)), dtype=np.int8)
    for k, comparison in enumerate(comparisons):
        out[:, k] = comparison.compute(data, a, b)
    return out


def level_table(comparisons: Sequence[Comparison]) -> Mapping[str, list[str]]:
    return {c.name: c.level_names for c in comparisons}
