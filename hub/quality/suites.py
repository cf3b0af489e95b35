"""Expectation suites derived from a source's mapping, and the columns they are checked on.

Each source gets two suites, because GX 1.x has no severity per expectation: `critical` (a failure holds
the batch, hub.quality.gate) and `warning` (reported). Both hold the same checks; the critical one
tolerates the dirt every department export carries, the warning one asks for clean data:

- the record id is filled and unique (uniqueness on keyed tokens of the id, never the id itself);
- the columns of required attributes (an entity's `required`, unconditional fields) are filled;
- resident-ID and credit-code columns hold checksum-valid numbers (blank ones count under completeness);
- coded columns (a value map or a national code table) hold values the map knows;
- rows extracted by a full read, against the previous published full read of the source.

GX never sees a personal value: the frame it validates is made of flags and tokens computed here, so its
results and Data Docs (which list unexpected values) cannot leak one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

import schemas
from hub.mapping import MappingSpec
from hub.mapping.code_tables import code_table
from hub.normalize import get_normalizer
from hub.normalize.base import Normalized, is_blank
from hub.protect import Vault

CRITICAL, WARNING = "critical", "warning"
SEVERITIES = (CRITICAL, WARNING)
MOSTLY: dict[str, dict[str, float]] = {
    CRITICAL: {"record_id": 0.95, "filled": 0.90, "valid": 0.80, "coded": 0.80},
    WARNING: {"record_id": 1.0, "filled": 0.99, "valid": 0.98, "coded": 0.98},
}
"""Share of rows a check must hold for. Critical: what a sound export of the demo departments clears with
room to spare (their dirt rates are a few per cent); below it the export is broken, not dirty."""
ROW_RATIO: dict[str, tuple[float, float]] = {CRITICAL: (0.5, 2.0), WARNING: (0.9, 1.1)}
"""Rows of a full read against the previous one: halving or doubling is a broken export, not a week's change."""
MIN_ROWS_CRITICAL = 20
"""Rows a batch needs before shares of it can hold it: one bad row of three is 33 %, and says nothing about
the export. A smaller batch (a day's increment, a toy source) gets the row-ratio check only in its critical
suite; its shares are still checked, and reported, by the warning suite."""
RECORD_ID = "record id (token)"
RATIO = "rows extracted / previous full read"
CHECKED_NORMALIZERS = ("resident_id", "credit_code")


@dataclass(frozen=True)
class Check:
    """One expectation: its GX class name, arguments and what it means to an auditor."""

    expectation: str
    kwargs: dict[str, Any]
    kind: str                  # record_id | filled | valid | coded | rows
    meaning: str

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def name(self) -> str:
        return f"{self.kind}: {self.column}" if self.column else self.kind


@dataclass(frozen=True)
class Flag:
    """A flag column GX checks: True / False / None per row of one source column."""

    name: str
    column: str
    kind: str                                  # filled | valid | coded
    meaning: str
    test: Callable[[Any], bool | None]


def _filled(value: Any) -> bool:
    return True   # called for non-blank values only: a blank is None, which NotBeNull counts


class _Known:
    """Does a value map (its codes or its values) or a code table know a raw value?"""

    def __init__(self, mapped: dict[str, str] | str) -> None:
        self.table = code_table(mapped) if isinstance(mapped, str) else None
        self.keys = set() if isinstance(mapped, str) else (
            {str(k).strip() for k in mapped} | {str(v).strip() for v in mapped.values()})

    def __call__(self, value: Any) -> bool:
        return self.table.lookup(value) is not None if self.table is not None else str(value).strip() in self.keys


class _Checksum:
    def __init__(self, normalizer: str) -> None:
        self.normalize = get_normalizer(normalizer)

    def __call__(self, value: Any) -> bool | None:
        return _checksum(self.normalize(value))


def _flag(values: pd.Series, test: Callable[[Any], bool | None]) -> pd.Series:
    """True / False per value, None where the value is blank (a blank is completeness, not validity) or the
    test cannot tell (None: a masked ID number has no checksum to check)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    decided = [None if is_blank(u) else test(u) for u in uniques.tolist()]
    table = pd.Series([*decided, None], dtype=object)
    return pd.Series(table.to_numpy()[codes], index=values.index, dtype=object)


def _checksum(found: Normalized) -> bool | None:
    """Valid, invalid, or None for a form without a checksum (masked, 650102********1237: reason-less)."""
    return True if found.ok else None if found.reason is None else False


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index, dtype=object)


def derive(spec: MappingSpec) -> list[Flag]:
    """The flag columns of a source, from its mapping and the canonical model's normalizers."""
    flags: list[Flag] = []
    for entity in spec.entities.values():
        for attribute, mapped in entity.fields.items():
            columns = mapped.source_columns
            if len(columns) != 1 or mapped.const is not None:
                continue
            column = columns[0]
            meta = schemas.attribute_spec(entity.type, attribute)
            normalizer = mapped.normalize or (meta.normalizer if meta is not None else None)
            label = f"{entity.type}.{attribute}"
            if attribute in entity.required and not mapped.when and not entity.when and mapped.default is None:
                flags.append(Flag(f"{column} filled", column, "filled",
                                  f"{column} ({label}) is filled: a required attribute", _filled))
            if normalizer in CHECKED_NORMALIZERS:
                flags.append(Flag(f"{column} valid", column, "valid",
                                  f"{column} ({label}) is a checksum-valid {normalizer.replace('_', ' ')}",
                                  _Checksum(normalizer)))
            if mapped.map is not None:
                source = f"code table {mapped.map}" if isinstance(mapped.map, str) else "its value map"
                flags.append(Flag(f"{column} coded", column, "coded", f"{column} ({label}) holds a value {source} "
                                  "knows", _Known(mapped.map)))
    unique: dict[str, Flag] = {}
    for flag in flags:
        unique.setdefault(flag.name, flag)   # a column read by two entities is checked once
    return list(unique.values())


def record_tokens(spec: MappingSpec, frame: pd.DataFrame, vault: Vault) -> pd.Series:
    """Keyed tokens of each row's record id (joined as ingest joins it), None where it is blank."""
    parts = [_column(frame, c).map(lambda v: None if is_blank(v) else str(v).strip()) for c in spec.record_id]
    joined = parts[0].astype(object)
    for part in parts[1:]:
        joined = joined.where(part.isna(), joined + "|" + part.astype(object)).where(part.notna() & joined.notna())
    present = joined.notna()
    tokens = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if present.any():   # lone surrogates (a JSON "\\ud800") as escapes: tokens are of UTF-8 text
        texts = [t.encode("utf-8", "backslashreplace").decode("utf-8") for t in joined[present].astype(str)]
        tokens[present] = vault.tokens(texts)
    return tokens


def check_frame(spec: MappingSpec, batch: pd.DataFrame, vault: Vault, ratio: float | None) -> pd.DataFrame:
    """The frame GX validates: the record-id tokens and the flag columns, plus the row ratio of a full read;
    one row with the ratio alone when the batch landed nothing."""
    if batch.empty:
        return pd.DataFrame({RATIO: [ratio]}) if ratio is not None else pd.DataFrame()
    data: dict[str, pd.Series] = {RECORD_ID: record_tokens(spec, batch, vault)}
    for flag in derive(spec):
        data[flag.name] = _flag(_column(batch, flag.column), flag.test)
    if ratio is not None:
        data[RATIO] = pd.Series([ratio] * len(batch), index=batch.index, dtype=float)
    return pd.DataFrame(data)


def source_checks(spec: MappingSpec, frame: pd.DataFrame, severity: str) -> list[Check]:
    """The suite of one severity over `frame` (check_frame's columns)."""
    mostly = MOSTLY[severity]
    checks: list[Check] = []
    shares = severity != CRITICAL or len(frame) >= MIN_ROWS_CRITICAL
    if RECORD_ID in frame.columns and shares:
        checks.append(Check("ExpectColumnValuesToNotBeNull", {"column": RECORD_ID, "mostly": mostly["record_id"]},
                            "record_id", "every row carries its record id"))
        checks.append(Check("ExpectColumnValuesToBeUnique", {"column": RECORD_ID, "mostly": mostly["record_id"]},
                            "record_id", "no record id repeats within the batch"))
    for flag in derive(spec):
        if flag.name not in frame.columns or not shares:
            continue
        expectation = "ExpectColumnValuesToNotBeNull" if flag.kind == "filled" else "ExpectColumnValuesToBeInSet"
        kwargs: dict[str, Any] = {"column": flag.name, "mostly": mostly[flag.kind]}
        if flag.kind != "filled":
            kwargs["value_set"] = [True]
        checks.append(Check(expectation, kwargs, flag.kind, flag.meaning))
    if RATIO in frame.columns:
        low, high = ROW_RATIO[severity]
        checks.append(Check("ExpectColumnValuesToBeBetween", {"column": RATIO, "min_value": low, "max_value": high},
                            "rows", f"a full read extracts between {low:g} and {high:g} times the rows of the "
                                    "previous one"))
    return checks
