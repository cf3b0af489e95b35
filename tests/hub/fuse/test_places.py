"""The place hierarchy from houses' golden values: shared containers, rooms for houses, stable ids."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from hub.fuse.places import place_id, places
from hub.pipeline import Hub
from hub.store import tables

HOUSES = pd.DataFrame({
    "district_code": ["650102", "650102", None, None],
    "street": [None] * 4, "community": ["明珠社区", "明珠社区", None, None], "grid": [None] * 4,
    "estate": ["明珠花园", "明珠花园", "明珠花园", None],
    "building": ["3", "3", "3", "5"], "unit": ["2", "2", "1", "1"], "room": ["1501", "1502", "101", "101"],
}, index=pd.Index(["H-1", "H-2", "H-3", "H-4"]))


def test_houses_hang_in_one_tree_under_their_estate() -> None:
    tree = places(HOUSES, "run").set_index("id")
    kinds = tree["place_type"].value_counts().to_dict()
    assert kinds == {"district": 1, "community": 1, "estate": 1, "building": 1, "unit": 2, "room": 4}
    district = tree[tree["place_type"] == "district"].iloc[0]
    assert district["name"] == "天山区" and district["code"] == "650102"
    estate = tree.index[tree["place_type"] == "estate"].item()
    assert tree.loc[estate, "parent_id"] == tree.index[tree["place_type"] == "community"].item()
    rooms = tree[tree["place_type"] == "room"].set_index("house_id")
    unit_of = rooms["parent_id"]
    assert unit_of["H-1"] == unit_of["H-2"] != unit_of["H-3"]
    assert tree.loc[tree.loc[unit_of["H-1"], "parent_id"], "place_type"] == "building"
    # no estate: building 5 means nothing on its own, the house hangs under what it has (nothing)
    assert pd.isna(unit_of["H-4"]) and rooms.loc["H-4", "name"] == "101"
    assert places(HOUSES.iloc[::-1], "other").drop(columns="run_id").equals(tree.reset_index().drop(columns="run_id"))


def test_place_ids_come_from_the_path() -> None:
    assert place_id("/estate=明珠花园") == place_id("/estate=明珠花园") != place_id("/estate=幸福")


def test_the_world_has_its_place_tree(world: Hub) -> None:
    with world.engine.connect() as conn:
        tree = pd.DataFrame(conn.execute(sa.select(tables.place)).mappings().all()).set_index("id")
        houses = {r[0] for r in conn.execute(sa.select(tables.entity.c.id).where(
            tables.entity.c.entity_type == "house", tables.entity.c.state == "active"))}
    assert set(tree.loc[tree["place_type"] == "room", "house_id"]) == houses
    assert sorted(tree.loc[tree["place_type"] == "estate", "name"]) == ["幸福", "明珠花园"]
    assert (tree.loc[tree["place_type"] == "unit", "parent_id"].map(tree["place_type"]) == "building").all()
