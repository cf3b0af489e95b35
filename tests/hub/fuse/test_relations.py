"""Relations: both ends of every relation statement mapped through record links to canonical ids."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from hub.pipeline import Hub, resolve
from hub.resolve.store import link_rows
from hub.store import tables
from tests.hub.fuse.world import ROWS, change_rows


def _relations(hub: Hub) -> pd.DataFrame:
    with hub.engine.connect() as conn:
        return pd.DataFrame(conn.execute(sa.select(tables.relation)).mappings().all())


def _id(hub: Hub, record_key: str) -> str:
    return str(link_rows(hub.engine, [record_key])["entity_id"].iloc[0])


def _find(relations: pd.DataFrame, subject: str, predicate: str) -> pd.DataFrame:
    return relations[(relations["subject_id"] == subject) & (relations["predicate"] == predicate)]


def test_relations_connect_canonical_entities_across_sources(world: Hub) -> None:
    relations = _relations(world)
    with world.engine.connect() as conn:
        active = {r[0] for r in conn.execute(sa.select(tables.entity.c.id).where(tables.entity.c.state == "active"))}
    assert set(relations["subject_id"]) <= active and set(relations["object_id"]) <= active
    zhang, li, wang = (_id(world, f"t_register|{r}|person") for r in ("R1", "R2", "R3"))
    lives = _find(relations, zhang, "resides_at")
    assert len(lives) == 1 and json.loads(lives["sources"].item()) == ["t_register", "t_welfare"]
    assert len(json.loads(lives["statement_ids"].item())) == 2
    owns = _find(relations, zhang, "owns")
    assert owns["object_id"].item() == lives["object_id"].item()          # the house he owns is where he lives
    assert owns["object_id"].item().startswith("H-") and owns["object_type"].item() == "house"
    employers = {_find(relations, p, "employed_by")["object_id"].item() for p in (li, wang)}
    assert len(employers) == 1 and employers.pop().startswith("O-")
    helped = relations[relations["predicate"] == "applies_to"]
    assert set(helped["object_id"]) == {zhang, li} and helped["subject_id"].str.startswith("S-").all()
    car = relations[relations["predicate"] == "owned_by"]
    assert car["subject_id"].item().startswith("T-") and car["object_id"].item() == _id(world, "t_vehicles|V1|owner")
    assert relations["valid_to"].isna().all() and relations["valid_from"].notna().all()


def test_a_relation_no_current_record_states_is_closed(world: Hub) -> None:
    rows = [r[:] for r in ROWS["insured.csv"]]
    rows[2][3] = rows[2][4] = ""                       # 王芳's next record names no employer
    change_rows(world, "insured.csv", rows)
    resolve(world)
    relations = _relations(world)
    wang = _find(relations, _id(world, "t_register|R3|person"), "employed_by")
    li = _find(relations, _id(world, "t_register|R2|person"), "employed_by")
    assert wang["valid_to"].notna().item() and li["valid_to"].isna().item()


def test_a_record_changing_elsewhere_leaves_its_relations_as_they_were(world: Hub) -> None:
    zhang = _id(world, "t_register|R1|person")
    before = _find(_relations(world), zhang, "resides_at").iloc[0]
    for phone in ("13800138001", "13800138002"):          # two new versions of R1, the same residence
        rows = [r[:] for r in ROWS["register.csv"]]
        rows[1][5] = phone
        change_rows(world, "register.csv", rows)
        resolve(world)
    after = _find(_relations(world), zhang, "resides_at").iloc[0]
    # one statement per record however many versions repeat it: the newest version's row
    ids = json.loads(after["statement_ids"])
    assert len(ids) == len(json.loads(before["statement_ids"])) == 2 and ids != json.loads(before["statement_ids"])
    assert after["valid_from"] == before["valid_from"] and after["valid_to"] is None
