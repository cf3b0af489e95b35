"""公安 public security: the population register (实有人口) and door-access events, in a SQL database
with pinyin-abbreviation columns as such systems name them.

It is the reference register (ID cards are printed from it), so its defects come at a fifth of the
stated rates; codes are mixed the way years of data entry leave them (民族 as 01 or 汉族 or 汉).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hub.demo.clock import SNAPSHOT_TIME, random_times
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects, with_duplicates
from hub.demo.people import RELATION_CODES, RELATION_NAMES
from hub.demo.records import SourceExport, address_text, hometowns, person_frame, truth_rows
from hub.demo.reference import reference
from hub.demo.sinks import recreate, write_rows
from hub.demo.world import World

metadata = sa.MetaData()
RK_SYRK = sa.Table(
    "RK_SYRK",
    metadata,
    sa.Column("RYBH", sa.String(20), primary_key=True, comment="人员编号"),
    sa.Column("XM", sa.String(100), comment="姓名"),
    sa.Column("GMSFHM", sa.String(30), comment="公民身份号码"),
    sa.Column("XB", sa.String(2), comment="性别 1男 2女"),
    sa.Column("MZ", sa.String(20), comment="民族"),
    sa.Column("CSRQ", sa.String(20), comment="出生日期 YYYYMMDD"),
    sa.Column("HH", sa.String(20), comment="户号"),
    sa.Column("YHZGX", sa.String(10), comment="与户主关系"),
    sa.Column("HJDZ", sa.String(200), comment="户籍地址"),
    sa.Column("JZDZ", sa.String(200), comment="居住地址"),
    sa.Column("RKLX", sa.String(2), comment="人口类型 1户籍 2流动"),
    sa.Column("SJHM", sa.String(30), comment="手机号码"),
    sa.Column("SWRQ", sa.String(20), comment="死亡日期"),
    sa.Column("DJSJ", sa.DateTime, comment="登记时间"),
    sa.Column("GXSJ", sa.DateTime, index=True, comment="更新时间"),
)
RK_MJSJ = sa.Table(
    "RK_MJSJ",
    metadata,
    sa.Column("SJBH", sa.String(24), primary_key=True, comment="事件编号"),
    sa.Column("GMSFHM", sa.String(30), comment="公民身份号码"),
    sa.Column("XM", sa.String(100), comment="持卡人姓名"),
    sa.Column("MJBH", sa.String(20), comment="门禁编号"),
    sa.Column("KMSJ", sa.DateTime, comment="开门时间"),
    sa.Column("FX", sa.String(2), comment="方向 1进 2出"),
    sa.Column("GXSJ", sa.DateTime, index=True, comment="更新时间"),
)


def _ymd(values: np.ndarray) -> np.ndarray:
    d = values.astype("datetime64[D]")
    out = np.char.replace(np.datetime_as_string(d, unit="D"), "-", "").astype(object)
    out[np.isnat(d)] = ""
    return out


def population_frame(world: World, rng: np.random.Generator, rates: DirtRates) -> tuple[pd.DataFrame, Defects]:
    p = world.persons
    inside = np.flatnonzero(p["in_district"].to_numpy())
    f = person_frame(world, inside)
    floating = p["floating"].to_numpy()[inside]
    f["_floating"] = floating
    f = with_duplicates(rng, f, rates.duplicate * 0.5 * floating.astype(float) / max(floating.mean(), 0.01))
    idx = f["_person"].to_numpy()
    fl = f["_floating"].to_numpy(dtype=bool)
    n = len(f)
    ethnic = f["ethnicity"].to_numpy(dtype=object)
    names, short = reference()["ethnicity_names"], reference()["ethnicity_short"]
    style = rng.random(n)
    f["MZ"] = np.where(
        style < 0.7, ethnic, np.where(style < 0.95, [names[e] for e in ethnic], [short[e] for e in ethnic])
    )
    f["XB"] = np.where(f["male"].to_numpy(dtype=bool), "1", "2")
    f["CSRQ"] = _ymd(f["birth"].to_numpy())
    rel = p["relation"].to_numpy()[idx]
    f["YHZGX"] = np.where(
        fl,
        "",
        np.where(
            rng.random(n) < 0.8,
            np.array(RELATION_NAMES, dtype=object)[rel],
            np.array(RELATION_CODES, dtype=object)[rel],
        ),
    )
    f["HH"] = np.where(fl, "", p["household_no"].to_numpy()[idx])
    house = p["house"].to_numpy()[idx]
    hukou = p["hukou_house"].to_numpy()[idx]
    jzdz, _, _ = address_text(world, house, rng, variant=rates.address_variant * 0.2, estate_missing=0.0)
    hjdz, _, _ = address_text(world, np.maximum(hukou, 0), rng, variant=rates.address_variant * 0.2, estate_missing=0.0)
    f["JZDZ"] = jzdz
    f["HJDZ"] = np.where(fl, hometowns(p["county"].to_numpy()[idx].astype(object), rng), hjdz)
    f["RKLX"] = np.where(fl, "2", "1")
    f["SJHM"] = np.where(rng.random(n) < 0.7, f["own_phone"].to_numpy(dtype=object), "")
    f["SWRQ"] = _ymd(p["death"].to_numpy()[idx])
    since = np.maximum(f["birth"].to_numpy(dtype="datetime64[s]"), np.datetime64("1995-01-01T00:00:00"))
    registered = since + (rng.random(n) * ((SNAPSHOT_TIME - since) / np.timedelta64(1, "s")) * 0.3).astype(
        "timedelta64[s]"
    )
    f["DJSJ"] = np.where(fl, random_times(rng, n, 5 * 365), registered)
    f["GXSJ"] = np.maximum(f["DJSJ"].to_numpy(dtype="datetime64[s]"), random_times(rng, n, 2 * 365))
    order = rng.permutation(n)
    f["RYBH"] = ""
    f.loc[order, "RYBH"] = [f"R650102{k:010d}" for k in range(1, n + 1)]
    d = Defects(rng, rates.scaled(0.2), f.rename(columns={"name": "XM", "resident_id": "GMSFHM"}))
    d.ids("GMSFHM", old15=rates.old_id_15_other * 0.2, missing=0.0)
    d.names("XM")
    d.phones("SJHM")
    d.differ_duplicates("XM", phone="SJHM")
    d.break_rows({"name": "XM", "id": "GMSFHM", "date": "CSRQ"})
    return d.frame, d


def access_frame(world: World, rng: np.random.Generator, rates: DirtRates) -> tuple[pd.DataFrame, Defects]:
    a = world.access
    f = person_frame(world, a["person"].to_numpy())
    n = len(f)
    # ID-card reader; else a resident card with a name (the door-watch programme registers ID cards only)
    by_card = (rng.random(n) < 0.6) | a["card"].to_numpy(dtype=bool)
    f["GMSFHM"] = np.where(by_card, f["resident_id"].to_numpy(dtype=object), "")
    f["XM"] = np.where(by_card & (rng.random(n) < 0.5), "", f["name"].to_numpy(dtype=object))
    f["MJBH"] = a["device"].to_numpy()
    f["KMSJ"] = a["time"].to_numpy()
    f["FX"] = a["direction"].to_numpy()
    f["GXSJ"] = a["time"].to_numpy() + (rng.random(n) * 600).astype("timedelta64[s]")
    f["SJBH"] = [f"MJ{k:012d}" for k in range(1, n + 1)]
    f["_dup"] = False
    d = Defects(rng, rates.scaled(0.2), f)
    d.names("XM")
    d.break_rows({"id": "GMSFHM"})
    return d.frame, d


def export_gongan(world: World, engine: sa.Engine, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    recreate(engine, metadata)
    pop, pd_ = population_frame(world, rng, rates)
    # the planted unregistered tenants leave the register after every draw, so the other rows stay as they were
    pop = pop[~world.unregistered[pop["_person"].to_numpy()]]
    write_rows(engine, RK_SYRK, pop)
    acc, ad = access_frame(world, rng, rates)
    write_rows(engine, RK_MJSJ, acc)
    houses = world.geo.houses["house_id"].to_numpy()
    person_ids = pop["_person_id"].to_numpy(dtype=object)
    population = truth_rows(
        "gongan_population",
        pop["RYBH"].to_numpy(dtype=object),
        {
            "person": ("person", person_ids),
            "residence": ("house", houses[world.persons["house"].to_numpy()[pop["_person"].to_numpy()]]),
        },
        pd_.tag_column()[pop.index.to_numpy()],
        pd_.broken[pop.index.to_numpy()],
    )
    access = truth_rows(
        "gongan_access",
        acc["SJBH"].to_numpy(dtype=object),
        {"person": ("person", acc["_person_id"].to_numpy(dtype=object))},
        ad.tag_column(),
        ad.broken,
    )
    url = engine.url.render_as_string(hide_password=True)
    return [
        SourceExport("gongan_population", f"{url} RK_SYRK", len(pop), population),
        SourceExport("gongan_access", f"{url} RK_MJSJ", len(acc), access),
    ]


__all__ = ["RK_MJSJ", "RK_SYRK", "export_gongan"]
