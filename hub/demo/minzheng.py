"""民政 civil affairs: the assistance roster workbook (低保, 特困), the GBK allowance CSV and the UTF-8
social-organization list, as district offices export them from office software.

The workbook has a merged title row (and, on 低保, a unit line under it), so the header sits on row
3 or 2; dates mix text styles, Excel serials and real date cells; an ID typed as a number has lost
its last digits. The allowance CSV is GBK, which cannot hold • or ・: those names come out with ?.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import Workbook

from hub.demo import variants as v
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects, with_duplicates
from hub.demo.records import SourceExport, address_text, person_frame, truth_rows
from hub.demo.reference import reference
from hub.demo.world import World

WORKBOOK, ALLOWANCE_CSV, ORGS_CSV = "救助对象名册.xlsx", "残疾人及高龄补贴.csv", "社会组织名录.csv"
ROSTER_COLUMNS = [
    "序号",
    "姓名",
    "身份证号",
    "性别",
    "民族",
    "出生日期",
    "联系电话",
    "家庭住址",
    "救助类别",
    "保障人数",
    "发放金额",
    "起始日期",
    "状态",
]
STATUS_ZH = {"active": "正常", "suspended": "暂停", "ended": "停发"}
GRADES_ZH = ("", "一级", "二级", "三级", "四级")


def _office_phones(world: World, houses: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """The community office's number, which welfare lists put on many rows."""
    community = world.geo.estates["community"].to_numpy()[world.geo.houses["estate"].to_numpy()[houses]]
    return np.array([f"0991-{4600000 + 37 * int(c):07d}" for c in community], dtype=object)


def _welfare_frame(world: World, rng: np.random.Generator, rates: DirtRates, rows: pd.DataFrame) -> Defects:
    """Person columns with civil-affairs defects, for the given welfare rows."""
    f = person_frame(world, rows["person"].to_numpy())
    for col in ("kind", "level", "covered", "amount", "start", "status", "house"):
        f["_" + col] = rows[col].to_numpy()
    f = with_duplicates(rng, f, rates.duplicate)
    d = Defects(rng, rates, f)
    n = d.n
    shared = d.pick(rates.phone_shared)
    f = d.frame
    f["phone"] = np.where(shared, _office_phones(world, f["_house"].to_numpy()), f["phone"].to_numpy(dtype=object))
    d.tag("phone_shared", shared)
    addr, other, missing = address_text(
        world, f["_house"].to_numpy(), rng, variant=rates.address_variant, estate_missing=rates.estate_missing
    )
    f["address"] = addr
    d.tag("address_variant", other)
    d.tag("estate_missing", missing)
    d.ids("resident_id", old15=rates.old_id_15_other, missing=rates.id_missing, fullwidth=rates.fullwidth_digits)
    d.names("name", traditional=rates.traditional_name)
    d.phones("phone", fullwidth=rates.fullwidth_digits)
    d.differ_duplicates("name", phone="phone", id_column="resident_id")
    ethnic = f["ethnicity"].to_numpy(dtype=object)
    names, short = reference()["ethnicity_names"], reference()["ethnicity_short"]
    f["ethnic_text"] = np.where(rng.random(n) < 0.85, [names[e] for e in ethnic], [short[e] for e in ethnic])
    f["sex_text"] = np.where(f["male"].to_numpy(dtype=bool), "男", "女")
    return d


def _write_roster(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    wb = Workbook(write_only=True)
    for title, frame in sheets.items():
        ws = wb.create_sheet(title)
        kind = "城市最低生活保障对象" if title == "低保" else "特困人员救助供养对象"
        ws.append([f"天山区{kind}名册（2025年6月）"])
        ws.merged_cells.add(f"A1:{chr(64 + len(ROSTER_COLUMNS))}1")
        if title == "低保":
            ws.append(["填报单位：天山区民政局", None, None, None, None, None, None, None, None, None, "单位：元"])
        ws.append(ROSTER_COLUMNS)
        for row in frame[ROSTER_COLUMNS].itertuples(index=False):
            ws.append([_cell(x) for x in row])
    wb.save(path)


def _cell(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value if not isinstance(value, dt.datetime) else value.date()


def export_roster(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> SourceExport:
    sheets, truths = {}, []
    houses = world.geo.houses["house_id"].to_numpy()
    for title, kind, label in (("低保", "dibao", "城市低保"), ("特困", "tekun", "特困供养")):
        d = _welfare_frame(world, rng, rates, world.welfare[world.welfare["kind"] == kind])
        f = d.frame
        d.dates("出生日期", "birth", excel=True)
        d.dates("起始日期", "_start", excel=True)
        ids = f["resident_id"].to_numpy(dtype=object)
        d.apply(
            "resident_id",
            "id_excel_number",
            d.pick(
                rates.id_excel_number, np.array([isinstance(s, str) and len(s) == 18 and s[:17].isdigit() for s in ids])
            ),
            lambda x, _: v.excel_number(x),
        )
        d.break_rows({"name": "name", "id": "resident_id", "date": "出生日期"})
        f = d.frame
        f["序号"] = np.arange(1, len(f) + 1)
        f = f.rename(
            columns={
                "name": "姓名",
                "resident_id": "身份证号",
                "sex_text": "性别",
                "ethnic_text": "民族",
                "phone": "联系电话",
                "address": "家庭住址",
            }
        )
        f["救助类别"] = label
        f["保障人数"] = f["_covered"].to_numpy()
        f["发放金额"] = f["_amount"].astype(float).to_numpy()
        f["状态"] = f["_status"].map(STATUS_ZH).to_numpy()
        sheets[title] = f
        record_ids = np.array([f"{title}|{k}" for k in f["序号"]], dtype=object)
        truths.append(
            truth_rows(
                "minzheng_assistance",
                record_ids,
                {
                    "person": ("person", f["_person_id"].to_numpy(dtype=object)),
                    "home": ("house", houses[f["_house"].to_numpy()]),
                },
                d.tag_column(),
                d.broken,
            )
        )
    _write_roster(out / WORKBOOK, sheets)
    return SourceExport(
        "minzheng_assistance",
        str(out / WORKBOOK),
        sum(len(s) for s in sheets.values()),
        pd.concat(truths, ignore_index=True),
    )


def allowance_disabled(world: World) -> pd.DataFrame:
    """The welfare rows of the disability allowance roster: registered holders of grade 1–2, or of any grade in a
    低保 household. Every row of the roster is paid (it has no status column)."""
    w = world.welfare
    dibao_households = set(world.persons["household"].to_numpy()[w.loc[w["kind"] == "dibao", "person"]])
    p = world.persons
    disabled = w[(w["kind"] == "disability") & ~p["floating"].to_numpy()[w["person"].to_numpy()]]
    poor = np.array(
        [h in dibao_households for h in p["household"].to_numpy()[disabled["person"].to_numpy()]], dtype=bool
    )
    grade = disabled["level"].astype(int).to_numpy()
    return disabled[(grade <= 2) | poor]


def export_allowance(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> SourceExport:
    w = world.welfare
    p = world.persons
    disabled = allowance_disabled(world).assign(amount=lambda x: rng.integers(100, 301, len(x)))
    rows = pd.concat([disabled, w[w["kind"] == "elderly_allowance"]], ignore_index=True)
    d = _welfare_frame(world, rng, rates, rows)
    f = d.frame
    heads = world.households["head"].to_numpy()[np.maximum(p["household"].to_numpy()[f["_person"].to_numpy()], 0)]
    member = (
        (heads != f["_person"].to_numpy()) & (f["_kind"].to_numpy() == "elderly_allowance") & d.filled("resident_id")
    )
    d.apply(
        "resident_id",
        "head_id_on_member",
        d.pick(rates.head_id_on_member, member),
        lambda x, r: p["resident_id"].to_numpy()[heads[r]].astype(object),
    )
    d.dates("登记日期", "_start")
    d.break_rows({"name": "name", "id": "resident_id", "date": "登记日期"})
    f = d.frame
    f["序号"] = np.arange(1, len(f) + 1)
    disability = f["_kind"].to_numpy() == "disability"
    levels = np.array([int(x) if str(x).isdigit() else 0 for x in f["_level"]])
    out_frame = pd.DataFrame(
        {
            "序号": f["序号"],
            "姓名": f["name"],
            "身份证号": f["resident_id"],
            "补贴类型": np.where(disability, "残疾人两项补贴", "高龄津贴"),
            "残疾等级": np.array(GRADES_ZH, dtype=object)[levels],
            "发放金额": f["_amount"].astype(int),
            "联系电话": f["phone"],
            "居住地址": f["address"],
            "登记日期": f["登记日期"],
        }
    )
    out_frame.to_csv(out / ALLOWANCE_CSV, index=False, encoding="gbk", errors="replace")
    houses = world.geo.houses["house_id"].to_numpy()
    truth = truth_rows(
        "minzheng_allowance",
        f["序号"].astype(str).to_numpy(dtype=object),
        {
            "person": ("person", f["_person_id"].to_numpy(dtype=object)),
            "home": ("house", houses[f["_house"].to_numpy()]),
        },
        d.tag_column(),
        d.broken,
    )
    return SourceExport("minzheng_allowance", str(out / ALLOWANCE_CSV), len(f), truth)


def export_social_orgs(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> SourceExport:
    orgs = world.orgs[world.orgs["org_type"] == "social_organization"].reset_index(drop=True)
    f = person_frame(world, orgs["legal_rep"].to_numpy())
    f["_dup"] = False
    f["org_name"], f["code"], f["kind"] = orgs["name"], orgs["credit_code"], orgs["org_kind_zh"]
    f["address"], f["supervisor"], f["_registered"], f["_org_id"] = (
        orgs["address"],
        orgs["supervisor"],
        orgs["registered_on"],
        orgs["org_id"],
    )
    d = Defects(rng, rates, f)
    old = np.array([not c[8:10].startswith("M") for c in f["code"]]) & d.pick(0.1)
    d.apply(
        "code", "credit_code_old_form", old, lambda x, _: np.array([c[8:16] + "-" + c[16] for c in x], dtype=object)
    )
    d.ids("resident_id", old15=rates.old_id_15_other, missing=rates.id_missing * 2)
    d.names("name", traditional=rates.traditional_name)
    d.dates("registered", "_registered")
    d.break_rows({"date": "registered", "id": "resident_id", "name": "name"})
    f = d.frame
    pd.DataFrame(
        {
            "组织名称": f["org_name"],
            "统一社会信用代码": f["code"],
            "组织类型": f["kind"],
            "法定代表人": f["name"],
            "法人身份证号": f["resident_id"],
            "住所": f["address"],
            "成立日期": f["registered"],
            "业务主管单位": f["supervisor"],
        }
    ).to_csv(out / ORGS_CSV, index=False, encoding="utf-8-sig")
    truth = truth_rows(
        "minzheng_social_orgs",
        f["code"].to_numpy(dtype=object),
        {
            "organization": ("organization", f["_org_id"].to_numpy(dtype=object)),
            "representative": ("person", f["_person_id"].to_numpy(dtype=object)),
        },
        d.tag_column(),
        d.broken,
    )
    return SourceExport("minzheng_social_orgs", str(out / ORGS_CSV), len(f), truth)


def export_minzheng(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        export_roster(world, out, rng, rates),
        export_allowance(world, out, rng, rates),
        export_social_orgs(world, out, rng, rates),
    ]
