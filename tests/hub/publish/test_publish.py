"""Publication of the toy world on each store: resolve ends by publishing, an unchanged re-run publishes nothing,
a reader pinned to a version keeps it while the next is published (G13), a failed publication leaves the
previous version served."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.access.policy import Policy
from hub.pipeline import Hub, publish, resolve
from hub.publish import PUB_TABLES, current_version, versioned
from hub.settings import HubSettings
from hub.store import tables
from hub.store.initial_load import deferred_indexes
from hub.views import entity_view, open_reader, search
from schemas.views import EntityView
from tests.hub.fuse.world import LI, ROWS, ZHANG, ZHAO, build_world, change_rows

OPERATOR = Policy.operator("tester")


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    yield hub
    hub.engine.dispose()


def _rows(hub: Hub) -> dict[str, int]:
    with hub.engine.connect() as conn:
        return {name: int(conn.execute(sa.select(sa.func.count()).select_from(getattr(tables, name))).scalar_one())
                for name, _ in PUB_TABLES}


def _person(hub: Hub, resident_id: str) -> str:
    with hub.engine.connect() as conn:
        page = search(open_reader(conn, hub.vault), OPERATOR, "person", resident_id=resident_id)
    assert len(page.items) == 1
    return page.items[0].id


def _phone_mode(conn: sa.Connection, hub: Hub, reader_version: int | None, entity_id: str) -> Any:
    reader = open_reader(conn, hub.vault)
    if reader_version is not None:
        reader = type(reader)(conn, reader_version, hub.vault)
    view = entity_view(reader, OPERATOR, entity_id)
    assert isinstance(view, EntityView)
    return view.values.get("phone")


@pytest.mark.reliability("G2")
def test_resolve_publishes_and_an_unchanged_rerun_publishes_nothing(world: Hub,
                                                                     record_property: Any) -> None:
    report = resolve(world)
    assert report.publication.changed and report.publication.version == 1
    with world.engine.connect() as conn:
        assert current_version(conn) == 1
    before = _rows(world)
    assert before["pub_entity"] > 0 and before["pub_key"] > 0 and before["pub_claim"] > 0
    again = resolve(world, full=True)
    after = _rows(world)
    record_property("G2: read-model rows added by an unchanged re-run", sum(after.values()) - sum(before.values()))
    assert not again.publication.changed and again.publication.version == 1
    assert after == before
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.publication)).scalar_one() == 1
        statuses = [r.status for r in conn.execute(sa.select(tables.run.c.status).where(
            tables.run.c.stage == "publish"))]
    assert statuses == ["succeeded"]                     # told fusion changed nothing, it did not even compare
    compared = publish(world)                              # asked to compare anyway: no difference, no version
    assert not compared.changed and compared.version == 1 and _rows(world) == before
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.publication)).scalar_one() == 1


@pytest.mark.reliability("G13")
def test_a_reader_keeps_its_version_while_the_next_is_published(world: Hub, record_property: Any) -> None:
    resolve(world)
    zhao = _person(world, ZHAO)
    with world.engine.connect() as conn:
        reader = open_reader(conn, world.vault)
        assert _phone_mode(conn, world, reader.version, zhao) is None       # 赵强 has no phone in v1
        conn.rollback()                                                     # no snapshot helps below: versions do
        rows = [list(r) for r in ROWS["register.csv"]]
        rows[4][5] = "13500135000"
        change_rows(world, "register.csv", rows)
        report = resolve(world)
        assert report.publication.version == reader.version + 1
        seen_old = _phone_mode(conn, world, reader.version, zhao)
        conn.rollback()
        seen_new = _phone_mode(conn, world, None, zhao)
    record_property("G13: pinned readers that saw the next version", int(seen_old is not None))
    assert seen_old is None
    assert seen_new is not None and seen_new.value == "135****5000" and seen_new.mode == "masked"
    # the version before the previous one is pruned once a third is published: rows retired at v1 are gone
    rows[4][5] = "13500135001"
    change_rows(world, "register.csv", rows)
    third = resolve(world).publication
    assert third.version == 3 and third.pruned > 0
    with world.engine.connect() as conn:
        for name, _ in PUB_TABLES:
            table = getattr(tables, name)
            retired = sa.select(sa.func.count()).select_from(table).where(table.c.until <= 2)
            assert conn.execute(retired).scalar_one() == 0


def test_a_failed_publication_leaves_the_previous_version_served(world: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    resolve(world)
    li = _person(world, LI)
    rows = [list(r) for r in ROWS["register.csv"]]
    rows[2][5] = "13900139999"                  # 李娜's register phone changes
    change_rows(world, "register.csv", rows)
    real_apply, applied = versioned.apply, []

    def apply_then_fail(conn: sa.Connection, change: versioned.TableDiff, version: int) -> None:
        real_apply(conn, change, version)
        applied.append(change.table.name)
        if len(applied) == 3:
            raise RuntimeError("disk full")     # the fault: half the tables written

    monkeypatch.setattr(versioned, "apply", apply_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        resolve(world)
    with world.engine.connect() as conn:
        assert current_version(conn) == 1
        assert _phone_mode(conn, world, None, li).value == "139****9000"
        for name, _ in PUB_TABLES:
            table = getattr(tables, name)
            assert conn.execute(sa.select(sa.func.count()).select_from(table).where(
                sa.or_(table.c.since > 1, table.c.until.is_not(None)))).scalar_one() == 0
        status = conn.execute(sa.select(tables.run.c.status).where(tables.run.c.stage == "publish")
                              .order_by(tables.run.c.started_at.desc()).limit(1)).scalar_one()
    assert status == "failed"
    monkeypatch.undo()
    again = resolve(world)               # fusion has nothing new, but the last publication failed: publish
    assert again.fusion.golden_entities.get("person", 0) == 0 and again.publication.version == 2
    with world.engine.connect() as conn:
        assert _phone_mode(conn, world, None, li).value == "139****9999"


def test_a_full_publication_rewrites_every_row_and_shows_the_same(world: Hub) -> None:
    resolve(world)
    zhang = _person(world, ZHANG)
    with world.engine.connect() as conn:
        before = entity_view(open_reader(conn, world.vault), OPERATOR, zhang)
    result = publish(world, full=True)
    assert result.changed and result.version == 2
    assert all(c["added"] == c["retired"] for c in result.counts.values())
    with world.engine.connect() as conn:
        assert entity_view(open_reader(conn, world.vault), OPERATOR, zhang) == before


def _indexes_in(conn: sa.Connection) -> set[str]:
    inspector = sa.inspect(conn)
    return {str(ix["name"]) for name, _ in PUB_TABLES for ix in inspector.get_indexes(name)}


def _pub_indexes(hub: Hub) -> set[str]:
    with hub.engine.connect() as conn:
        return _indexes_in(conn)


def _index_ddl(hub: Hub) -> list[tuple[str, str]]:
    """(DROP or CREATE, index name) of every index statement the engine sends from now on."""
    seen: list[tuple[str, str]] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        if words[:2] in (["DROP", "INDEX"], ["CREATE", "INDEX"]):
            seen.append((words[0], words[2].strip('"')))

    sa.event.listen(hub.engine, "before_cursor_execute", spy)
    return seen


def test_the_first_publication_builds_the_read_model_indexes_after_its_load(world: Hub) -> None:
    wanted = {str(ix.name) for ix in deferred_indexes([getattr(tables, name) for name, _ in PUB_TABLES])}
    assert len(wanted) == 11 and wanted <= _pub_indexes(world)
    ddl = _index_ddl(world)
    report = resolve(world)
    assert report.publication.version == 1
    # the tables the first version filled (the toy world has no community scopes)
    loaded = {str(ix.name) for ix in deferred_indexes([getattr(tables, name) for name, rows in _rows(world).items()
                                                       if rows])}
    assert {"ix_pub_entity_entity_id_since", "ix_pub_claim_entity_id_attribute"} <= loaded
    first = [(verb, name) for verb, name in ddl if name in wanted]
    assert {name for verb, name in first if verb == "DROP"} == loaded
    assert {name for verb, name in first if verb == "CREATE"} == loaded
    assert all(verb == "DROP" for verb, _ in first[:len(loaded)])          # all dropped before any is built
    assert wanted <= _pub_indexes(world)
    with world.engine.connect() as conn:                       # and the rows are all there, found through them
        zhang = _person(world, ZHANG)
        assert entity_view(open_reader(conn, world.vault), OPERATOR, zhang) is not None
        created = conn.execute(sa.select(sa.func.count()).select_from(tables.change_event).where(
            tables.change_event.c.change == "created")).scalar_one()
        entities = conn.execute(sa.select(sa.func.count()).select_from(tables.pub_entity)).scalar_one()
    assert created == entities > 0                                       # the outbox: one 'created' per entity
    ddl.clear()
    rows = [list(r) for r in ROWS["register.csv"]]
    rows[2][5] = "13900139999"
    change_rows(world, "register.csv", rows)
    assert resolve(world).publication.version == 2
    assert not [name for _, name in ddl if name in wanted]                # later versions keep their indexes


def test_a_failed_first_publication_leaves_the_read_model_indexes_in_place(world: Hub,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = _pub_indexes(world)
    real_apply, applied = versioned.apply, []

    def apply_then_fail(conn: sa.Connection, change: versioned.TableDiff, version: int) -> None:
        real_apply(conn, change, version)
        applied.append(change.table.name)
        if len(applied) == 3:
            # the fault: mid-load, the indexes of the tables being filled are dropped
            assert not (_indexes_in(conn) & {"ix_pub_entity_entity_id_since", "ix_pub_claim_entity_id_attribute"})
            raise RuntimeError("disk full")

    monkeypatch.setattr(versioned, "apply", apply_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        resolve(world)
    assert _pub_indexes(world) == wanted
    with world.engine.connect() as conn:
        assert current_version(conn) is None
    monkeypatch.undo()
    assert resolve(world).publication.version == 1 and _pub_indexes(world) == wanted
