"""Suites derived from a mapping: which checks, on which flag columns, and that GX never gets a clear value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hub.mapping import MappingSpec, load_mappings
from hub.protect import Vault
from hub.quality.suites import (
    CRITICAL,
    MIN_ROWS_CRITICAL,
    RATIO,
    RECORD_ID,
    WARNING,
    check_frame,
    derive,
    source_checks,
)

MAPPINGS = Path(__file__).parents[3] / "mappings"
VALID_ID = "65010219700101123X"


def _spec(source: str) -> MappingSpec:
    return next(s for s in load_mappings(MAPPINGS).ready if s.source == source)


def test_the_checks_follow_the_mapping() -> None:
    flags = {f.name: f.kind for f in derive(_spec("gongan_population"))}
    assert flags["XM filled"] == "filled"              # person.required: [name]
    assert flags["GMSFHM valid"] == "valid"            # resident_id's normalizer
    assert flags["RKLX coded"] == "coded"              # a value map
    assert "SJHM valid" not in flags                   # phones have no checksum
    coded = {f.name for f in derive(_spec("minzheng_allowance")) if f.kind == "coded"}
    assert coded == {"补贴类型 coded", "残疾等级 coded"}   # a value map and a national code table


def test_the_frame_gx_sees_holds_flags_and_tokens_only() -> None:
    spec = _spec("gongan_population")
    rows = MIN_ROWS_CRITICAL
    batch = pd.DataFrame({"RYBH": [f"R{i}" for i in range(rows)],
                          "XM": ["张伟"] * (rows - 1) + [""],
                          "GMSFHM": [VALID_ID] * (rows - 3) + ["650102197001011231", "650102********1237", None],
                          "RKLX": ["1"] * (rows - 1) + ["9"]})
    frame = check_frame(spec, batch, Vault(b"k" * 32), ratio=0.97)
    assert frame["GMSFHM valid"].tolist()[-3:] == [False, None, None]   # bad checksum; masked and blank not judged
    assert frame["XM filled"].tolist()[-2:] == [True, None]
    assert frame["RKLX coded"].tolist()[-2:] == [True, False]
    assert frame[RATIO].eq(0.97).all()
    shown = set(frame.astype(str).to_numpy().ravel())
    assert not shown & {VALID_ID, "张伟", "R0"}                        # tokens and flags only
    assert frame[RECORD_ID].nunique() == rows

    critical = {c.name for c in source_checks(spec, frame, CRITICAL)}
    ratio = f"rows: {RATIO}"
    assert {"valid: GMSFHM valid", "filled: XM filled", ratio, f"record_id: {RECORD_ID}"} <= critical
    small = {c.name for c in source_checks(spec, frame.head(3), CRITICAL)}
    assert small == {ratio}                                            # a handful of rows: its row count only
    assert {c.name for c in source_checks(spec, frame.head(3), WARNING)} == critical
