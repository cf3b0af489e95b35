"""Applying defects to a department's rows and remembering which row got which.

A `Defects` object belongs to one source export: it draws which rows receive a defect (each at
its rate from `DirtRates`, independently), applies the matching function from `variants`, and
tags the rows, so that the ground truth can say exactly how each record was damaged. Hidden
columns starting with `_` (`_birth_year`, `_surname_len`, `_dup`) carry the facts the defects need
and never reach the department's file.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo import variants as v
from hub.demo.config import DirtRates
from hub.demo.names import has_variant, homophone_map, homophone_variant, respell
from hub.demo.reference import reference

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Change = Callable[[ObjArray, IntArray], ObjArray]
BROKEN_DATES = ("1985-13-45", "不详", "0000-00-00", "19850230", "2月30日")


def with_duplicates(rng: np.random.Generator, frame: pd.DataFrame, rate: float) -> pd.DataFrame:
    """The frame plus copies of some rows (the same person entered twice), marked `_dup`."""
    frame = frame.assign(_dup=False)
    copies = frame[rng.random(len(frame)) < rate].assign(_dup=True)
    return pd.concat([frame, copies], ignore_index=True)


class Defects:
    def __init__(self, rng: np.random.Generator, rates: DirtRates, frame: pd.DataFrame):
        self.rng, self.rates, self.frame = rng, rates, frame.reset_index(drop=True)
        self.tags: dict[str, BoolArray] = {}
        self.broken: BoolArray = np.zeros(len(self.frame), bool)

    @property
    def n(self) -> int:
        return len(self.frame)

    def pick(self, rate: float, eligible: BoolArray | None = None) -> BoolArray:
        mask = self.rng.random(self.n) < rate
        return mask if eligible is None else mask & eligible

    def tag(self, name: str, mask: BoolArray) -> None:
        self.tags[name] = self.tags.get(name, np.zeros(self.n, bool)) | mask

    def apply(self, column: str, name: str, mask: BoolArray, change: Change) -> BoolArray:
        """Replace `column` on the rows of `mask` by `change(values, row_numbers)` and tag them."""
        if mask.any():
            values = self.frame[column].to_numpy(dtype=object).copy()
            rows = np.flatnonzero(mask)
            values[rows] = change(values[rows], rows)
            self.frame[column] = values
            self.tag(name, mask)
        return mask

    def text(self, column: str) -> ObjArray:
        return np.array(
            [x if isinstance(x, str) else "" for x in self.frame[column].to_numpy(dtype=object)], dtype=object
        )

    def filled(self, column: str) -> BoolArray:
        return self.text(column) != ""

    # identity numbers ---------------------------------------------------------------------------
    def ids(
        self, column: str, *, old15: float, missing: float, typo_scale: float = 1.0, fullwidth: float = 0.0
    ) -> None:
        r = self.rates
        has = self.filled(column)
        year = self.frame["_birth_year"].to_numpy()
        full = has & np.array([len(s) == 18 and s[:17].isdigit() for s in self.text(column)])
        old = self.apply(
            column,
            "id_15_digit",
            self.pick(old15, full & (year < 1984) & (year >= 1900)),
            lambda x, _: v.first_generation(x),
        )
        is18 = full & ~old
        typo = self.apply(
            column, "id_typo", self.pick(r.id_typo * typo_scale, is18), lambda x, _: v.mistype_digit(x, self.rng)
        )
        self.apply(
            column,
            "id_transposed",
            self.pick(r.id_transposed * typo_scale, is18 & ~typo),
            lambda x, _: v.transpose_adjacent(x, self.rng),
        )
        ends_x = np.array([s.endswith("X") for s in self.text(column)])
        self.apply(
            column,
            "id_lowercase_x",
            self.pick(r.id_lowercase_x, ends_x),
            lambda x, _: np.array([s.lower() for s in x], dtype=object),
        )
        self.apply(column, "id_fullwidth", self.pick(fullwidth, has), lambda x, _: v.fullwidth(x))
        self.apply(column, "id_missing", self.pick(missing, has), lambda x, _: np.full(len(x), "", dtype=object))

    # names ----------------------------------------------------------------------------------------
    def names(
        self, column: str, *, traditional: float = 0.0, scale: float = 1.0, drop_father: float = 0.0, swap: float = 0.0
    ) -> None:
        """Homophones (Han), other spellings and separators (transliterated), swaps, dropped father's
        name, traditional characters. Rates are scaled to the rows where the defect is possible, so the
        observed share over all rows matches the stated rate when enough rows qualify."""
        r = self.rates
        col = self.text(column)
        translit = np.array(["\u00b7" in s for s in col])
        surname_len = self.frame["_surname_len"].to_numpy()
        homophonable = ~translit & np.array([any(c in homophone_map() for c in s) for s in col])
        self.apply(
            column,
            "name_homophone",
            self.pick(_share(r.homophone_name * scale, homophonable), homophonable),
            lambda x, rows: np.array(
                [homophone_variant(s, self.rng, int(k)) for s, k in zip(x, surname_len[rows], strict=True)],
                dtype=object,
            ),
        )
        spellable = translit & has_variant(col)
        rate = r.translit_variant * scale * max(translit.sum(), 1) / max(spellable.sum(), 1)
        self.apply(
            column,
            "name_translit_variant",
            self.pick(min(1.0, rate), spellable),
            lambda x, _: np.array([respell(s, self.rng) for s in x], dtype=object),
        )
        if swap:
            self.apply(
                column,
                "name_swapped",
                self.pick(swap, ~translit & (surname_len > 0)),
                lambda x, rows: np.array(
                    [s[k:] + s[:k] for s, k in zip(x, surname_len[rows], strict=True)], dtype=object
                ),
            )
        if drop_father:
            self.apply(
                column,
                "name_father_dropped",
                self.pick(drop_father, translit),
                lambda x, _: np.array([s.split("\u00b7")[0] for s in x], dtype=object),
            )
        self.separators(column, r.separator_variant * scale)
        if traditional:
            now = self.text(column)
            convertible = v.traditional(now) != now
            self.apply(
                column,
                "name_traditional",
                self.pick(_share(traditional, convertible), convertible),
                lambda x, _: v.traditional(x),
            )

    def separators(self, column: str, rate: float) -> None:
        seps = reference()["separators"]
        options = np.array(list(seps), dtype=object)
        weights = np.array(list(seps.values()), dtype=float)
        dotted = np.array(["\u00b7" in s for s in self.text(column)])
        self.apply(
            column,
            "name_separator",
            self.pick(rate, dotted),
            lambda x, _: v.with_separator(x, options[self.rng.choice(len(options), len(x), p=weights / weights.sum())]),
        )

    # other fields ---------------------------------------------------------------------------------
    def phones(self, column: str, *, scale: float = 1.0, fullwidth: float = 0.0) -> None:
        has = self.filled(column)
        self.apply(
            column,
            "phone_formatted",
            self.pick(self.rates.phone_formatted * scale, has),
            lambda x, _: v.format_phones(x, self.rng),
        )
        self.apply(column, "phone_fullwidth", self.pick(fullwidth, has), lambda x, _: v.fullwidth(x))

    def dates(self, column: str, source: str, *, excel: bool = False, scale: float = 1.0) -> None:
        """Write the datetime column `source` into `column` in mixed styles."""
        styles = v.pick_date_styles(
            self.rng, self.n, self.rates.date_nonstandard * scale, self.rates.excel_serial_date * scale, excel
        )
        self.frame[column] = v.format_dates(self.frame[source].to_numpy(dtype="datetime64[s]"), styles)
        known = ~self.frame[source].isna().to_numpy()
        self.tag("date_excel_serial", (styles == v.DATE_SERIAL) & known)
        self.tag("date_nonstandard", ~np.isin(styles, [v.DATE_ISO, v.DATE_SERIAL, v.DATE_CELL]) & known)

    # duplicates and broken rows ---------------------------------------------------------------------
    def differ_duplicates(self, name: str, phone: str | None = None, id_column: str | None = None) -> None:
        """Make each duplicate differ a little from its original: phone written another way, the name
        with another separator or homophone, or the ID left out."""
        dup = self.frame["_dup"].to_numpy()
        choice = self.rng.integers(0, 3, self.n)
        if phone:
            self.apply(
                phone,
                "phone_formatted",
                dup & (choice == 0) & self.filled(phone),
                lambda x, _: v.format_phones(x, self.rng),
            )
        if id_column:
            self.apply(
                id_column,
                "id_missing",
                dup & (choice == 2) & self.filled(id_column),
                lambda x, _: np.full(len(x), "", dtype=object),
            )
        col = self.text(name)
        dotted = np.array(["\u00b7" in s for s in col])
        self.apply(
            name,
            "name_separator",
            dup & (choice == 1) & dotted,
            lambda x, _: v.with_separator(x, np.full(len(x), "•", dtype=object)),
        )
        surname_len = self.frame["_surname_len"].to_numpy()
        self.apply(
            name,
            "name_homophone",
            dup & (choice == 1) & ~dotted,
            lambda x, rows: np.array(
                [homophone_variant(s, self.rng, int(k)) for s, k in zip(x, surname_len[rows], strict=True)],
                dtype=object,
            ),
        )
        self.tag("duplicate", dup)

    def break_rows(self, kinds: dict[str, str]) -> None:
        """A few rows made truly unusable, one defect each: kind ('name', 'id', 'date', 'plate', 'text')
        → column. Duplicates are left alone so both counts stay exact."""
        r = self.rates
        want = min(max(r.broken_min, round(r.broken_rate * self.n)), self.n // 4)
        pool = np.flatnonzero(~self.frame["_dup"].to_numpy()) if "_dup" in self.frame else np.arange(self.n)
        rows = self.rng.choice(pool, min(want, len(pool)), replace=False)
        items = list(kinds.items())
        for i, row in enumerate(rows):
            kind, column = items[i % len(items)]
            mask = np.zeros(self.n, bool)
            mask[row] = True
            self.apply(column, f"broken_{kind}", mask, self._breaker(kind))
        self.broken[rows] = True

    def _breaker(self, kind: str) -> Change:
        def change(values: ObjArray, _: IntArray) -> ObjArray:
            return np.array([_broken(kind, s, self.rng) for s in values], dtype=object)

        return change

    def tag_column(self) -> ObjArray:
        out = np.full(self.n, "", dtype=object)
        for name, mask in self.tags.items():
            out[mask] = out[mask] + (name + ";")
        return np.array([s.rstrip(";") for s in out], dtype=object)


def _share(rate: float, eligible: BoolArray) -> float:
    """The per-eligible-row probability that gives `rate` over all rows."""
    return min(1.0, rate / max(float(eligible.mean()) if len(eligible) else 1.0, 1e-9))


def _broken(kind: str, value: object, rng: np.random.Generator) -> str:
    text = value if isinstance(value, str) else ""
    if kind == "name" or kind == "text":
        return ""
    if kind == "id":
        return v.letters_in_id(np.array([text or "650102198001011234"], dtype=object))[0]
    if kind == "plate":
        return "无牌"
    return BROKEN_DATES[int(rng.integers(0, len(BROKEN_DATES)))]
