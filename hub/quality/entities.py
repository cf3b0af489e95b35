"""Suites per canonical entity type, over the fused golden records: completeness, validity, and consistency
across departments. They are warnings (reported, never a gate): fusion already chose one value per field,
and what they measure is how good that choice can be.

Like the source suites, GX sees flags only: has the entity a value, is its ID number checksum-valid, do
the departments agree on the field.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.normalize import get_normalizer
from hub.protect import Vault
from hub.quality.suites import WARNING, Check, _Checksum
from hub.store import tables

COMPLETE: dict[str, tuple[str, ...]] = {
    "person": ("name", "resident_id", "birth_date", "gender"),
    "house": ("address",),
    "organization": ("name", "credit_code"),
    "thing": ("plate_no",),
    "situation": ("situation_type",),
    "event": ("event_type", "occurred_at"),
}
"""What a profile (一人一档, 一房一档, 一企一档) is expected to hold."""
VALID: dict[str, tuple[tuple[str, str], ...]] = {
    "person": (("resident_id", "resident_id"),),
    "organization": (("credit_code", "credit_code"),),
}
"""(attribute, normalizer) whose golden values must pass their checksum."""
CONSISTENT: dict[str, tuple[str, ...]] = {
    "person": ("name", "resident_id", "birth_date", "gender", "phone"),
    "house": ("address",),
    "organization": ("name", "credit_code"),
}
"""Fields whose departments should agree: a conflict row is a disagreement fusion had to settle."""
MOSTLY = {"complete": 0.9, "valid": 0.99, "consistent": 0.9}


def entity_frame(engine: Engine, vault: Vault, entity_type: str) -> pd.DataFrame:
    """One row per active entity of the type: `<attr> present`, `<attr> valid`, `<attr> consistent` flags."""
    g, c, e = tables.golden_value.c, tables.conflict.c, tables.entity.c
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.select(e.id).where(e.entity_type == entity_type,
                                                                    e.state == "active"))]
        golden = pd.DataFrame(conn.execute(sa.select(g.entity_id, g.attribute, g.value, g.value_enc).where(
            g.entity_type == entity_type)).all(), columns=["entity_id", "attribute", "value", "value_enc"])
        conflicts = pd.DataFrame(conn.execute(sa.select(c.entity_id, c.attribute).where(
            c.entity_type == entity_type)).all(), columns=["entity_id", "attribute"])
    if not ids:
        return pd.DataFrame()
    frame = pd.DataFrame(index=pd.Index(sorted(ids), name="entity_id"))
    for attribute in COMPLETE.get(entity_type, ()):
        held = set(golden.loc[golden["attribute"] == attribute, "entity_id"])
        frame[f"{attribute} present"] = [True if i in held else None for i in frame.index]
    for attribute, normalizer in VALID.get(entity_type, ()):
        rows = golden[golden["attribute"] == attribute]
        test = _Checksum(normalizer)
        clear = [vault.decrypt_text(bytes(enc)) if enc is not None else value
                 for value, enc in zip(rows["value"], rows["value_enc"], strict=True)]
        verdict = dict(zip(rows["entity_id"], (test(v) if v else None for v in clear), strict=True))
        frame[f"{attribute} valid"] = [verdict.get(i) for i in frame.index]
    for attribute in CONSISTENT.get(entity_type, ()):
        disputed = set(conflicts.loc[conflicts["attribute"] == attribute, "entity_id"])
        frame[f"{attribute} consistent"] = [i not in disputed for i in frame.index]
    get_normalizer("resident_id")   # the normalizers' tables load here, not inside GX's metric code
    return frame.reset_index(drop=True).astype(object)


def entity_checks(frame: pd.DataFrame) -> list[Check]:
    checks: list[Check] = []
    for column in frame.columns:
        attribute, kind = str(column).rsplit(" ", 1)
        if kind == "present":
            checks.append(Check("ExpectColumnValuesToNotBeNull", {"column": column, "mostly": MOSTLY["complete"]},
                                "complete", f"{attribute} is known for the entity (completeness)"))
        elif kind == "valid":
            checks.append(Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": [True],
                                                                "mostly": MOSTLY["valid"]},
                                "valid", f"the golden {attribute} passes its checksum (validity)"))
        elif kind == "consistent":
            checks.append(Check("ExpectColumnValuesToBeInSet", {"column": column, "value_set": [True],
                                                                "mostly": MOSTLY["consistent"]},
                                "consistent", f"the departments agree on {attribute} (consistency)"))
    return checks


def entity_suites(frame: pd.DataFrame) -> dict[str, list[Check]]:
    return {WARNING: entity_checks(frame)}


def entity_types() -> list[str]:
    return list(COMPLETE)


def share(outcome: dict[str, Any]) -> float | None:
    """Share of rows an expectation held for, from its stored outcome (None when it did not count rows)."""
    percent = outcome.get("unexpected_percent")
    return None if percent is None else 1 - float(percent) / 100
