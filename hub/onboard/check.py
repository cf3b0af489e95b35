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

import numpy as np
import pandas as pd

import schemas
from hub.mapping import FieldSpec, MappingSpec
from hub.mapping.conditions import conditions_hold
from hub.mapping.nearest import suggest
from hub.mapping.yaml_lines import Path_, nearest_line
from hub.normalize.base import is_blank
from hub.onboard.detect import PERSONAL_KINDS, profile
from hub.onboard.sample import Sample
from hub.statements.columns import normalize_entity, normalize_field, raw_values, unmapped_values

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
        for name, field in entity.local_ids.items():
            for column in field.source_columns:
                need(column, ("entities", local, "local_ids", name))
            for i, condition in enumerate(field.when):
                need(condition.column, ("entities", local, "local_ids", name, "when", i))
    for i, relation in enumerate(spec.relations):
        for j, condition in enumerate(relation.when):
            need(condition.column, ("relations", i, "when", j))
    return missing


IDENTIFYING = {
    "person": ("name", "resident_id", "resident_id_masked", "resident_id_unchecked", "household_no"),
    "organization": ("name", "credit_code"),
    "house": ("address", "room"),
    "thing": ("plate_no", "parking_space_no", "name"),
    "place": ("code", "name"),
}
"""Per entity type, the attributes that tell one entity from another (a local id does too). A situation or an
event is told apart by the person it applies to, so it needs none of its own."""


def _shape(spec: MappingSpec, out: _Findings) -> None:
    """What the file alone says is odd: an entity nothing identifies, an entity made of constants only."""
    for local, entity in spec.entities.items():
        loc = ("entities", local)
        if not entity.own_fields:
            out.add("warning", (*loc, "fields"), f"{entity.type} {local!r} has only constants: a constant alone never "
                    "makes an entity, so it never appears; read at least one field from a column")
            continue
        wanted = IDENTIFYING.get(entity.type, ())
        identifying = [a for a in wanted if a in entity.fields and entity.fields[a].const is None]
        if wanted and not identifying and not entity.local_ids:
            out.add("warning", (*loc, "fields"), f"{entity.type} {local!r} has no identifying attribute (none of "
                    f"{', '.join(wanted)} from a column, and no local id): its rows cannot be told apart or matched")


def _accepted(spec: MappingSpec, frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per entity: (rows where its `when` holds, rows where it is present, rows where it is loaded), as ingest
    decides them (present but not loaded: rejected into quarantine, which ingest reports on its own)."""
    out = {}
    for local, entity in spec.entities.items():
        results, present = normalize_entity(spec, frame, entity)
        there = np.asarray(present, dtype=bool)
        loaded = there.copy()
        for attribute in entity.required:
            loaded &= np.fromiter((r.value is not None for r in results[attribute]), dtype=bool, count=len(frame))
        out[local] = (np.asarray(conditions_hold(frame, entity.when), dtype=bool), there, loaded)
    return out


def _relations(spec: MappingSpec, frame: pd.DataFrame, missing: set[str], out: _Findings) -> None:
    """A relation one of whose ends is absent on rows where the other is loaded, for no declared reason (the
    end's own `when`, or the relation's): the relation silently goes unwritten there."""
    usable = [r for r in spec.relations if not {c.column for c in r.when} & missing]
    if not usable:
        return
    loaded = _accepted(spec, frame)
    n = len(frame)
    for i, relation in enumerate(spec.relations):
        if relation not in usable:
            continue
        holds = np.asarray(conditions_hold(frame, relation.when), dtype=bool)
        for end, other in ((relation.subject, relation.object), (relation.object, relation.subject)):
            declared, there, _ = loaded[end]
            lost = int((holds & declared & ~there & loaded[other][2]).sum())
            if lost:
                out.add("warning", ("relations", i), f"{end} can be absent: on {lost} of {n} sampled rows {other} is "
                        f"there and {end} is not (its own columns are blank), so {relation.subject} "
                        f"{relation.predicate} {relation.object} is not written; if that is meant, say so with `when` "
                        f"on {end} or on the relation")
        for j, condition in enumerate(relation.when):
            if condition.column in frame and not condition.holds(frame[condition.column]).any():
                out.add("warning", ("relations", i, "when", j),
                        f"condition '{condition.describe()}' holds for no sampled row: the relation is never written")


def _local_ids(spec: MappingSpec, frame: pd.DataFrame, missing: set[str], out: _Findings) -> None:
    for local, entity in spec.entities.items():
        for name, field in entity.local_ids.items():
            if set(field.source_columns) & missing:
                continue
            values = raw_values(frame, field).tolist()
            if profile(name, values).share(*PERSONAL_KINDS) >= 0.3:
                out.add("error", ("entities", local, "local_ids", name), f"local id {name!r} is or carries resident "
                        "ID numbers or phones; local ids are stored in clear: use the system's own number instead")


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
    _shape(spec, out)
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
    _local_ids(spec, frame, missing, out)
    _relations(spec, frame, missing, out)
    for local, entity in spec.entities.items():
        for i, condition in enumerate(entity.when):
            if condition.column in frame and not condition.holds(frame[condition.column]).any():
                out.add("warning", ("entities", local, "when", i),
                        f"condition '{condition.describe()}' holds for no sampled row: the entity never appears")
        for attr, field in entity.fields.items():
            if not set(field.source_columns + field.condition_columns) & missing:
                _field(spec, frame, local, attr, field, out)
    return sorted(out.items, key=lambda f: (f.level != "error", f.line or 0))
