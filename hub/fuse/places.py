"""The place hierarchy (区县 › 街道 › 社区 › 网格 › 小区 › 楼栋 › 单元 › 室) from houses' golden values.

Every house contributes the chain of places its golden values name; equal chains give equal place
ids (a hash of the path), so the houses of one building share the building's row and the tree is
rebuilt identically from unchanged data. Divisions chain from the district down; an estate is
keyed by its name alone (some sources omit the district), with its buildings and units under it.
A building or unit number means nothing without its estate, so the chain stops at a missing
estate; the house itself becomes a room-level place (keyed by the house id) under the deepest
place it has.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.fuse.write import replace_by_id
from hub.normalize.codes import division_name
from hub.store import tables
from hub.store.frames import frame_of

PLACE_COLUMNS = ("id", "place_type", "name", "code", "parent_id", "house_id", "run_id")
COMPARED = ("place_type", "name", "code", "parent_id", "house_id")
LEVELS = (("district", "district_code"), ("street", "street"), ("community", "community"), ("grid", "grid"),
          ("estate", "estate"), ("building", "building"), ("unit", "unit"))
NEEDS_ESTATE = ("building", "unit")


def place_id(path: str) -> str:
    return "PL-" + hashlib.blake2b(path.encode(), digest_size=8).hexdigest()


def house_values(engine: Engine) -> pd.DataFrame:
    """One row per active house entity, one column per clear golden value."""
    g, e = tables.golden_value.c, tables.entity.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(g.entity_id, g.attribute, g.value).join(
            tables.entity, e.id == g.entity_id).where(g.entity_type == "house", e.state == "active")).all()
    long = frame_of(rows, ["entity_id", "attribute", "value"])
    wide = long.pivot(index="entity_id", columns="attribute", values="value")
    return wide.reindex(columns=[attr for _, attr in LEVELS] + ["room"])


def _level(ids: pd.Series, level: str, names: pd.Series, parents: pd.Series, code: pd.Series | None = None
           ) -> pd.DataFrame:
    """One row per distinct place id of a level; where houses disagree on the parent, the commonest wins."""
    rows = pd.DataFrame({"id": ids, "place_type": level, "name": names, "code": code, "parent_id": parents})
    rows = rows.dropna(subset=["id"])
    counted = rows.groupby(["id", "parent_id"], dropna=False).size().reset_index(name="n")
    counted = counted.sort_values(["id", "n", "parent_id"], ascending=[True, False, True], na_position="last")
    parent = counted.drop_duplicates("id").set_index("id")["parent_id"]
    first = rows.drop_duplicates("id").set_index("id")
    return first.assign(parent_id=parent.reindex(first.index), house_id=None).reset_index()


def places(houses: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Place rows for houses (index: house entity id; columns: the attributes of LEVELS and room).

    Divisions above the estate chain by path; an estate is known by its name (the same 小区 written
    with or without its district is one place), its buildings and units under it.
    """
    frames: list[pd.DataFrame] = []
    parent = pd.Series(None, index=houses.index, dtype=object)
    path = pd.Series("", index=houses.index, dtype=object)
    for level, attribute in LEVELS:
        values = houses[attribute]
        if level == "estate":
            path = pd.Series("", index=houses.index, dtype=object)
        here = values.notna()
        if level in NEEDS_ESTATE:
            here &= path.str.startswith("/estate=")
        path = path.where(~here, path + "/" + level + "=" + values.astype(str))
        if level in NEEDS_ESTATE:
            path = path.where(here, "")      # the chain is broken: nothing below this house's estate
        if not here.any():
            continue
        ids = path[here].map(place_id)
        names = values[here].map(division_name).fillna(values[here]) if level == "district" else values[here]
        frames.append(_level(ids, level, names, parent[here], values[here] if level == "district" else None))
        parent = parent.where(~here, ids)
    rooms = pd.DataFrame({"id": [place_id("room=" + str(h)) for h in houses.index], "place_type": "room",
                          "name": houses["room"].to_numpy(), "code": None, "parent_id": parent.to_numpy(),
                          "house_id": houses.index.to_numpy()})
    out = pd.concat([*frames, rooms], ignore_index=True)
    out["run_id"] = run_id
    return out.sort_values("id").reset_index(drop=True)[list(PLACE_COLUMNS)]


def write_places(conn: Connection, rows: pd.DataFrame) -> int:
    return replace_by_id(conn, tables.place, rows, PLACE_COLUMNS, COMPARED)
