"""物业 property management: houses, owners and tenants, vehicles and tickets in the SQLite file
behind the property company's REST API (property_api.py).

Property staff type what residents tell them: 楼栋 as 3栋, 三栋 or 3号楼 (each estate has its own
habit), names without IDs or with masked ones, phones in any format, repair reporters as 王先生.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from hub.demo import variants as v
from hub.demo.clock import random_times
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects, with_duplicates
from hub.demo.records import SourceExport, address_text, truth_rows
from hub.demo.sinks import insert_sqlite, iso_times
from hub.demo.world import World
from hub.demo.wuye_people import export_residents, export_tickets, export_vehicles

SCHEMA = """
CREATE TABLE houses (id INTEGER PRIMARY KEY, estate TEXT, building TEXT, unit TEXT, room TEXT, area REAL,
                     usage TEXT, status TEXT, address TEXT, updated_at TEXT NOT NULL);
CREATE TABLE residents (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, id_no TEXT, house_id INTEGER, role TEXT,
                        move_in TEXT, updated_at TEXT NOT NULL);
CREATE TABLE vehicles (id INTEGER PRIMARY KEY, plate TEXT, owner_name TEXT, owner_phone TEXT, parking_space TEXT,
                       house_id INTEGER, brand TEXT, color TEXT, updated_at TEXT NOT NULL);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, type TEXT, content TEXT, house_id INTEGER, reporter_name TEXT,
                      reporter_phone TEXT, created_at TEXT, status TEXT, closed_at TEXT, updated_at TEXT NOT NULL);
CREATE INDEX houses_updated ON houses (updated_at, id);
CREATE INDEX residents_updated ON residents (updated_at, id);
CREATE INDEX vehicles_updated ON vehicles (updated_at, id);
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX residents_role_updated ON residents (role, updated_at, id);
"""


def house_frame(world: World, rng: np.random.Generator, rates: DirtRates) -> Defects:
    h = world.geo.houses
    n_estates = len(world.geo.estates)
    estate_style = rng.choice([0, 1, 2, 5], n_estates, p=[0.4, 0.35, 0.1, 0.15])  # 3号楼 / 3栋 / 三栋 / 3
    estate = h["estate"].to_numpy()
    f = pd.DataFrame(
        {"_house": np.arange(len(h)), "_house_id": h["house_id"].to_numpy(), "_birth_year": 0, "_surname_len": 0}
    )
    f = with_duplicates(rng, f, rates.duplicate * 0.5)
    d = Defects(rng, rates, f)
    idx = d.frame["_house"].to_numpy()
    n = d.n
    other = d.pick(rates.address_variant * 0.5)
    b_style = np.where(other, rng.choice([0, 1, 2, 5], n), estate_style[estate[idx]])
    u_style = np.where(other, rng.choice([0, 1, 2], n), 0)
    r_style = np.where(other, rng.choice([0, 1], n), 1)
    dup = d.frame["_dup"].to_numpy()
    b_style[dup] = (b_style[dup] + 1) % 3  # the copy was typed another way
    d.tag("address_variant", other | dup)
    d.tag("duplicate", dup)
    names = world.geo.estates["name"].to_numpy(dtype=object)[estate[idx]]
    alias = d.pick(0.05)
    names[alias] = [n_ + "小区" if not n_.endswith("小区") else n_.removesuffix("小区") for n_ in names[alias]]
    d.tag("estate_alias", alias)
    d.frame["estate"] = names
    d.frame["building"] = v.building_text(h["building"].to_numpy()[idx], b_style)
    d.frame["unit"] = v.unit_text(h["unit"].to_numpy()[idx], u_style)
    d.frame["room"] = v.room_text(h["room"].to_numpy()[idx], r_style)
    d.frame["area"] = h["area"].to_numpy()[idx]
    d.frame["usage"] = "住宅"
    d.frame["status"] = world.presence.status[idx]   # 自住 / 出租 / 空置, as the office last recorded it
    addr, _, missing = address_text(world, idx, rng, variant=rates.address_variant, estate_missing=rates.estate_missing)
    d.frame["address"] = addr
    d.tag("estate_missing", missing)
    d.frame["updated_at"] = iso_times(random_times(rng, n, 2 * 365))
    d.break_rows({"text": "building", "name": "room"})
    d.frame["id"] = np.arange(1, n + 1)
    return d


def export_wuye(world: World, db_path: Path, rng: np.random.Generator, rates: DirtRates) -> list[SourceExport]:
    db_path.unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    con.executescript(SCHEMA)
    houses = house_frame(world, rng, rates)
    hf = houses.frame
    first_id = pd.Series(
        hf["id"].to_numpy()[~hf["_dup"].to_numpy()], index=hf["_house"].to_numpy()[~hf["_dup"].to_numpy()]
    )
    insert_sqlite(
        con, "houses", hf, ["id", "estate", "building", "unit", "room", "area", "usage", "status", "address",
                             "updated_at"]
    )
    exports = [
        SourceExport(
            "wuye_houses",
            f"{db_path} houses",
            len(hf),
            truth_rows(
                "wuye_houses",
                hf["id"].astype(str).to_numpy(dtype=object),
                {"house": ("house", hf["_house_id"].to_numpy(dtype=object))},
                houses.tag_column(),
                houses.broken,
            ),
        )
    ]
    exports += export_residents(world, con, rng, rates, first_id, db_path)
    exports.append(export_vehicles(world, con, rng, rates, first_id, db_path))
    exports.append(export_tickets(world, con, rng, rates, first_id, db_path))
    con.commit()
    con.close()
    return exports
