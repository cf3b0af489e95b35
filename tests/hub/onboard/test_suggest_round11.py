"""`suggest` on what series K's exports showed, as general causes, not spellings: keys of older databases with
a column-type or vendor prefix (C_, NUM_, DT_, FLD_ …) read without it; an ID number written in groups
(650103-19500531-2678); a status word whose form says it goes on (X中, 在X); a remark about something (X内容); a
person named by a role (户主, 产权人, head, owner, contact) beside a column naming the row's own person; what an
English key names before its `of` (phoneOfPerson); a column of relations to the owner (本人 owns, the tenant
rents, kin live there); a short repeated value among organizations' names (个体参保) that names none; English
synonyms in keyword groups (relief_kind: aid + type); a listed spelling inside a header once the date word is
swapped (首次参加保险时间 ⊃ 参加保险日期).

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the rule, not a spelling."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hub.onboard.detect import classify
from hub.onboard.dictionary import match_header
from hub.onboard.vocab import not_organizations, value_map
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


def test_an_id_number_written_in_groups_is_an_id_number() -> None:
    assert "resident_id" in classify("650103-19500531-2678") and "masked_id" in classify("650104-********-094X")
    assert "resident_id" not in classify("2024-03-07")


def test_an_id_number_in_groups_decides_an_unknown_header(tmp_path: Path) -> None:
    rows = [{"登记号": f"D{i:05d}", "姓名": p["name"], "证照号": f"{p['id'][:6]}-{p['id'][6:14]}-{p['id'][14:]}"}
            for i, p in enumerate(_people(112), start=1)]
    _, got = _suggest(tmp_path, "名册.csv", rows)
    assert got["证照号"] == {"person.resident_id"}


def test_a_status_word_says_by_its_form_that_it_goes_on() -> None:
    mapped, unknown = value_map("situation.status", ["补助中", "在档", "中断发放", "转出"])
    assert mapped == {"补助中": "active", "在档": "active", "中断发放": "suspended", "转出": "ended"} and not unknown
    assert value_map("event.status", ["核查中"])[0] == {"核查中": "in_progress"}


def test_a_remark_about_something_is_a_remark() -> None:
    assert match_header("备注内容")[0].entry.targets[0].kind == "unmapped"
    assert str(match_header("事件内容")[0].entry.targets[0]) == "event.description"


@pytest.mark.parametrize(("own", "other"), [("姓名", "户主姓名"), ("person_name", "head_name"),
                                            ("居民姓名", "产权人姓名")])
def test_a_person_named_by_a_role_yields_to_the_rows_own_person(tmp_path: Path, own: str, other: str) -> None:
    rng = random.Random(113)
    people = _people(113)
    rows = [{"编号": f"B{i:05d}", own: p["name"], other: rng.choice(people)["name"], "身份证号码": p["id"]}
            for i, p in enumerate(people, start=1)]
    _, got = _suggest(tmp_path, "名册.csv", rows)
    assert got[own] == {"person.name"} and got.get(other, set()) == set()


def test_an_owners_roster_keeps_the_owners_name(tmp_path: Path) -> None:
    rows = [{"编号": f"B{i:05d}", "产权人姓名": p["name"], "身份证号码": p["id"],
             "房屋地址": f"{p['estate']}{p['building']}号楼{p['unit']}单元{p['room']}室"}
            for i, p in enumerate(_people(114), start=1)]
    _, got = _suggest(tmp_path, "产权人.csv", rows)
    assert got["产权人姓名"] == {"person.name"}


def test_what_a_key_names_before_its_of_is_what_it_holds() -> None:
    assert str(match_header("mobileOfResident")[0].entry.targets[0]) == "person.phone"
    assert str(match_header("birth_date_of_member")[0].entry.targets[0]) == "person.birth_date"


@pytest.mark.parametrize(("header", "words"), [("与产权人关系", ("本人", "承租人", "配偶", "子女")),
                                               ("relationship_owner", ("SELF", "RENTER", "SON", "PARENT"))])
def test_a_relation_to_the_owner_decides_the_tenure(tmp_path: Path, header: str, words: tuple[str, ...]) -> None:
    rng = random.Random(115)
    rows = [{"住户号": f"Z{i:05d}", "姓名": p["name"], "身份证号码": p["id"], header: rng.choice(words),
             "房屋地址": f"{p['estate']}{p['building']}号楼{p['unit']}单元{p['room']}室"}
            for i, p in enumerate(_people(115), start=1)]
    draft, _ = _suggest(tmp_path, "住户.csv", rows)
    whens = {predicate: when for _, predicate, house, when in draft.relations if house == "house"}
    assert set(whens) == {"owns", "rents", "resides_at"}, draft.relations
    assert words[0] in whens["owns"] and words[1] in whens["rents"] and words[2] in whens["resides_at"]


def test_a_short_repeated_value_among_organizations_names_none() -> None:
    companies = ["天山建材有限公司", "红山商贸有限责任公司", "新华物流有限公司", "明珠餐饮有限公司", "雅山建筑有限公司"]
    values = [*companies, "自行缴纳", "自行缴纳", "灵活缴纳", "灵活缴纳", "新华物流有限公司"]
    assert not_organizations(values) == ["自行缴纳", "灵活缴纳"]
    assert not_organizations(["天山区社会福利院", "天山区敬老院", "天山区敬老院"]) == []


def test_an_english_word_stands_for_its_synonym_in_a_keyword_group() -> None:
    assert str(match_header("welfare_class")[0].entry.targets[0]) == "situation.situation_type"
    assert str(match_header("benefit_stat")[0].entry.targets[0]) == "situation.status"


def test_a_listed_spelling_inside_a_header_with_another_date_word() -> None:
    best = match_header("本次参加保险时间")[0]
    assert str(best.entry.targets[0]) == "situation.start_date@insurance" and "date word" in best.how


def test_a_generic_headers_value_guess_waits_for_a_header_that_names_the_target(tmp_path: Path) -> None:
    rng = random.Random(116)
    rows = [{"对象号": f"DX{i:05d}", "姓名": p["name"], "身份证号码": p["id"],
             "护理等级": rng.choice(["特困供养一档", "特困供养二档"]), "救助项目": rng.choice(["城市低保", "特困供养"])}
            for i, p in enumerate(_people(116), start=1)]
    _, got = _suggest(tmp_path, "救助名册.csv", rows)
    assert got["救助项目"] == {"situation.situation_type"}
    assert "situation.situation_type" not in got.get("护理等级", set())

