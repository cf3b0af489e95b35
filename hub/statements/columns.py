"""Reading one mapped field out of a batch, and normalizing it, column-wise.

A field's raw value is a column, several columns joined, a composite of parts (address, name) or a
constant; a value map (inline, or a national code table by name) then translates codes, `default`
fills blanks, and `when` blanks the rows the field does not apply to. Normalizing picks the
attribute's normalizer unless the field names another, honours the source's date hints (day-first
order for dates and timestamps, no spreadsheet serials), and rejects values outside the closed set of an attribute (a
status the map did not translate). Everything runs once per distinct value, not once per row.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

import schemas
from hub.mapping import EntitySpec, FieldSpec, MappingSpec
from hub.mapping.code_tables import code_table
from hub.mapping.conditions import conditions_hold, fold
from hub.mapping.parts import compose
from hub.normalize import get_normalizer
from hub.normalize.base import EMPTY, Normalized, Normalizer, is_blank, normalize_column


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _lookup(table: dict[str, str] | str) -> Any:
    """A function from a raw value to its mapped value (None when the map does not hold it)."""
    if isinstance(table, str):
        return code_table(table).lookup
    folded = {fold(k): v for k, v in table.items()}

    def inline(raw: Any) -> str | None:
        text = _text(raw).strip()
        return table[text] if text in table else folded.get(fold(text))

    return inline


def map_values(values: pd.Series, table: dict[str, str] | str) -> pd.Series:
    """Translate codes through a value map; values the map does not hold pass through unchanged."""
    lookup = _lookup(table)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = []
    for u in uniques.tolist():
        found = lookup(u)
        mapped.append(u if found is None else found)
    return pd.Series([mapped[c] if c >= 0 else None for c in codes.tolist()], index=values.index, dtype=object)


def unmapped_values(values: pd.Series, table: dict[str, str] | str) -> dict[str, int]:
    """Distinct non-blank values a map does not hold, with their counts (for `hub mappings check`)."""
    lookup = _lookup(table)
    counts = values[[not is_blank(v) for v in values]].map(_text).value_counts()
    return {str(v): int(n) for v, n in counts.items() if lookup(v) is None}


def raw_values(frame: pd.DataFrame, spec: FieldSpec) -> pd.Series:
    """The field's value before any map: a column, columns joined, parts composed, or the constant."""
    n = len(frame)
    if spec.const is not None:
        return pd.Series([spec.const] * n, index=frame.index, dtype=object)
    if spec.column is not None:
        return _column(frame, spec.column)
    if spec.parts is not None:
        roles = list(spec.parts)
        cells = zip(*(_column(frame, spec.parts[r]).tolist() for r in roles), strict=True)
        return pd.Series(compose(roles, list(cells)), index=frame.index, dtype=object)
    parts = [_column(frame, c).tolist() for c in spec.columns or []]
    joined = [spec.join.join(_text(v) for v in row if not is_blank(v)) or None for row in zip(*parts, strict=True)]
    return pd.Series(joined, index=frame.index, dtype=object)


def field_values(frame: pd.DataFrame, spec: FieldSpec) -> pd.Series:
    """The raw values of a field for every row, before normalizing, with map, default and `when` applied."""
    values = raw_values(frame, spec)
    if spec.map:
        values = map_values(values, spec.map)
    if spec.default is not None:
        default = spec.default
        values = pd.Series([default if is_blank(v) else v for v in values.tolist()], index=frame.index, dtype=object)
    if spec.when:
        values = values.where(conditions_hold(frame, spec.when), None)
    return values


def normalizer_name(mapping: MappingSpec, entity_type: str, attribute: str, spec: FieldSpec) -> str:
    """The normalizer a field uses: its own, else the attribute's, with the source's date order."""
    if spec.normalize is not None:
        return spec.normalize
    name = schemas.attributes(entity_type)[attribute].normalizer
    return "date_dmy" if name == "date" and mapping.dates.order == "dmy" else name


_DAY_FIRST = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?=$|[\sT])")


def _day_first(normalizer: Normalizer) -> Normalizer:
    """Timestamps of a day-first source (07/03/2025 08:15) rewritten year first for the datetime normalizer."""
    def dmy(raw: Any) -> Normalized:
        if isinstance(raw, str) and (match := _DAY_FIRST.match(raw)):
            day, month, year = match.groups()
            raw = f"{year}-{month}-{day}{raw[match.end():]}"
        return normalizer(raw)

    return dmy


def _without_serials(normalizer: Normalizer) -> Normalizer:
    def no_serials(raw: Any) -> Normalized:
        result = normalizer(raw)
        if "excel_serial" in result.flags:
            return Normalized(None, "date: a number, and this source writes no spreadsheet serial dates")
        return result

    return no_serials


_MEMOS: dict[tuple[str, bool, bool], dict[Any, Normalized]] = {}


def _memo(name: str, mapping: MappingSpec, spec: FieldSpec) -> dict[Any, Normalized]:
    """The process-wide memo of one normalizer as this source configures it (date order, serials).

    Normalizers are pure functions of the raw value, so a result can be reused by any later batch.
    """
    key = (name, name == "datetime" and spec.normalize is None and mapping.dates.order == "dmy",
           not mapping.dates.excel_serials and name in ("date", "date_dmy", "datetime"))
    return _MEMOS.setdefault(key, {})


def normalize_field(mapping: MappingSpec, frame: pd.DataFrame, entity_type: str, attribute: str,
                    spec: FieldSpec, rows: np.ndarray | None = None) -> list[Normalized]:
    """Normalized values of one field for every row; rows outside `rows` (a boolean mask) are blank."""
    values = field_values(frame, spec)
    if rows is not None and not rows.all():
        values = values.where(rows, None)
    name = normalizer_name(mapping, entity_type, attribute, spec)
    normalizer = get_normalizer(name)
    if name == "datetime" and spec.normalize is None and mapping.dates.order == "dmy":
        normalizer = _day_first(normalizer)
    if not mapping.dates.excel_serials and name in ("date", "date_dmy", "datetime"):
        normalizer = _without_serials(normalizer)
    results = normalize_column(normalizer, values, _memo(name, mapping, spec))
    meta = schemas.attribute_spec(entity_type, attribute)
    allowed = set(meta.allowed_values) if meta is not None and meta.allowed_values else None
    if allowed is None:
        return results
    why = "not in the value map, and " if spec.map else ""
    reason = f"{attribute}: {why}not one of {', '.join(sorted(allowed))}"
    outside = Normalized(None, reason)
    return [outside if r.value is not None and r.value not in allowed else r for r in results]


def _filled(values: pd.Series) -> np.ndarray:
    """Rows whose value is not blank, asking `is_blank` once per distinct value (missing ones: code -1)."""
    try:
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
    except TypeError:   # an unhashable value (a nested JSON object): row by row
        return np.fromiter((not is_blank(v) for v in values.tolist()), dtype=bool, count=len(values))
    filled = np.fromiter((not is_blank(v) for v in distinct.tolist()), dtype=bool, count=len(distinct))
    return np.append(filled, False)[codes]


def own_columns_filled(frame: pd.DataFrame, entity: EntitySpec) -> np.ndarray:
    """Rows where some field or local id of the entity that reads the row's columns has a value (where its
    own `when` holds): a constant or a default alone never makes an entity appear on a row."""
    filled = np.zeros(len(frame), dtype=bool)
    for spec in entity.own_fields:
        has = _filled(raw_values(frame, spec))
        if spec.when:
            has &= np.asarray(conditions_hold(frame, spec.when), dtype=bool)
        filled |= has
    return filled


def normalize_local_id(mapping: MappingSpec, frame: pd.DataFrame, spec: FieldSpec,
                       rows: np.ndarray | None = None) -> list[Normalized]:
    """A department-local identifier of every row: read like a field, normalized as text unless it names
    another normalizer."""
    values = field_values(frame, spec)
    if rows is not None and not rows.all():
        values = values.where(rows, None)
    name = spec.normalize or "text"
    return normalize_column(get_normalizer(name), values, _memo(name, mapping, spec))


def normalize_entity(mapping: MappingSpec, frame: pd.DataFrame,
                     entity: EntitySpec) -> tuple[dict[str, list[Normalized]], list[bool]]:
    """Every field of an entity, normalized, and the rows where the entity is present: its `when` holds and
    one of its own columns is filled (see `own_columns_filled`)."""
    present = np.asarray(conditions_hold(frame, entity.when), dtype=bool) & own_columns_filled(frame, entity)
    rows = None if present.all() else present
    results = {attribute: normalize_field(mapping, frame, entity.type, attribute, spec, rows)
               for attribute, spec in entity.fields.items()}
    return results, [bool(p) for p in present]


__all__ = ["EMPTY", "field_values", "map_values", "normalize_entity", "normalize_field", "normalize_local_id",
           "normalizer_name", "own_columns_filled", "raw_values", "unmapped_values"]
