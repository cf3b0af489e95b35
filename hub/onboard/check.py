"""`hub mappings check`: a mapping against its source, before anything is loaded.

The mapping file itself was validated when it loaded (shape, attribute and normalizer names, code
tables, conditions). Here the sample decides: every column the mapping reads exists, value maps hold
the values the source really has, conditions hold for some rows, the record id identifies rows (a repeat
is an error unless the source is a change log), and no field would send most of its values to
quarantine (a wrong normalizer or date order shows up so).
Values are quoted only for short code lists; identifiers and phones never appear in a finding.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import pandas as pd

import schemas
from hub.mapping import FieldSpec, MappingSpec
from hub.mapping.nearest import suggest
from hub.mapping.yaml_lines import Path_, nearest_line
from hub.normalize.base import is_blank
from hub.onboard.detect import PERSONAL_KINDS, profile
from hub.onboard.sample import Sample
from hub.statements.columns import normalize_field, raw_values, unmapped_values

FAILING = 0.2
_LONG_NUMBER = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc}: {self.level}: {self.where}: {self.message}" if self.where else f"{loc}: {self.level}: " \
                                                                                        f"{self.message}"


def _shown(value: str) -> str:
    """A value fit for a finding: codes as they are, anything that may identify someone hidden."""
    return "…" if _LONG_NUMBER.search(value) or len(value) > 24 else repr(value)


class _Findings:
    def __init__(self, file: str, lines: dict[Path_, int]):
        self.file, self.lines, self.items = file, lines, list[Finding]()

    def add(self, level: Literal["error", "warning"], loc: tuple[str | int, ...], message: str) -> None:
        self.items.append(Finding(level, self.file, nearest_line(self.lines, loc), ".".join(map(str, loc)), message))


def _frame(sample: Sample) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(sample.rows) if sample.rows else pd.DataFrame(columns=sample.columns)
    for column in sample.columns:
        if column not in frame:
            frame[column] = None
    return frame


def _columns(spec: MappingSpec, sample: Sample, out: _Findings) -> set[str]:
    """Columns the mapping reads that the source lacks (errors naming the nearest existing column)."""
    have = set(sample.columns)
    missing: set[str] = set()

    def need(column: str, loc: tuple[str | int, ...]) -> None:
        if column not in have:
            missing.add(column)
            out.add("error", loc, f"column {column!r} is not in the source{suggest(column, have)}")

    for i, column in enumerate(spec.record_id):
        need(column, ("record_id", i))
    if spec.record_versions is not None:
        need(spec.record_versions.ordered_by, ("record_versions", "ordered_by"))
    for local, entity in spec.entities.items():
        for i, condition in enumerate(entity.when):
            need(condition.column, ("entities", local, "when", i))
        for attr, field in entity.fields.items():
            base = ("entities", local, "fields", attr)
            if field.column is not None:
                need(field.column, (*base, "column"))
            for role, column in (field.parts or {}).items():
                need(column, (*base, "parts", role))
            for i, column in enumerate(field.columns or []):
                need(column, (*base, "columns", i))
            for i, condition in enumerate(field.when):
                need(condition.column, (*base, "when", i))
    return missing


def _field(spec: MappingSpec, frame: pd.DataFrame, local: str, attr: str, field: FieldSpec, out: _Findings) -> None:
    entity_type = spec.entities[local].type
    base = ("entities", local, "fields", attr)
    meta = schemas.attribute_spec(entity_type, attr)
    closed = bool(meta and meta.allowed_values)
    for i, condition in enumerate(field.when):
        if condition.column in frame and not condition.holds(frame[condition.column]).any():
            out.add("warning", (*base, "when", i), f"condition '{condition.describe()}' holds for no sampled row")
    if field.map and field.const is None:
        gaps = unmapped_values(raw_values(frame, field), field.map)
        if gaps:
            listed = ", ".join(f"{_shown(v)} ×{n}" for v, n in sorted(gaps.items(), key=lambda kv: -kv[1])[:8])
            fate = "they would be quarantined" if closed else "they pass through unmapped"
            out.add("error" if closed else "warning", (*base, "map"),
                    f"the map does not hold {len(gaps)} value(s) seen in the sample ({listed}); {fate}")
            if closed:
                return   # the failures counted below would be these same values again
    if field.const is not None:
        return
    results = normalize_field(spec, frame, entity_type, attr, field)
    failed = [r.reason for r in results if r.value is None and r.reason]
    filled = sum(1 for r in results if r.value is not None) + len(failed)
    if filled and len(failed) / filled >= FAILING:
        reason, _ = Counter(failed).most_common(1)[0]
        hint = " — does the source write dates day first? set `dates: {order: dmy}`" if "year comes last" in reason \
            else ""
        out.add("warning", base, f"{round(100 * len(failed) / filled)} % of {filled} sampled values would be "
                f"quarantined (most often: {reason}){hint}")


def _record_id(spec: MappingSpec, frame: pd.DataFrame, out: _Findings) -> None:
    if not all(c in frame for c in spec.record_id):
        return
    for i, column in enumerate(spec.record_id):
        if profile(column, frame[column].tolist()).share(*PERSONAL_KINDS) >= 0.3:
            out.add("error", ("record_id", i), f"column {column!r} is or carries resident ID numbers or phones; record "
                    "ids are stored and logged in clear: use a row number or a system id instead")
    parts = frame[spec.record_id].map(lambda v: None if is_blank(v) else str(v).strip())
    blank = int(parts.isna().any(axis=1).sum())
    if blank:
        out.add("warning", ("record_id",), f"{blank} sampled row(s) have a blank record id: they go to quarantine")
    keys = parts.dropna().astype(str).agg("|".join, axis=1)
    repeated = int(keys.duplicated().sum())
    if repeated and spec.record_versions is None:
        out.add("error", ("record_id",), f"the record id repeats in {repeated} sampled row(s): ingest lands the "
                "first row of each id and quarantines later ones with other content; choose column(s) that identify "
                "a row, or, for a change log, declare `record_versions: {ordered_by: <the column ordering the "
                "versions>}`")
    elif repeated and spec.record_versions is not None and spec.record_versions.ordered_by in frame:
        _versions(spec.record_versions.ordered_by, frame, keys, out)


def _versions(ordered_by: str, frame: pd.DataFrame, keys: pd.Series, out: _Findings) -> None:
    """A change log's repeats that ingest cannot order: a blank ordering value, or the same one twice."""
    order = frame[ordered_by].map(lambda v: None if is_blank(v) else str(v).strip())
    distinct = ~frame.astype(str).agg("\x1f".join, axis=1).duplicated()   # an exact repeat is only unchanged
    rows = pd.DataFrame({"key": keys, "order": order.loc[keys.index]})[distinct.loc[keys.index]]
    repeats = rows[rows["key"].duplicated(keep=False)]
    unordered = int(repeats["order"].isna().sum()) + int(repeats.dropna().duplicated().sum())
    if unordered:
        out.add("warning", ("record_versions", "ordered_by"), f"{unordered} sampled row(s) repeat a record id with a "
                f"blank {ordered_by} or the same {ordered_by} as another version: ingest quarantines them, since "
                "their order is unknown")


def check_mapping(spec: MappingSpec, lines: dict[Path_, int], sample: Sample, *, file: str) -> list[Finding]:
    """Everything wrong between a loaded mapping and a sample of its source (errors first)."""
    out = _Findings(file, lines)
    missing = _columns(spec, sample, out)
    if spec.connector.kind == "file" and len(missing) * 2 > len(spec.columns_read):
        out.add("warning", ("connector", "settings"), f"{len(missing)} of the {len(spec.columns_read)} columns the "
                f"mapping reads are not in the header found ({', '.join(sample.columns[:4])}…): is the header on "
                "another row? `header_row: auto` finds it below title rows")
    frame = _frame(sample)
    if sample.rejected:
        out.add("warning", ("connector",), f"{len(sample.rejected)} sampled row(s) cannot be read by the connector "
                f"(first: {sample.rejected[0].position}: {sample.rejected[0].reason})")
    if not sample.rows:
        out.add("warning", ("connector",), "the source returned no rows: nothing to check values against")
        return out.items
    _record_id(spec, frame, out)
    for local, entity in spec.entities.items():
        for i, condition in enumerate(entity.when):
            if condition.column in frame and not condition.holds(frame[condition.column]).any():
                out.add("warning", ("entities", local, "when", i),
                        f"condition '{condition.describe()}' holds for no sampled row: the entity never appears")
        for attr, field in entity.fields.items():
            if not set(field.source_columns + field.condition_columns) & missing:
                _field(spec, frame, local, attr, field, out)
    return sorted(out.items, key=lambda f: (f.level != "error", f.line or 0))
