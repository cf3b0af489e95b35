"""物业 people records: owners and tenants, vehicles and their owners, ticket reporters, each row
pointing at the property system's own house id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo import variants as v
from hub.demo.clock import random_times
from hub.demo.config import DirtRates
from hub.demo.dirt import Defects, with_duplicates
from hub.demo.records import SourceExport, person_frame, truth_rows
from hub.demo.sinks import insert_sqlite, iso_times
from hub.demo.world import World

ROLE_ZH = {"owner": "业主", "tenant": "租户"}


def _people(
    world: World,
    rng: np.random.Generator,
    rates: DirtRates,
    persons: npt.NDArray[np.int64],
    extra: dict[str, npt.NDArray[np.generic]],
    dup_rate: float,
) -> Defects:
    f = person_frame(world, persons)
    for key, values in extra.items():
        f[key] = values
    f = with_duplicates(rng, f, dup_rate)
    d = Defects(rng, rates, f)
    d.names("name", drop_father=rates.father_name_dropped, swap=rates.name_swapped)
    d.phones("phone", fullwidth=rates.fullwidth_digits)
    return d


def _links(
    f: pd.DataFrame, world: World, extra: dict[str, tuple[str, npt.NDArray[np.object_]]] | None = None
) -> dict[str, tuple[str, npt.NDArray[np.object_]]]:
    links = {
        "person": ("person", f["_person_id"].to_numpy(dtype=object)),
        "house": ("house", world.geo.houses["house_id"].to_numpy()[f["_house"].to_numpy()]),
    }
    return {**links, **(extra or {})}


def export_residents(
    world: World,
    con: sqlite3.Connection,
    rng: np.random.Generator,
    rates: DirtRates,
    first_id: pd.Series,
    db_path: Path,
) -> list[SourceExport]:
    """Owners (业主) and tenants (租户) share one table; the API filters them apart by `role`."""
    occ = world.occupancy
    d = _people(
        world,
        rng,
        rates,
        occ["person"].to_numpy(),
        {
            "_house": occ["house"].to_numpy(),
            "role": occ["role"].map(ROLE_ZH).to_numpy(),
            "_move_in": occ["move_in"].to_numpy(),
        },
        rates.duplicate * 2,
    )
    f = d.frame
    ids = f["resident_id"].to_numpy(dtype=object)
    kind = rng.random(d.n)
    masked = kind < rates.property_id_masked
    full = (kind >= rates.property_id_masked) & (kind < rates.property_id_masked + rates.property_id_present)
    f["id_no"] = np.where(masked, v.masked(ids), np.where(full, ids, ""))
    d.tag("id_masked", masked)
    d.tag("id_missing", ~masked & ~full)
    d.ids("id_no", old15=0.0, missing=0.0)
    d.dates("move_in", "_move_in", scale=0.1)
    d.differ_duplicates("name", phone="phone")
    d.break_rows({"name": "name"})
    f = d.frame
    f["house_id"] = first_id.reindex(f["_house"].to_numpy()).to_numpy()
    f["updated_at"] = iso_times(
        np.maximum(f["_move_in"].to_numpy(dtype="datetime64[s]"), random_times(rng, d.n, 2 * 365))
    )
    f["id"] = np.arange(1, d.n + 1)
    insert_sqlite(con, "residents", f, ["id", "name", "phone", "id_no", "house_id", "role", "move_in", "updated_at"])
    exports = []
    tags = d.tag_column()
    for source, role in (("wuye_owners", "业主"), ("wuye_tenants", "租户")):
        mine = f["role"].to_numpy(dtype=object) == role
        part = f[mine]
        exports.append(
            SourceExport(
                source,
                f"{db_path} residents role={role}",
                len(part),
                truth_rows(
                    source,
                    part["id"].astype(str).to_numpy(dtype=object),
                    _links(part, world),
                    tags[mine],
                    d.broken[mine],
                ),
            )
        )
    return exports


def export_vehicles(
    world: World,
    con: sqlite3.Connection,
    rng: np.random.Generator,
    rates: DirtRates,
    first_id: pd.Series,
    db_path: Path,
) -> SourceExport:
    veh = world.vehicles
    d = _people(
        world,
        rng,
        rates,
        veh["person"].to_numpy(),
        {
            "_house": veh["house"].to_numpy(),
            "plate": veh["plate"].to_numpy(),
            "_thing_id": veh["thing_id"].to_numpy(),
            "parking_space": veh["parking_space"].to_numpy(),
            "brand": veh["brand"].to_numpy(),
            "color": veh["color"].to_numpy(),
        },
        0.0,
    )
    d.apply(
        "plate", "plate_spaced", d.pick(0.03), lambda x, _: np.array([p[:2] + " " + p[2:] for p in x], dtype=object)
    )
    d.apply(
        "plate", "plate_lowercase", d.pick(0.02), lambda x, _: np.array([p[0] + p[1:].lower() for p in x], dtype=object)
    )
    d.apply("plate", "plate_fullwidth", d.pick(0.01), lambda x, _: v.fullwidth(x))
    d.break_rows({"plate": "plate", "name": "name"})
    f = d.frame
    f["house_id"] = first_id.reindex(f["_house"].to_numpy()).to_numpy()
    f["updated_at"] = iso_times(random_times(rng, d.n, 2 * 365))
    f["id"] = np.arange(1, d.n + 1)
    f = f.rename(columns={"name": "owner_name", "phone": "owner_phone"})
    insert_sqlite(
        con,
        "vehicles",
        f,
        ["id", "plate", "owner_name", "owner_phone", "parking_space", "house_id", "brand", "color", "updated_at"],
    )
    links = _links(f, world, {"vehicle": ("thing", f["_thing_id"].to_numpy(dtype=object))})
    return SourceExport(
        "wuye_vehicles",
        f"{db_path} vehicles",
        d.n,
        truth_rows("wuye_vehicles", f["id"].astype(str).to_numpy(dtype=object), links, d.tag_column(), d.broken),
    )


def export_tickets(
    world: World,
    con: sqlite3.Connection,
    rng: np.random.Generator,
    rates: DirtRates,
    first_id: pd.Series,
    db_path: Path,
) -> SourceExport:
    t = world.tickets
    d = _people(
        world,
        rng,
        rates,
        t["person"].to_numpy(),
        {
            "_house": t["house"].to_numpy(),
            "type": t["type"].to_numpy(),
            "_subject": t["subject"].to_numpy(),
            "_created": t["created"].to_numpy(),
            "status": t["status"].to_numpy(),
            "_closed": t["closed"].to_numpy(),
        },
        0.0,
    )
    f = d.frame
    surname = world.persons["surname"].to_numpy(dtype=object)[f["_person"].to_numpy()]
    han = surname != ""
    d.apply(
        "name",
        "name_honorific",
        d.pick(d.rates.honorific_name, han),
        lambda x, rows: v.honorific(surname[rows], f["male"].to_numpy(dtype=bool)[rows]),
    )
    h = world.geo.houses
    house = f["_house"].to_numpy()
    where = (
        h["building"].to_numpy()[house].astype(str).astype(object)
        + "栋"
        + h["unit"].to_numpy()[house].astype(str).astype(object)
        + "单元"
        + h["room"].to_numpy()[house].astype(str).astype(object)
    )
    f["content"] = np.where(
        rng.random(d.n) < 0.6,
        where + f["_subject"].to_numpy(dtype=object) + "，请尽快处理",
        f["_subject"].to_numpy(dtype=object),
    )
    f["created_at"] = iso_times(f["_created"].to_numpy(dtype="datetime64[s]"), " ")
    f["closed_at"] = iso_times(f["_closed"].to_numpy(dtype="datetime64[s]"), " ")
    d.break_rows({"date": "created_at", "name": "name"})
    f = d.frame
    f["house_id"] = first_id.reindex(house).to_numpy()
    last = np.where(
        f["_closed"].isna().to_numpy(),
        f["_created"].to_numpy(dtype="datetime64[s]"),
        f["_closed"].to_numpy(dtype="datetime64[s]"),
    )
    f["updated_at"] = iso_times(last)
    f["id"] = np.arange(1, d.n + 1)
    f = f.rename(columns={"name": "reporter_name", "phone": "reporter_phone"})
    insert_sqlite(
        con,
        "tickets",
        f,
        [
            "id",
            "type",
            "content",
            "house_id",
            "reporter_name",
            "reporter_phone",
            "created_at",
            "status",
            "closed_at",
            "updated_at",
        ],
    )
    return SourceExport(
        "wuye_tickets",
        f"{db_path} tickets",
        d.n,
        truth_rows(
            "wuye_tickets", f["id"].astype(str).to_numpy(dtype=object), _links(f, world), d.tag_column(), d.broken
        ),
    )
