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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Levels = npt.NDArray[np.int8]


Codes = npt.NDArray[np.signedinteger[Any]]


def from_factorized(codes: npt.NDArray[np.integer[Any]], uniques: npt.NDArray[np.object_] | pd.Index) -> pd.Categorical:
    """A categorical from `pd.factorize` output (codes, -1 for missing; distinct non-null values).

    pandas checks new categories for nulls and duplicates, which hashes every category once more;
    values that come out of factorize are distinct and non-null by construction, so the check is
    skipped (`_from_fastpath`, in pandas since 1.x). That check cost more than the factorize it
    follows on a million-record feature frame.
    """
    categories = pd.Index(np.asarray(uniques, dtype=object), dtype="object")   # never inferred as str
    dtype = pd.CategoricalDtype._from_fastpath(categories, False)  # type: ignore[attr-defined]
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def categorical_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals: codes (1–4 bytes a row) over the distinct values.

    A million-record feature frame of Python string columns costs 8 bytes a row per column for the
    pointers alone, besides the strings; as categoricals it costs a small code a row, and the codes
    are the integer encoding equality levels compare anyway (computed once, here).
    """
    out = features.copy(deep=False)
    for column in features.columns:
        values = features[column]
        if column == "record_key" or not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue   # record keys are all distinct: nothing to share
        codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
        out[column] = from_factorized(codes, uniques)
    return out


@dataclass
class Prepared:
    """Features of one frame as categoricals, plus joint codes computed on demand (equal code ⇔ equal value)."""

    features: pd.DataFrame
    frequencies: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict, repr=False)
    """Per-row term frequencies counted on a larger frame (incremental runs score a subset)."""
    population: pd.DataFrame | None = field(default=None, repr=False)
    """Some columns of every live record, when `features` holds only some (an incremental run's);
    conditions that count over all records (EntitySpec.population_columns) read this."""
    _codes: dict[tuple[str, ...], list[Codes]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.features = categorical_frame(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def values(self, column: str) -> npt.NDArray[np.object_]:
        return self.features[column].to_numpy(dtype=object)

    def categories(self, column: str) -> npt.NDArray[np.object_]:
        """The distinct values of a column, indexed by its codes."""
        values = self.features[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return values.cat.categories.to_numpy(dtype=object)
        return np.asarray(pd.factorize(values.to_numpy(dtype=object))[1], dtype=object)

    def codes(self, *columns: str) -> list[Codes]:
        """Codes of several columns in one shared encoding (so 'loose of a = reversed loose of b' is ==)."""
        key = tuple(columns)
        if key not in self._codes:
            own = [self._own_codes(c) for c in columns]
            if len(columns) == 1:
                self._codes[key] = own
            else:   # re-encode the (few) distinct values jointly, then map each column's codes
                cats = [self.categories(c) for c in columns]
                joint, _ = pd.factorize(np.concatenate(cats), use_na_sentinel=True)
                out, offset = [], 0
                for c, k in zip(own, cats, strict=True):
                    table = np.append(joint[offset:offset + len(k)], -1).astype(np.int32)
                    out.append(table[np.where(c < 0, len(k), c)])
                    offset += len(k)
                self._codes[key] = out
        return self._codes[key]

    def _own_codes(self, column: str) -> Codes:
        values = self.features[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return np.asarray(values.cat.codes.to_numpy())
        return pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)[0].astype(np.int32)

    def code(self, column: str) -> Codes:
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
            mask |= data.code(column) >= 0
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
    """rapidfuzz scores of `column` for the undecided pairs where both sides have a value.

    Scored once per distinct pair of values (the scorers are symmetric), then spread back to the
    pairs: many candidate pairs share their values (a household's surname, the same ID twice).
    """
    codes = data.code(column)
    idx = np.flatnonzero(undecided)
    left, right = codes[a[idx]].astype(np.int64), codes[b[idx]].astype(np.int64)
    both = (left >= 0) & (right >= 0)
    idx, left, right = idx[both], left[both], right[both]
    if not len(idx):
        return idx, np.zeros(0)
    categories = data.categories(column)
    width = np.int64(len(categories))
    inverse, distinct = pd.factorize(np.minimum(left, right) * width + np.maximum(left, right))
    distinct = np.asarray(distinct, dtype=np.int64)
    scores = process.cpdist(list(categories[distinct // width]), list(categories[distinct % width]),
                            scorer=scorer, workers=-1)
    return idx, np.asarray(scores, dtype=np.float64)[inverse]


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
        has = data.code(column) >= 0
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
