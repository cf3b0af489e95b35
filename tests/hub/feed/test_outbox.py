"""The outbox on each store: publication writes one event per entity whose served state changed, classified as
created, updated, merged or split, in the publication's transaction; an unchanged or full re-run writes
none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.pipeline import Hub, publish, resolve
from hub.resolve.review import judge
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.fuse.world import ROWS, build_world, change_rows, rid

OWNER, REGISTER, WELFARE = "t_vehicles|V1|owner", "t_register|R1|person", "t_welfare|1|person"


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    yield hub
    hub.engine.dispose()


def events(hub: Hub, version: int | None = None) -> list[tuple[str, str, str | None, str | None, str | None]]:
    e = tables.change_event.c
    query = sa.select(e.entity_id, e.change, e.other_id, e.parts, e.attributes).order_by(e.id)
    if version is not None:
        query = query.where(e.version == version)
    with hub.engine.connect() as conn:
        return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(query)]


def entity(hub: Hub, record_key: str) -> str:
    with hub.engine.connect() as conn:
        return str(conn.execute(sa.select(tables.record_link.c.entity_id)
                                .where(tables.record_link.c.record_key == record_key)).scalar_one())


def test_the_first_publication_creates_every_served_entity(world: Hub) -> None:
    version = resolve(world).publication.version
    found = events(world, version)
    with world.engine.connect() as conn:
        served = set(conn.execute(sa.select(tables.pub_entity.c.entity_id).where(
            tables.pub_entity.c.state == "active", tables.pub_entity.c.until.is_(None))).scalars())
        places = conn.execute(sa.select(sa.func.count()).select_from(tables.change_event_place)).scalar_one()
        scoped = conn.execute(sa.select(sa.func.count()).select_from(tables.pub_scope)).scalar_one()
    assert {f[0] for f in found} == served and {f[1] for f in found} == {"created"}
    assert places == scoped                                   # each event carries its entity's places
    assert resolve(world, full=True).publication.events == 0  # nothing changed: no version, no event
    assert publish(world, full=True).events == 0              # every row rewritten equal: still no event
    assert len(events(world)) == len(found)


def test_an_update_names_the_parts_and_attributes_that_changed(world: Hub) -> None:
    resolve(world)
    rows = [list(r) for r in ROWS["register.csv"]]
    rows[4][5] = "13500135000"                                # 赵强 gets a phone
    change_rows(world, "register.csv", rows)
    version = resolve(world).publication.version
    zhao = entity(world, "t_register|R4|person")
    changed = {f[0]: f for f in events(world, version)}
    assert changed[zhao][1] == "updated"
    assert "values" in (changed[zhao][3] or "").split(",")
    assert "phone" in (changed[zhao][4] or "").split(",")
    assert all(f[1] == "updated" for f in changed.values())


def test_splits_and_merges_are_events_with_the_other_entity(world: Hub) -> None:
    resolve(world)
    before = entity(world, REGISTER)
    assert entity(world, WELFARE) == before
    welfare = [list(r) for r in ROWS["welfare.csv"]]
    welfare[1][1:5] = ["孙丽", rid("65010219880808103"), "13300133000", "幸福小区2号楼1单元201室"]
    change_rows(world, "welfare.csv", welfare)            # the welfare record was someone else's all along
    version = resolve(world).publication.version
    changed = {f[0]: f for f in events(world, version)}
    new = entity(world, WELFARE)
    assert new != before and changed[new][1:3] == ("split", before)
    assert changed[before][1] == "updated"

    kept, gone = entity(world, REGISTER), entity(world, OWNER)
    assert kept != gone
    judge(world.engine, OWNER, REGISTER, positive=True, who="test")
    version = resolve(world).publication.version
    changed = {f[0]: f for f in events(world, version)}
    assert changed[gone][1:3] == ("merged", kept)
    assert changed[kept][1] == "updated"
