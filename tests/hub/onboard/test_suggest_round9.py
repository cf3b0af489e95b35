"""`suggest` on what series I's exports showed, as general causes: an ending word that is a pause where the
column holds a harder ending (停发 beside 退出), a signature line under the data (制表人：…), tenure words for
owner-occupied and rented (自住 / 租住), a guardian beside the row's person, the person the business is done to
(被…人), timestamps written without separators, a code column whose values are timestamps, a code table's
proposal that never writes a value the attribute does not allow, and word families (族称, welfare house,
物业管理处).

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the rule or the word family, not a spelling."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from hub.onboard.candidates import PLACE_AT, column_candidates
from hub.onboard.detect import classify, profile
from hub.onboard.dictionary import match_header
from hub.onboard.vocab import value_map
from tests.hub.onboard.test_suggest_street_office import _credit_code, _people, _suggest


def test_a_stop_of_payment_is_the_pause_beside_a_harder_ending_and_the_end_beside_a_pause() -> None:
    assert value_map("situation.status", ["正常发放", "停发", "注销"])[0] == {
        "正常发放": "active", "停发": "suspended", "注销": "ended"}
    assert value_map("situation.status", ["正常", "暂停", "停发"])[0] == {
        "正常": "active", "暂停": "suspended", "停发": "ended"}
    assert value_map("situation.status", ["正常", "停发"])[0] == {"正常": "active", "停发": "ended"}


def test_a_welfare_rosters_states_with_a_stop_of_payment_and_an_exit(tmp_path: Path) -> None:
    rng = random.Random(91)
    rows = [{"低保户档案号": f"DB{rng.randrange(10**6):06d}{i:03d}", "户主姓名": p["name"], "身份证号码": p["id"],
             "低保类别": "城市低保", "发放状态": rng.choice(["正常发放"] * 4 + ["停发", "注销"])}
            for i, p in enumerate(_people(91), start=1)]
    draft, got = _suggest(tmp_path, "低保名册.csv", rows)
    status = next(e for e in draft.entities if e.type == "situation").fields
    spec = next(f.spec for f in status if f.attribute == "status")
    assert spec["map"] == {"正常发放": "active", "停发": "suspended", "注销": "ended"}
    assert got["发放状态"] == {"situation.status"}


def test_a_proposed_code_table_leaves_out_words_it_does_not_understand(tmp_path: Path) -> None:
    rng = random.Random(92)
    rows = [{"社保号": f"65{i:08d}", "姓名": p["name"], "身份证号码": p["id"],
             "参保单位名称": "乌鲁木齐博格达商贸有限公司", "单位信用代码": _credit_code(rng),
             "参保状态": rng.choice(["正常参保"] * 4 + ["暂停参保", "终止参保", "死亡终止参保", "其它情形"])}
            for i, p in enumerate(_people(92), start=1)]
    draft, _ = _suggest(tmp_path, "参保名单.csv", rows)          # _suggest loads the rendered draft
    situation = next(e for e in draft.entities if e.type == "situation")
    status = next(f for f in situation.fields if f.attribute == "status")
    assert set(status.spec["map"].values()) <= {"active", "suspended", "ended"}
    assert "其它情形" not in status.spec["map"] and "其它情形" in status.evidence


@pytest.mark.parametrize("line", ["制表人：王敏  审核人：李军", "填报说明：以上数据截至6月30日"])
def test_a_signature_line_under_the_data_leaves_the_business_id_the_record_id(tmp_path: Path, line: str) -> None:
    rng = random.Random(93)
    rows = [{"顺次": str(i), "居民档案号": f"JM{rng.randrange(10**6):06d}{i:03d}", "姓名": p["name"],
             "身份证号码": p["id"], "手机号码": p["phone"],
             "现住址": f"{p['estate']}{p['building']}号楼{p['unit']}单元", "登记日期": "2024-05-01"}
            for i, p in enumerate(_people(93), start=1)]
    rows.append({"顺次": line, **{k: "" for k in rows[0] if k != "顺次"}})
    draft, _ = _suggest(tmp_path, "居民名册.csv", rows)
    assert draft.record_id == ["居民档案号"]


@pytest.mark.parametrize(("words", "english"), [(("自住", "租住"), False), (("self-occupied", "leased"), True)])
def test_owner_occupied_and_rented_decide_the_relation(tmp_path: Path, words: tuple[str, str], english: bool) -> None:
    rng = random.Random(94)
    rows = [{"flat_key" if english else "房屋登记号": f"FW{i:05d}", "姓名": p["name"], "身份证号码": p["id"],
             "居住方式": rng.choice([words[0]] * 3 + [words[1]]),
             "房屋地址": f"{p['estate']}{p['building']}号楼{p['unit']}单元{p['room']}室"}
            for i, p in enumerate(_people(94), start=1)]
    draft, got = _suggest(tmp_path, "住户.csv", rows)
    predicates = {(predicate, when) for _, predicate, house, when in draft.relations if house == "house"}
    assert ("owns", f"居住方式 == {words[0]}") in predicates and ("rents", f"居住方式 == {words[1]}") in predicates
    assert got["居住方式"] == {"when:owns", "when:rents"}


def test_a_guardian_is_another_person_and_the_person_done_to_is_the_rows(tmp_path: Path) -> None:
    rng = random.Random(95)
    rows = []
    for i, p in enumerate(_people(95), start=1):
        rows.append({"服务对象编号": f"FW{i:05d}", "监护人名字": rng.choice("赵钱孙李") + rng.choice("国华秀兰"),
                     "被服务人": p["name"], "身份证号码": p["id"], "监护人手机": f"15{rng.randrange(10**9):09d}",
                     "本人手机号码": p["phone"]})
    _, got = _suggest(tmp_path, "服务对象.csv", rows)
    assert got["被服务人"] == {"person.name"}
    assert got["本人手机号码"] == {"person.phone"}
    assert "监护人名字" not in got and "监护人手机" not in got
    assert str(match_header("guardian_tel")[0].entry.targets[0]) == "unmapped"
    assert str(match_header("被采集人")[0].entry.targets[0]) == "person.name"
    assert str(match_header("采集人")[0].entry.targets[0]) == "unmapped"


def test_timestamps_without_separators_are_timestamps_and_no_grade() -> None:
    assert {"date", "datetime"} <= classify("20240307153000")
    assert "datetime" not in classify("20241307153000")       # month 13: no moment
    rng = random.Random(96)
    moments = [f"{dt.datetime(2021, 1, 1) + dt.timedelta(minutes=rng.randrange(10**6)):%Y%m%d%H%M%S}"
               for _ in range(60)]
    graded = [c for c in column_candidates(profile("评定等级", moments)) if c.target.attribute == "level"]
    assert graded and graded[0].confidence < PLACE_AT


@pytest.mark.parametrize(("header", "target"), [
    ("族称", "person.ethnicity"),
    ("welfare_house_title", "organization.name@care_home"),
    ("物业管理处", "organization.name@property_company"),
])
def test_word_families_of_round_nine(header: str, target: str) -> None:
    assert [str(t) for t in match_header(header)[0].entry.targets][:1] == [target], match_header(header)[:2]
