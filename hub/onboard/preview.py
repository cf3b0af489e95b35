"""`hub mappings preview`: what the first rows of a source would become, before anything is loaded.

For each row: every mapped field's raw value beside its normalized value (or the reason it fails),
the statements the row would become (derived values and relations included), and whether the row
would go to quarantine and why. It runs the real statement builder on the sample with a throw-away
key, so what it shows is what ingest would store. Resident IDs and phones are masked, other sensitive
values hidden, unless asked; codes of national tables show their label (女 (2)).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from hub.mapping import MappingSpec
from hub.mapping.code_tables import display_value
from hub.normalize.base import is_blank
from hub.protect import Vault, mask_attribute
from hub.statements import STATEMENT_COLUMNS, RecordRefs, build_statements, long_frame
from hub.statements.columns import normalize_entity, raw_values


@dataclass
class CellPreview:
    entity: str
    attribute: str
    source: str          # the column(s), or "const"
    raw: str
    value: str | None
    note: str = ""


@dataclass
class RowPreview:
    position: str
    record_id: str | None
    cells: list[CellPreview] = field(default_factory=list)
    statements: list[tuple[str, str, str, str]] = field(default_factory=list)   # entity, attribute, value, method
    quarantine: list[tuple[str, str, str]] = field(default_factory=list)        # entity, field, reason
    loaded: bool = False


def mask(entity_type: str, attribute: str, value: str) -> str:
    """A value as the preview shows it unless revealed: masked or hidden by its sensitivity, as everywhere
    in the hub (650102********1237, 138****8000, *** for ethnicity or welfare status)."""
    return str(mask_attribute(entity_type, attribute, value)) if value else value


def _labelled(entity_type: str, attribute: str, value: str) -> str:
    """A normalized code with its label (女 (2)), after masking."""
    return str(display_value(entity_type, attribute, value))


def _text(value: Any) -> str:
    return "" if is_blank(value) else str(value)


def _record_ids(spec: MappingSpec, frame: pd.DataFrame) -> list[str | None]:
    out: list[str | None] = []
    for _, row in frame.iterrows():
        parts = [row.get(c) for c in spec.record_id]
        out.append(None if any(is_blank(p) for p in parts) else "|".join(str(p).strip() for p in parts))
    return out


def preview_rows(spec: MappingSpec, rows: list[dict[str, Any]], positions: list[str] | None = None, *,
                 reveal: bool = False) -> list[RowPreview]:
    """The preview of `rows` (payload dicts as the connector yields them)."""
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    positions = positions or [f"row {i + 1}" for i in range(len(rows))]
    ids = _record_ids(spec, frame)
    previews = [RowPreview(positions[i], ids[i]) for i in range(len(rows))]
    show = (lambda t, a, v: v) if reveal else mask
    keyed = [i for i, rid in enumerate(ids) if rid is not None]
    for i, rid in enumerate(ids):
        if rid is None:
            previews[i].quarantine.append(("", ",".join(spec.record_id), "record id blank"))
    for local, entity in spec.entities.items():
        results, present = normalize_entity(spec, frame, entity)
        for attr, fspec in entity.fields.items():
            source = "+".join(fspec.source_columns) or "const"
            raws = raw_values(frame, fspec)
            for i in range(len(rows)):
                if not present[i]:
                    continue
                res = results[attr][i]
                raw, value = _text(raws.iloc[i]), res.value
                if not raw and value is None:
                    continue
                note = res.reason or ", ".join(res.flags)
                shown = None if value is None else _labelled(entity.type, attr, show(entity.type, attr, value))
                previews[i].cells.append(CellPreview(local, attr, source, show(entity.type, attr, raw), shown, note))
    if keyed:
        vault = Vault(os.urandom(32))
        sub = frame.iloc[keyed].reset_index(drop=True)
        refs = RecordRefs([str(ids[i]) for i in keyed], [str(i) for i in keyed], [positions[i] for i in keyed])
        built = build_statements(spec, sub, refs, run_id="preview", now=datetime.now(UTC), vault=vault)
        types = {local: e.type for local, e in spec.entities.items()}
        values = long_frame(built.rows, STATEMENT_COLUMNS)
        for raw, ref, attr, clear, enc, method in values[["raw_record_id", "entity_ref", "attribute", "value",
                                                         "value_enc", "method"]].itertuples(index=False):
            i = int(raw)
            value = clear if enc is None else vault.decrypt_text(enc)
            shown = _labelled(types.get(ref, ""), attr, show(types.get(ref, ""), attr, value))
            previews[i].statements.append((ref, attr, shown, method))
            previews[i].loaded = True
        for q in built.quarantine:   # source, record id, run, raw id, position, entity, field, kind, reason, …
            if q[7] != "record":
                previews[int(q[3])].quarantine.append((q[5] or "", q[6] or "", q[8]))
    for p in previews:
        p.statements.sort()
    return previews
