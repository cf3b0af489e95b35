"""`suggest` on what series L's exports showed, as general causes, not spellings: a database tool's table-qualified
column names (tbl.col) read by their column name; a row identified by an organization (name and credit code)
whose person is named only as its representative is the organization's.

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the rule, not a spelling."""

from __future__ import annotations

import random
from pathlib import Path

from hub.onboard.dictionary import match_header
from tests.hub.onboard.test_suggest_street_office import _people, _suggest
from tests.hub.onboard.unseen import _credit_code


def test_a_table_qualified_column_is_read_by_its_column_name(tmp_path: Path) -> None:
    rng = random.Random(121)
    rows = [{"t_ry.rybh": f"RY{i:06d}", "t_ry.ryxm": p["name"], "t_ry.sfzhm": p["id"],
             "t_ry.xb": rng.choice(["男", "女"]),
             "dbo.t_ry.lxdh": p["phone"]}
            for i, p in enumerate(_people(121), start=1)]
    _, got = _suggest(tmp_path, "人员.csv", rows)
    assert got["t_ry.ryxm"] == {"person.name"} and got["t_ry.sfzhm"] == {"person.resident_id"}
    assert got["t_ry.xb"] == {"person.gender"} and got["dbo.t_ry.lxdh"] == {"person.phone"}
    assert "table" in match_header("person_tab.gender")[0].how
    assert not match_header("1.5")


def test_a_row_identified_by_an_organization_is_the_organizations(tmp_path: Path) -> None:
    rng = random.Random(122)
    brands, shops = ["福源", "金泰", "华美"], ["商店", "餐厅"]
    rows = [{"序": i, "商户名称": f"天山区{rng.choice(brands)}{rng.choice(shops)}{i % 12}号店",
             "信用代码": _credit_code(rng), "法人": p["name"], "法人证件号": p["id"], "电话": p["phone"],
             "发照机关": f"天山区{rng.choice(['人民路', '光明路'])}{rng.randrange(1, 99)}号"}
            for i, p in enumerate(_people(122), start=1)]
    draft, got = _suggest(tmp_path, "商户.csv", rows)
    assert got["信用代码"] == {"organization.credit_code", "record_id"}
    assert got["法人"] == {"organization.legal_representative", "person.name"}
    assert got["法人证件号"] == {"person.resident_id"} and got["电话"] == {"organization.phone"}
    assert "发照机关" not in got
    assert [r[1] for r in draft.relations] == ["legal_representative_of"]
