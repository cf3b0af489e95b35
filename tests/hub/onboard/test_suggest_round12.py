"""`suggest` on what series L's exports showed, as general causes, not spellings: a database tool's table-qualified
column names (tbl.col) read by their column name.

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the rule, not a spelling."""

from __future__ import annotations

import random
from pathlib import Path

from hub.onboard.dictionary import match_header
from tests.hub.onboard.test_suggest_street_office import _people, _suggest


def test_a_table_qualified_column_is_read_by_its_column_name(tmp_path: Path) -> None:
    rng = random.Random(121)
    rows = [{"t_ry.rybh": f"RY{i:06d}", "t_ry.ryxm": p["name"], "t_ry.sfzhm": p["id"], "t_ry.xb": rng.choice(["男", "女"]),
             "dbo.t_ry.lxdh": p["phone"]}
            for i, p in enumerate(_people(121), start=1)]
    _, got = _suggest(tmp_path, "人员.csv", rows)
    assert got["t_ry.ryxm"] == {"person.name"} and got["t_ry.sfzhm"] == {"person.resident_id"}
    assert got["t_ry.xb"] == {"person.gender"} and got["dbo.t_ry.lxdh"] == {"person.phone"}
    assert "table" in match_header("person_tab.gender")[0].how
    assert not match_header("1.5")
