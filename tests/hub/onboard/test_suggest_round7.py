"""`suggest` on words street-office systems use that no earlier round listed: 物业 words (院落, 门洞, 户室, 入伙,
物业服务中心, 房产号), 民政 words (低保金, 补差), 公安 record words (建档, 民族成分 in pinyin initials), the
国家医保 platform's abbreviations (insu, stas, opt, crte, emp), and values that contradict an address or a place
name (bare numbers, dates).

Each export is built here with headers of its own (not the demo's, not a held-out series'), so what is tested is
the word family or the rule, not a spelling."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from hub.onboard.candidates import column_candidates
from hub.onboard.detect import profile
from hub.onboard.dictionary import match_header
from tests.hub.onboard.test_suggest_street_office import _credit_code, _people, _suggest


def test_property_words_for_the_house_the_move_in_and_the_company(tmp_path: Path) -> None:
    rng = random.Random(71)
    company = ("乌鲁木齐博格达物业服务有限公司", _credit_code(rng))
    rows = []
    for i, p in enumerate(_people(71), start=1):
        moved = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(0, 5000))
        rows.append({"住户编号": f"YH{i:05d}", "姓名": p["name"], "身份证号码": p["id"], "手机号码": p["phone"],
                     "所在院落": p["estate"], "楼栋号": str(p["building"]), "门洞": str(p["unit"]),
                     "户室": str(p["room"]), "房产号码": f"FC{p['building']:02d}{p['unit']:02d}{p['room']:04d}{i % 10}",
                     "入伙时间": f"{moved:%Y-%m-%d}", "物业服务中心": company[0]})
    _, got = _suggest(tmp_path, "业户登记.csv", rows)
    assert got["所在院落"] == {"house.estate", "house.address"}
    assert got["门洞"] == {"house.unit", "house.address"}
    assert got["户室"] == {"house.room", "house.address"}
    assert got["房产号码"] == {"house.local_id"}
    assert got["入伙时间"] == {"event.occurred_at"}
    assert got["物业服务中心"] == {"organization.name"}


def test_welfare_amounts_and_an_old_peoples_home_in_their_own_words(tmp_path: Path) -> None:
    rng = random.Random(72)
    homes = ("天山区第二养老院", "")
    rows = []
    for i, p in enumerate(_people(72), start=1):
        rows.append({"低保档案编号": f"DB2024{i:05d}", "姓名": p["name"], "身份证号码": p["id"],
                     "救助类别": rng.choice(["城市低保", "特困供养"]), "月低保金": rng.choice([450, 730, 816]),
                     "YBCJE": rng.choice([120, 300]), "养老院名称": rng.choice(homes)})
    _, got = _suggest(tmp_path, "低保台账.csv", rows)
    assert got["月低保金"] == {"situation.amount"}
    assert [str(m.entry.targets[0]) for m in match_header("YBCJE")][:1] == ["situation.amount"]     # 月补差金额
    assert "organization.name" in got["养老院名称"]


def test_public_security_record_words_and_ethnic_composition_in_pinyin_initials(tmp_path: Path) -> None:
    rng = random.Random(73)
    rows = []
    for i, p in enumerate(_people(73), start=1):
        made = dt.datetime(2020, 1, 1) + dt.timedelta(minutes=rng.randrange(0, 2_000_000))
        rows.append({"人员主键": f"RK{i:08d}", "姓名": p["name"], "公民身份号码": p["id"],
                     "MZCFDM": rng.choice(["01", "03", "05"]), "建档日期": f"{made:%Y-%m-%d %H:%M:%S}"})
    _, got = _suggest(tmp_path, "实有人口台账.csv", rows)
    assert got["建档日期"] == {"event.occurred_at"}
    assert got["MZCFDM"] == {"person.ethnicity"}


@pytest.mark.parametrize(("header", "target"), [
    ("insu_stas_name", "situation.status@insurance"),
    ("first_insu_dt", "situation.start_date@insurance"),
    ("last_opt_time", "cursor"),
    ("crte_time", "event.occurred_at@registration"),
    ("emp_full_name", "organization.name"),
    ("入伙年月日", "event.occurred_at@move_in"),
    ("院落名称", "house.estate"),
])
def test_words_of_the_platforms_and_of_property_offices(header: str, target: str) -> None:
    assert str(match_header(header)[0].entry.targets[0]) == target, match_header(header)[:2]


def test_an_employer_number_in_words_is_the_employers_local_id_once_its_values_are_seen() -> None:
    """用人单位号 holds the employer's name (用人单位) and says number (号): its values, numbers, settle it."""
    found = column_candidates(profile("用人单位号", [f"650{i:07d}" for i in range(60)]))
    assert str(found[0].target) == "organization.local_id:employer_no", found[:2]


@pytest.mark.parametrize(("header", "values", "target"), [
    ("现住地址", ["3", "12", "7", "21"] * 15, "address"),
    ("所在街道", ["2024-03-01 10:00:00", "2023-11-20 08:30:00"] * 30, "house.street"),
])
def test_addresses_and_place_names_are_never_bare_numbers_or_dates(header: str, values: list[str],
                                                                    target: str) -> None:
    found = [c for c in column_candidates(profile(header, values)) if str(c.target) == target]
    assert found and found[0].confidence <= 0.92 * 0.55 + 1e-9 and found[0].evidence[-1].startswith("but "), found
