"""The contract every normalizer keeps: pure, total, and explicit about failure.

A normalizer takes one raw value (anything a department export can hold: str, int, float,
datetime, None, bytes) and returns a `Normalized`: either a clean value, or no value and a
reason that says what was wrong without repeating the value itself (reasons end up in
quarantine rows and logs, which must never carry a clear ID number or phone).
It never raises. `derived` carries values implied by this one (birth date and gender from a
resident ID) and `flags` carries warnings about a value that was kept (a 15-digit ID upgraded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Normalized:
    value: str | None
    reason: str | None = None
    derived: Mapping[str, str] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.value is not None


EMPTY = Normalized(None, None)
"""A blank input: not an error, simply no value (nothing goes to quarantine)."""

Normalizer = Callable[[Any], Normalized]


def is_blank(raw: Any) -> bool:
    """True for None, NaN, NaT and strings that are empty or only whitespace / placeholder dashes."""
    if raw is None:
        return True
    if isinstance(raw, float) and raw != raw:
        return True
    if raw is pd.NaT:
        return True
    if isinstance(raw, str):
        s = raw.strip().strip("\u3000")
        return s in ("", "-", "--", "—", "/", "\\", "无", "NULL", "null", "None", "nan", "NaN")
    return False


MEMO_LIMIT = 200_000
"""Distinct raw values a memo keeps per normalizer before it starts afresh (bounds memory at scale)."""


def normalize_column(normalizer: Normalizer, values: pd.Series,
                     memo: dict[Any, Normalized] | None = None) -> list[Normalized]:
    """Apply a normalizer to a column, once per distinct value.

    Department columns repeat heavily (gender, ethnicity, estate names, dates), so factorizing
    first turns a million calls into a few thousand. A `memo` carries results across batches and
    sources: the same resident's ID, name and address arrive from every department. A text value is
    its own key; any other value is keyed with its type, since 1 == 1.0 == True would otherwise share
    one result (and a tuple never equals a str, so the two kinds of key cannot meet).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = uniques.tolist()   # the same values iterating gives; a string array iterates 100x slower
    if memo is None:
        results = [normalizer(u) for u in distinct]
    else:
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        keys: list[Any] = [u if type(u) is str else (type(u), u) for u in distinct]
        results = []
        for key, value, found in zip(keys, distinct, map(memo.get, keys), strict=True):
            results.append(found if found is not None else memo.setdefault(key, normalizer(value)))
    # Spread the results over the rows with one numpy take: code -1 (a missing value) picks the EMPTY
    # placed last.
    table = np.empty(len(results) + 1, dtype=object)
    table[:-1] = results
    table[-1] = EMPTY
    spread: list[Normalized] = table[codes].tolist()
    return spread
