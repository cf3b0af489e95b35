"""`suggest` on what street-office exports carry beside the person the row is about: an emergency contact's name
and phone, a contact person, where the row came from, a 合计 line under a roster; and on word families no earlier
round listed (录入日期, 业务 … 时间, 开始参保, 识别码 / 档案号, an ending 中文 after the word that matters, unit + si,
care centre, property service).

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the word family or the rule, not a spelling."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from hub.onboard.candidates import PLACE_AT, column_candidates
from hub.onboard.detect import profile
from hub.onboard.dictionary import match_header
from tests.hub.onboard.test_suggest_street_office import _credit_code, _people, _suggest


def _contact(rng: random.Random) -> tuple[str, str]:
    return rng.choice("赵钱孙李周吴郑") + rng.choice("国华秀兰建军"), f"15{rng.randrange(10**9):09d}"


def test_an_emergency_contact_is_another_person_and_a_contact_person_comes_second(tmp_path: Path) -> None:
    rng = random.Random(81)
    rows = []
    for i, p in enumerate(_people(81), start=1):
        name, phone = _contact(rng)
        other, other_phone = _contact(rng)
        rows.append({"住户档案号": f"YH{i:05d}", "紧急联系人名字": name, "住户本人姓名": p["name"],
                     "身份证号码": p["id"], "紧急联系人手机": phone, "本人手机号": p["phone"],
                     "联系人名字": other, "联系人手机": other_phone})
    _, got = _suggest(tmp_path, "住户台账.csv", rows)
    assert got["住户本人姓名"] == {"person.name"}
    assert got["本人手机号"] == {"person.phone"}
    for column in ("紧急联系人名字", "紧急联系人手机", "联系人名字", "联系人手机"):
        assert column not in got, column
    assert "emergency" in match_header("emergency_mobile")[0].entry.note


def test_a_contact_person_alone_is_still_the_rows_person(tmp_path: Path) -> None:
    rows = [{"工单号": f"GD{i:06d}", "联系人": p["name"], "联系人手机": p["phone"], "反映问题": "楼道灯不亮"}
            for i, p in enumerate(_people(82), start=1)]
    _, got = _suggest(tmp_path, "报修.csv", rows)
    assert got["联系人"] == {"person.name"}
    assert got["联系人手机"] == {"person.phone"}


def test_where_the_row_came_from_is_no_organization(tmp_path: Path) -> None:
    rng = random.Random(83)
    rows = [{"对象档案号": f"DA{i:06d}", "姓名": p["name"], "身份证号码": p["id"], "所在敬老院": "",
             "信息来源": rng.choice(["系统导入", "手工录入", "部门推送"])} for i, p in enumerate(_people(83), start=1)]
    _, got = _suggest(tmp_path, "对象名册.csv", rows)
    assert "信息来源" not in got
    words = [rng.choice(["系统导入", "手工录入", "部门推送"]) for _ in range(60)]
    homes = [rng.choice(["天山区第三敬老院", "碱泉街道日间照料中心"]) for _ in range(60)]
    vetoed = [c for c in column_candidates(profile("敬老院", words)) if str(c.target).startswith("organization.name")]
    kept = [c for c in column_candidates(profile("敬老院", homes)) if str(c.target).startswith("organization.name")]
    assert vetoed and vetoed[0].confidence < PLACE_AT
    assert "ends as the name of an organization" in vetoed[0].evidence[-1]
    assert kept and kept[0].confidence >= PLACE_AT


@pytest.mark.parametrize("total", ["合计", "总计："])
def test_a_totals_line_under_a_roster_leaves_the_business_id_the_record_id(tmp_path: Path, total: str) -> None:
    rng = random.Random(84)
    rows = [{"序": str(i), "救助证编码": f"JZ{rng.randrange(10**6):06d}{i:03d}", "姓名": p["name"],
             "身份证号码": p["id"], "月救助金": rng.choice([450, 730])} for i, p in enumerate(_people(84), start=1)]
    rows.append({"序": total, "救助证编码": "", "姓名": "", "身份证号码": "", "月救助金": "17520"})
    draft, _ = _suggest(tmp_path, "救助名册.csv", rows)
    assert draft.record_id == ["救助证编码"]


@pytest.mark.parametrize(("header", "target"), [
    ("人员录入日期", "event.occurred_at@registration"),
    ("data_collect_time", "event.occurred_at@registration"),
    ("业务受理时间", "cursor"),
    ("开始参保时间", "situation.start_date@insurance"),
    ("家庭档案号", "record_id"),
    ("对象识别码", "record_id"),
    ("case_file_ref", "record_id"),
    ("民族中文", "person.ethnicity"),
    ("性别中文", "person.gender"),
    ("unit_si_ref", "organization.local_id:employer_no"),
    ("day_care_centre", "organization.name@care_home"),
    ("property_service_firm", "organization.name@property_company"),
])
def test_word_families_of_round_eight(header: str, target: str) -> None:
    assert [str(t) for t in match_header(header)[0].entry.targets][:1] == [target], match_header(header)[:2]


def test_a_completion_time_alone_makes_no_event(tmp_path: Path) -> None:
    rng = random.Random(85)
    rows = []
    for i, p in enumerate(_people(85), start=1):
        done = dt.datetime(2024, 3, 1) + dt.timedelta(minutes=rng.randrange(0, 200000))
        rows.append({"社保个人号": f"65{i:08d}", "姓名": p["name"], "身份证号码": p["id"],
                     "参保单位名称": "乌鲁木齐博格达商贸有限公司", "单位信用代码": _credit_code(rng),
                     "办结时间": f"{done:%Y-%m-%d %H:%M:%S}"})
    _, got = _suggest(tmp_path, "参保名单.csv", rows)
    assert "event.closed_at" not in got.get("办结时间", set())
