"""`suggest` on what series K's exports showed, as general causes, not spellings: keys of older databases with
a column-type or vendor prefix (C_, NUM_, DT_, FLD_ …) read without it.

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the rule, not a spelling."""

from __future__ import annotations

import random
from pathlib import Path

from hub.onboard.dictionary import match_header
from tests.hub.onboard.test_suggest_street_office import _people, _suggest


def test_a_type_prefix_is_read_past(tmp_path: Path) -> None:
    rng = random.Random(111)
    rows = [{"C_RYBH": f"RY{i:06d}", "NVC_XINGMING": p["name"], "C_GMSFHM": p["id"],
             "INT_XB": rng.choice(["1", "2"]), "DT_BIRTHDAY": f"{p['born']:%Y-%m-%d}", "FLD_SJHM": p["phone"]}
            for i, p in enumerate(_people(111), start=1)]
    _, got = _suggest(tmp_path, "人口.csv", rows)
    assert got["NVC_XINGMING"] == {"person.name"} and got["C_GMSFHM"] == {"person.resident_id"}
    assert got["INT_XB"] == {"person.gender"} and got["FLD_SJHM"] == {"person.phone"}
    assert got["C_RYBH"] == {"record_id"}


def test_a_date_prefix_says_the_date_of_what_follows() -> None:
    best = match_header("dt_birth")[0]
    assert str(best.entry.targets[0]) == "person.birth_date" and "type prefix" in best.how
    assert match_header("id_no")[0].how.find("type prefix") < 0          # no prefix: read as written
