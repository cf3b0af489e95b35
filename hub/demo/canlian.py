"""残联 disabled persons' federation: the roster of certificate holders (持证残疾人), as its national
database lets a district office export it to Excel.

The shape is the export's, not a tidy table: a merged title row and an export-time line above the
header (header on row 3); 性别 and 民族 as GB codes (民族 sometimes a number, so 01 became 1); 证件类型
beside 证件号码 (children are registered with the 户口簿 number, a few holders showed a passport); the
second-generation certificate number (the ID number plus category and grade digits); category and
grade as GB/T 26341 codes; dates written day first (07/03/1985) by the export tool, some as date
cells; the address split over 所属社区 / 小区名称 / 楼栋 / 单元 / 房号 with bare numbers; the employer
(就业单位) in the same row. One row describes a person, the house they live in, their disability
and, for some, their employer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import Workbook

from hub.demo import variants as v
from hub.demo.clock import SNAPSHOT, years_since
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects
from hub.demo.records import SourceExport, person_frame, truth_rows
from hub.demo.world import World

WORKBOOK = "持证残疾人信息.xlsx"
SHEET = "持证残疾人"
COLUMNS = ["序号", "姓名", "性别", "民族", "出生日期", "证件类型", "证件号码", "残疾人证号", "残疾类别", "残疾等级",
           "发证日期", "人员状态", "联系电话", "所属社区", "小区名称", "楼栋", "单元", "房号", "就业单位", "备注"]
CATEGORY_SHARES = (0.12, 0.15, 0.02, 0.45, 0.08, 0.10, 0.08)   # GB/T 26341 categories 1 … 7
PASSPORT_SHARE = 0.03
REMARKS = ("", "", "", "", "", "", "", "", "轮椅使用者", "需上门服务", "已办理无障碍改造", "独居")


def _dmy(dates: npt.NDArray[np.datetime64], cells: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
    """dd/mm/yyyy text as the export tool writes it, or a real date cell where `cells`."""
    out = np.empty(len(dates), dtype=object)
    for i, value in enumerate(dates.astype("datetime64[D]")):
        if np.isnat(value):
            out[i] = ""
            continue
        day = value.astype(dt.date)
        out[i] = day if cells[i] else day.strftime("%d/%m/%Y")
    return out


def _employers(world: World, persons: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Name and id of the unit each person is insured through as an employee (blank otherwise)."""
    ins = world.insurance
    orgs = world.orgs
    real = ins[(ins["status"] == "1") & (orgs["org_type"].to_numpy()[ins["org"].to_numpy()] != "virtual_unit")]
    by_person = real.drop_duplicates("person").set_index("person")["org"]
    org = by_person.reindex(persons).to_numpy()
    known = ~pd.isna(org)
    index = np.where(known, org, 0).astype(int)
    names = np.where(known, orgs["name"].to_numpy()[index], "").astype(object)
    ids = np.where(known, orgs["org_id"].to_numpy()[index], "").astype(object)
    return names, ids


def _frame(world: World, rng: np.random.Generator, rates: DirtRates) -> Defects:
    w, p = world.welfare, world.persons
    holders = w[(w["kind"] == "disability") & ~p["floating"].to_numpy()[w["person"].to_numpy()]]
    holders = holders.reset_index(drop=True)
    persons = holders["person"].to_numpy()
    f = person_frame(world, persons)
    f["_dup"] = False
    f["_house"], f["_start"], f["_status"] = holders["house"].to_numpy(), holders["start"].to_numpy(), \
        holders["status"].to_numpy()
    f["_grade"] = holders["level"].astype(int).to_numpy()
    f["_category"] = rng.choice(7, len(f), p=CATEGORY_SHARES) + 1
    f["_dead"] = ~p["death"].isna().to_numpy()[persons]
    f["_true_id"] = f["resident_id"].to_numpy()
    d = Defects(rng, rates, f)
    d.ids("resident_id", old15=0.0, missing=0.0)
    d.names("name", traditional=rates.traditional_name * 0.5)
    d.phones("phone")
    d.break_rows({"name": "name", "id": "resident_id"})
    return d


def export_canlian(world: World, out: Path, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    out.mkdir(parents=True, exist_ok=True)
    d = _frame(world, rng, rates)
    f = d.frame
    n = d.n
    child = years_since(f["birth"].to_numpy()) < 16
    passport = (rng.random(n) < PASSPORT_SHARE) & ~child & ~d.broken
    id_type = np.where(child, "户口簿", np.where(passport, "护照", "居民身份证")).astype(object)
    numbers = f["resident_id"].to_numpy(dtype=object).copy()
    numbers[passport] = [f"E{k:08d}" for k in rng.integers(0, 10**8, int(passport.sum()))]
    d.tag("id_passport", passport)
    ethnic = f["ethnicity"].to_numpy(dtype=object)
    numeric = rng.random(n) < 0.1     # typed into a number cell: 01 became 1
    status = np.select([f["_status"] == "active", f["_status"] == "suspended", f["_dead"].to_numpy(dtype=bool)],
                       ["正常", "暂停", "死亡注销"], "迁出注销").astype(object)
    g = world.geo
    houses = f["_house"].to_numpy()
    h = g.houses.iloc[houses]
    estates = g.estates.iloc[h["estate"].to_numpy()]
    style = rng.choice([5, 1, 0], n, p=[0.6, 0.3, 0.1])            # 3 / 3栋 / 3号楼
    employer, employer_id = _employers(world, f["_person"].to_numpy())
    certificate = (f["_true_id"].astype(str) + f["_category"].astype(str) + f["_grade"].astype(str)).to_numpy()
    rows = pd.DataFrame({
        "序号": np.arange(1, n + 1),
        "姓名": f["name"],
        "性别": np.where(f["male"].to_numpy(dtype=bool), "1", "2"),
        "民族": np.where(numeric, [int(e) for e in ethnic], ethnic),
        "出生日期": _dmy(f["birth"].to_numpy(), rng.random(n) < 0.1),
        "证件类型": id_type,
        "证件号码": numbers,
        "残疾人证号": certificate,
        "残疾类别": f["_category"].astype(str),
        "残疾等级": f["_grade"].astype(str),
        "发证日期": _dmy(f["_start"].to_numpy(), np.zeros(n, bool)),
        "人员状态": status,
        "联系电话": f["phone"],
        "所属社区": g.communities["name"].to_numpy()[estates["community"].to_numpy()],
        "小区名称": estates["name"].to_numpy(),
        "楼栋": v.building_text(h["building"].to_numpy(), style),
        "单元": v.unit_text(h["unit"].to_numpy(), np.full(n, 2)),
        "房号": v.room_text(h["room"].to_numpy(), np.full(n, 1)),
        "就业单位": employer,
        "备注": np.array(REMARKS, dtype=object)[rng.integers(0, len(REMARKS), n)],
    })
    _write(out / WORKBOOK, rows)
    truth = truth_rows(
        "canlian_disabled",
        rows["序号"].astype(str).to_numpy(dtype=object),      # the certificate number carries the ID: no key
        {
            "person": ("person", f["_person_id"].to_numpy(dtype=object)),
            "house": ("house", g.houses["house_id"].to_numpy()[houses].astype(object)),
            "employer": ("organization", employer_id),
        },
        d.tag_column(),
        d.broken,
    )
    return [SourceExport("canlian_disabled", str(out / WORKBOOK), n, truth)]


def _write(path: Path, rows: pd.DataFrame) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    snapshot = pd.Timestamp(SNAPSHOT).date()
    ws.append([f"天山区持证残疾人基本信息表（{snapshot.year}年{snapshot.month}月）"])
    ws.merged_cells.add(f"A1:{chr(64 + len(COLUMNS))}1")
    ws.append([f"导出时间：{snapshot.isoformat()} 09:12", None, None, None, None, None, None, None, None, None,
               None, None, None, None, None, None, None, None, "导出单位：天山区残疾人联合会"])
    ws.append(COLUMNS)
    for row in rows[COLUMNS].itertuples(index=False):
        ws.append([x.item() if isinstance(x, np.generic) else x for x in row])
    wb.save(path)
