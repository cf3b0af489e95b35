"""人社 social insurance: insured persons (AC01) and their units (AB01) under 金保工程 field codes.

Legacy data is where 15-digit IDs live on: persons born before 1984 often still carry their
first-generation number, and some were registered twice (once with each form). Xinjiang's 2016
review found separator defects in hundreds of thousands of insurance records, so transliterated
names here get separator variants at the full rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hub.demo import variants as v
from hub.demo.clock import random_times
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects, with_duplicates
from hub.demo.records import SourceExport, person_frame, truth_rows
from hub.demo.sinks import recreate, write_rows
from hub.demo.world import World

metadata = sa.MetaData()
AC01 = sa.Table(
    "AC01",
    metadata,
    sa.Column("AAC001", sa.String(20), primary_key=True, comment="个人编号"),
    sa.Column("AAC002", sa.String(30), comment="公民身份号码"),
    sa.Column("AAC003", sa.String(100), comment="姓名"),
    sa.Column("AAC004", sa.String(1), comment="性别 1男 2女"),
    sa.Column("AAC005", sa.String(2), comment="民族"),
    sa.Column("AAC006", sa.Date, comment="出生日期"),
    sa.Column("AAE005", sa.String(30), comment="联系电话"),
    sa.Column("AAB001", sa.String(20), index=True, comment="单位编号"),
    sa.Column("AAC008", sa.String(1), comment="人员参保状态 1参保缴费 2暂停缴费 3终止参保"),
    sa.Column("AAC031", sa.String(1), comment="养老待遇享受状态 0未享受 1正常 2暂停 3终止"),
    sa.Column("AAE180", sa.Numeric(12, 2), comment="缴费基数"),
    sa.Column("AAE036", sa.DateTime, index=True, comment="经办时间"),
)
AB01 = sa.Table(
    "AB01",
    metadata,
    sa.Column("AAB001", sa.String(20), primary_key=True, comment="单位编号"),
    sa.Column("AAB003", sa.String(30), comment="统一社会信用代码"),
    sa.Column("AAB004", sa.String(100), comment="单位名称"),
    sa.Column("AAB013", sa.String(100), comment="法定代表人"),
    sa.Column("AAE006", sa.String(200), comment="地址"),
    sa.Column("AAE036", sa.DateTime, index=True, comment="经办时间"),
)


def insured_frame(world: World, rng: np.random.Generator, rates: DirtRates) -> Defects:
    ins = world.insurance
    f = person_frame(world, ins["person"].to_numpy())
    orgs = world.orgs
    org = ins["org"].to_numpy()
    f["AAB001"] = orgs["unit_no"].to_numpy()[org]
    f["_org_id"] = orgs["org_id"].to_numpy()[org]
    f["AAC008"], f["AAC031"], f["AAE180"] = ins["status"].to_numpy(), ins["pension"].to_numpy(), ins["base"].to_numpy()
    f["AAC001"] = ins["insured_no"].to_numpy()
    f["AAC004"] = np.where(f["male"].to_numpy(dtype=bool), "1", "2")
    f["AAC006"] = f["birth"].dt.date
    f = with_duplicates(rng, f, rates.duplicate)
    dup = f["_dup"].to_numpy()
    f.loc[dup, "AAC001"] = [f"6501{k:010d}" for k in range(len(ins) + 1, len(ins) + 1 + int(dup.sum()))]
    f["AAE036"] = random_times(rng, len(f), 3 * 365)
    d = Defects(rng, rates, f.rename(columns={"resident_id": "AAC002", "name": "AAC003", "phone": "AAE005"}))
    old = dup & (d.frame["_birth_year"].to_numpy() < 1984)  # registered again under the old number
    d.apply("AAC002", "id_15_digit", old, lambda x, _: v.first_generation(x))
    d.ids("AAC002", old15=rates.old_id_15, missing=rates.id_missing * 0.5)
    d.names("AAC003")
    d.phones("AAE005")
    d.differ_duplicates("AAC003", phone="AAE005", id_column=None)
    d.break_rows({"name": "AAC003", "id": "AAC002"})
    return d


def unit_frame(world: World, rng: np.random.Generator) -> pd.DataFrame:
    o = world.orgs
    names = o["name"].to_numpy(dtype=object).copy()
    short = (rng.random(len(o)) < 0.05) & np.array(
        [n.startswith("乌鲁木齐") and not n.startswith("乌鲁木齐市") for n in names]
    )
    names[short] = [n.removeprefix("乌鲁木齐") for n in names[short]]
    codes = o["credit_code"].to_numpy(dtype=object).copy()
    old = (rng.random(len(o)) < 0.1) & np.array([len(c) == 18 and c[8] != "M" for c in codes])
    codes[old] = [c[8:16] + "-" + c[16] for c in codes[old]]
    reps = o["legal_rep"].to_numpy()
    rep_names = np.where(reps >= 0, world.persons["name"].to_numpy()[np.maximum(reps, 0)], "")
    return pd.DataFrame(
        {
            "AAB001": o["unit_no"],
            "AAB003": [c or None for c in codes],
            "AAB004": names,
            "AAB013": [n or None for n in rep_names],
            "AAE006": o["address"],
            "AAE036": random_times(rng, len(o), 5 * 365),
            "_org_id": o["org_id"],
        }
    )


INSURED_QUERY = (
    "SELECT a.AAC001, a.AAC002, a.AAC003, a.AAC004, a.AAC005, a.AAC006, a.AAE005, a.AAC008, a.AAC031, "
    "a.AAE180, a.AAE036, b.AAB001, b.AAB003, b.AAB004, b.AAB013, b.AAE006 "
    "FROM AC01 a LEFT JOIN AB01 b ON a.AAB001 = b.AAB001"
)


def export_renshe(world: World, engine: sa.Engine, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    recreate(engine, metadata)
    d = insured_frame(world, rng, rates)
    f = d.frame
    f["AAC005"] = f["ethnicity"]
    write_rows(engine, AC01, f)
    units = unit_frame(world, rng)
    write_rows(engine, AB01, units)
    tags = d.tag_column()
    ids = f["AAC001"].to_numpy(dtype=object)
    persons = f["_person_id"].to_numpy(dtype=object)
    insured = truth_rows(
        "renshe_insured",
        ids,
        {"person": ("person", persons), "employer": ("organization", f["_org_id"].to_numpy(dtype=object))},
        tags,
        d.broken,
    )
    drawing = np.isin(f["AAC031"].to_numpy(dtype=object), ["1", "2", "3"])
    pension = truth_rows(
        "renshe_pension", ids[drawing], {"person": ("person", persons[drawing])}, tags[drawing], d.broken[drawing]
    )
    url = engine.url.render_as_string(hide_password=True)
    return [
        SourceExport("renshe_insured", f"{url} AC01+AB01", len(f), insured),
        SourceExport("renshe_pension", f"{url} AC01", int(drawing.sum()), pension),
    ]
