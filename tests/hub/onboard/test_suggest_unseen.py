"""`suggest` on exports it has never seen: built here, with shuffled columns, other header spellings, title
rows above the header and other encodings. The draft must load as it is and place ≥ 90 % of columns right."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook
from stdnum.cn import ric

from hub.mapping import load_mapping
from hub.onboard import locate_file, render, suggest_mapping
from hub.onboard.measure import column_targets

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TRANSLIT = ("买买提·艾力", "阿依古丽·吐尔逊", "努尔兰·别克", "古丽娜尔·托合提")
ESTATES = ("幸福花园", "天山雅居", "红山家园", "明珠小区")


def _person(rng: random.Random) -> dict[str, Any]:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 70 * 365))
    region = rng.choice(["650102", "650103", "110101", "653101", "654002"])
    male = rng.random() < 0.5
    seq = f"{rng.randrange(0, 50):02d}{rng.choice('13579' if male else '02468')}"
    body = f"{region}{born:%Y%m%d}{seq}"
    uyghur = rng.random() < 0.2
    name = rng.choice(TRANSLIT) if uyghur else rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
    return {
        "name": name, "id": body + ric.calc_check_digit(body + "0"), "male": male, "born": born,
        "ethnicity": rng.choice(["维吾尔族", "哈萨克族"]) if uyghur else rng.choice(["汉族"] * 6 + ["回族"]),
        "phone": f"1{rng.choice('3589')}{rng.randrange(0, 10**9):09d}",
        "estate": rng.choice(ESTATES), "building": rng.randrange(1, 20), "unit": rng.randrange(1, 6),
        "room": rng.randrange(1, 18) * 100 + rng.randrange(1, 5),
    }


def _people(n: int = 60, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_person(rng) for _ in range(n)]


def _check(path: Path, expected: dict[str, set[str]], **options: Any) -> dict[str, set[str]]:
    """Suggest, write, load: the draft is a valid mapping; returns what each column became."""
    ref = locate_file(path, base_dir=path.parent)
    draft = suggest_mapping(ref, ref.sample(500), **options)
    out = path.with_suffix(".draft.yaml")
    out.write_text(render(draft), encoding="utf-8")
    spec = load_mapping(out)
    got = column_targets(spec)
    right = [c for c in expected if got.get(c, set()) == expected[c]]
    wrong = {c: (sorted(got.get(c, set())), sorted(expected[c])) for c in expected if c not in right}
    assert set(expected) == set(draft.columns)
    assert len(right) / len(expected) >= 0.9, wrong
    return got


def test_street_office_roster_in_gb18030_with_a_title_line(tmp_path: Path) -> None:
    rng = random.Random(5)
    rows = []
    for i, p in enumerate(_people(), start=1):
        start = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(0, 2000))
        rows.append({
            "序号": i, "户主姓名": p["name"], "身份证件号": p["id"], "性别": "男" if p["male"] else "女",
            "族别": p["ethnicity"], "出生年月日期": f"{p['born'].year}年{p['born'].month}月{p['born'].day}日",
            "手机号(必填)": p["phone"],
            "家庭现住址": f"乌鲁木齐市天山区{p['estate']}{p['building']}栋{p['unit']}单元{p['room']}室",
            "救助类别名称": rng.choice(["城市低保", "城市低保", "特困供养"]),
            "保障金额(元/月)": rng.choice([450, 730, 1200]),
            "起始享受日期": start.isoformat(), "当前救助状态": rng.choice(["正常", "正常", "暂停", "停发"]),
            "网格员": rng.choice(["赵敏", "钱进"]),
        })
    frame = pd.DataFrame(rows)
    frame = frame[random.Random(9).sample(list(frame.columns), len(frame.columns))]   # shuffled columns
    path = tmp_path / "街道低保花名册.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        handle.write("某某街道2025年城市低保对象花名册\n\n")
        frame.to_csv(handle, index=False)
    got = _check(path, {
        "序号": {"record_id"}, "户主姓名": {"person.name"}, "身份证件号": {"person.resident_id"},
        "性别": {"person.gender"}, "族别": {"person.ethnicity"}, "出生年月日期": {"person.birth_date"},
        "手机号(必填)": {"person.phone"}, "家庭现住址": {"person.residence_address", "house.address"},
        "救助类别名称": {"situation.situation_type"}, "保障金额(元/月)": {"situation.amount"},
        "起始享受日期": {"situation.start_date"}, "当前救助状态": {"situation.status"}, "网格员": set(),
    }, district_code="650102")
    assert got["序号"] == {"record_id"}
    draft = load_mapping(path.with_suffix(".draft.yaml"))
    assert draft.connector.settings == {"path": path.name, "encoding": "auto", "header_row": 3}
    assert draft.department == "civil_affairs"
    situation = next(e for e in draft.entities.values() if e.type == "situation")
    assert situation.fields["situation_type"].map == {"城市低保": "dibao", "特困供养": "tekun"}
    assert situation.fields["status"].map == {"正常": "active", "暂停": "suspended", "停发": "ended"}


def test_pinyin_coded_export_in_utf16_with_document_types(tmp_path: Path) -> None:
    rng = random.Random(6)
    rows = []
    for i, p in enumerate(_people(seed=4), start=1):
        passport = rng.random() < 0.1
        rows.append({
            "RYBH": f"R{i:06d}", "XM": p["name"], "ZJLX": "414" if passport else "111",
            "ZJHM": f"E{rng.randrange(10**8):08d}" if passport else p["id"], "XB": "1" if p["male"] else "2",
            "MZDM": {"汉族": "01", "回族": "03", "维吾尔族": "05", "哈萨克族": "17"}[p["ethnicity"]],
            "CSRQ": f"{p['born']:%Y%m%d}", "LXDH": p["phone"],
            "HJDZ": f"新疆乌鲁木齐市天山区{p['estate']}1号楼1单元101室",
            "XZZ": f"{p['estate']}{p['building']}号楼{p['unit']}单元{p['room']}室",
            "GXSJ": f"2025-0{rng.randrange(1, 7)}-1{rng.randrange(0, 9)} 10:0{rng.randrange(0, 9)}:00",
        })
    frame = pd.DataFrame(rows)
    frame = frame[random.Random(2).sample(list(frame.columns), len(frame.columns))]
    path = tmp_path / "syrk_export.csv"
    frame.to_csv(path, index=False, encoding="utf-16")
    got = _check(path, {
        "RYBH": {"record_id"}, "XM": {"person.name"}, "ZJLX": {"when:person.resident_id"},
        "ZJHM": {"person.resident_id"}, "XB": {"person.gender"}, "MZDM": {"person.ethnicity"},
        "CSRQ": {"person.birth_date"}, "LXDH": {"person.phone"}, "HJDZ": {"person.hukou_address"},
        "XZZ": {"person.residence_address", "house.address"}, "GXSJ": set(),
    })
    draft = load_mapping(path.with_suffix(".draft.yaml"))
    when = draft.entities["person"].fields["resident_id"].when
    assert [c.describe() for c in when] == ["ZJLX in (111, 户口簿)"]
    assert draft.department == "public_security" and got["ZJLX"] == {"when:person.resident_id"}


def test_door_access_vendor_workbook_in_english_with_day_first_times(tmp_path: Path) -> None:
    rng = random.Random(7)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    header = ["Record No", "Person Name", "Document Type", "Document No", "Mobile", "Estate", "Building", "Unit",
              "Room", "Access Time", "Door", "Direction"]
    sheet.append(["Access log export — Tianshan community gate system"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for i, p in enumerate(_people(seed=5), start=1):
        moment = dt.datetime(2025, 6, 1, 6) + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 29))
        passport = rng.random() < 0.05
        sheet.append([f"A{i:08d}", p["name"], "Passport" if passport else "ID card",
                      f"E{rng.randrange(10**8):08d}" if passport else p["id"], p["phone"], p["estate"],
                      str(p["building"]), str(p["unit"]), str(p["room"]), moment.strftime("%d/%m/%Y %H:%M:%S"),
                      f"G-{rng.randrange(1, 5)}", rng.choice(["IN", "OUT"])])
    path = tmp_path / "access_log.xlsx"
    book.save(path)
    _check(path, {
        "Record No": {"record_id"}, "Person Name": {"person.name"}, "Document Type": {"when:person.resident_id"},
        "Document No": {"person.resident_id"}, "Mobile": {"person.phone"},
        "Estate": {"house.estate", "house.address"}, "Building": {"house.building", "house.address"},
        "Unit": {"house.unit", "house.address"}, "Room": {"house.room", "house.address"},
        "Access Time": {"event.occurred_at"}, "Door": {"event.device"}, "Direction": {"event.description"},
    })
    draft = load_mapping(path.with_suffix(".draft.yaml"))
    assert draft.dates.order == "dmy" and draft.connector.settings["header_row"] == 2
    event = draft.entities["event"]
    assert event.fields["event_type"].const == "access"
    assert event.fields["description"].map == {"in": "进", "out": "出"}
    assert {(r.subject, r.predicate, r.object) for r in draft.relations} == {
        ("event", "concerns", "person"), ("event", "located_at", "house")}


@pytest.mark.parametrize("header", ["字段7", "col_3", "备用列"])
def test_values_alone_place_unmistakable_columns(tmp_path: Path, header: str) -> None:
    people = _people(30, seed=8)
    path = tmp_path / "export.csv"
    pd.DataFrame({"编号": range(1, 31), "姓名": [p["name"] for p in people], header: [p["id"] for p in people],
                  "X9": [p["phone"] for p in people],
                  "Q": [f"{p['born']:%Y-%m-%d}" for p in people]}).to_csv(path, index=False)
    ref = locate_file(path, base_dir=tmp_path)
    draft = suggest_mapping(ref, ref.sample(100))
    person = next(e for e in draft.entities if e.type == "person")
    fields = {f.attribute: f for f in person.fields}
    assert fields["resident_id"].spec == {"column": header} and "checksum-valid" in fields["resident_id"].evidence
    assert fields["phone"].spec == {"column": "X9"}
    assert fields["birth_date"].spec == {"column": "Q"}
    assert "birth date in the row's ID" in fields["birth_date"].evidence
