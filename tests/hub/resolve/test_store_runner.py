"""Resolution runs on both stores: stable ids, incremental attachment, differences only."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from hub.pipeline import Hub, ResolveReport, resolve
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.fuse.world import LI, ROWS, WANG, build_world, change_rows


@pytest.fixture
def hub(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    yield hub
    hub.engine.dispose()


def links(hub: Hub) -> dict[str, str]:
    with hub.engine.connect() as conn:
        return dict(conn.execute(sa.select(tables.record_link.c.record_key, tables.record_link.c.entity_id)).all())


def count(hub: Hub, table: sa.Table) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def modes(report: ResolveReport) -> dict[str, str]:
    return {run.entity_type: run.mode for run in report.runs}


def snapshot(hub: Hub) -> dict[str, list[tuple[object, ...]]]:
    """Every resolution and fusion table's rows (run ids included: unchanged means untouched)."""
    out = {}
    with hub.engine.connect() as conn:
        for table in (tables.record_link, tables.entity, tables.entity_change, tables.golden_value, tables.conflict,
                      tables.relation, tables.place, tables.review_pair, tables.match_model):
            out[table.name] = sorted(tuple(map(str, r)) for r in conn.execute(sa.select(table)))
    return out


def test_records_become_entities_with_ids_of_their_type(hub: Hub) -> None:
    report = resolve(hub)
    assert modes(report) == {"person": "full", "house": "full", "organization": "full", "thing": "full",
                             "event": "unchanged", "situation": "full"}      # the world has no events
    ids = links(hub)
    zhang = {ids[k] for k in ("t_register|R1|person", "t_welfare|1|person", "t_property|O1|person")}
    assert len(zhang) == 1 and zhang.pop().startswith("P-")
    assert ids["t_register|R2|person"] == ids["t_welfare|2|person"] == ids["t_employer|E1|person"]
    assert ids["t_employer|E1|employer"] == ids["t_employer|E2|employer"]
    prefixes = {key.split("|")[0] + "/" + key.rsplit("|", 1)[1]: value[:2] for key, value in ids.items()}
    assert prefixes["t_welfare/help"] == "S-" and prefixes["t_vehicles/vehicle"] == "T-"
    assert prefixes["t_register/home"] == "H-" and prefixes["t_employer/employer"] == "O-"
    assert count(hub, tables.entity_change) == count(hub, tables.entity)       # one `created` each


@pytest.mark.reliability("G2")
def test_re_running_on_unchanged_data_changes_nothing(hub: Hub, record_property: Callable[[str, object], None]) -> None:
    resolve(hub)
    before = snapshot(hub)
    again = resolve(hub)
    assert set(modes(again).values()) == {"unchanged"}
    full = resolve(hub, full=True)
    assert set(modes(full).values()) == {"full", "unchanged"}
    assert all(run.links_written == 0 and not run.changes for run in full.runs)
    now = snapshot(hub)
    record_property("resolution rows changed", sum(len(set(before[t]) ^ set(now[t])) for t in before))
    assert now == before


@pytest.mark.reliability("G2")
def test_a_fresh_store_mints_the_same_ids(hub: Hub, settings: HubSettings, tmp_path: Path) -> None:
    resolve(hub)
    other_home = tmp_path / "other"
    other_home.mkdir()
    other = build_world(settings.model_copy(update={"database_url": f"sqlite:///{other_home / 'hub.db'}"}),
                        other_home)
    resolve(other)
    assert links(other) == links(hub)


@pytest.mark.parametrize("kept_state", [True, False], ids=["kept-state", "state-deleted"])
def test_new_and_changed_records_attach_incrementally(hub: Hub, kept_state: bool) -> None:
    """The same outcome from the kept state (reading only the changed records) as from the store."""
    resolve(hub)
    before = links(hub)
    if not kept_state:
        shutil.rmtree(hub.settings.home / "state")
    welfare = [r[:] for r in ROWS["welfare.csv"]]
    welfare[2][3] = "13911112222"                                         # 李娜's phone changes
    welfare.append(["3", "王芳", WANG, "13600136000", "幸福小区1号楼1单元101室", "500"])   # 王芳 newly helped
    change_rows(hub, "welfare.csv", welfare)
    report = resolve(hub)
    assert modes(report)["person"] == "incremental" and modes(report)["organization"] == "unchanged"
    after = links(hub)
    assert after["t_welfare|3|person"] == before["t_register|R3|person"]
    assert {k: after[k] for k in before} == before                         # nobody else moved
    person = next(run for run in report.runs if run.entity_type == "person")
    assert person.read_all is not kept_state and (person.records == 2) is kept_state   # 2: the changed ones
    assert person.changes == {"updated": 2} and person.touched == {before["t_register|R2|person"],
                                                                     before["t_register|R3|person"]}
    with hub.engine.connect() as conn:
        feed = conn.execute(sa.select(tables.entity_change.c.entity_id, tables.entity_change.c.detail).where(
            tables.entity_change.c.change == "updated")).all()
    assert (before["t_register|R3|person"], '{"added": 1, "removed": 0}') in feed
    assert (before["t_register|R2|person"], '{"added": 0, "changed": 1, "removed": 0}') in feed
    full = resolve(hub, full=True).runs[0]        # a full run agrees (scores move: term frequencies grew)
    assert full.changes == {} and links(hub) == after


def test_a_failed_run_is_recorded_and_leaves_the_store_as_it_was(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    resolve(hub)
    before = snapshot(hub)
    change_rows(hub, "insured.csv", [*ROWS["insured.csv"], ["E3", "李娜", LI, "另一家公司", ""]])

    def broken(*_: object, **__: object) -> pd.DataFrame:
        raise RuntimeError("engine down")

    monkeypatch.setattr("hub.resolve.runner.link_details", broken)
    with pytest.raises(RuntimeError):
        resolve(hub, ["person"])
    assert snapshot(hub) == before
    with hub.engine.connect() as conn:
        status, error = conn.execute(sa.select(tables.run.c.status, tables.run.c.error).where(
            tables.run.c.stage == "resolve").order_by(tables.run.c.started_at.desc()).limit(1)).one()
    assert (status, error) == ("failed", "RuntimeError")


def test_a_run_without_a_usable_state_leaves_one_for_the_next(hub: Hub) -> None:
    """State deleted: an unchanged run reads the store once and writes the state again; the increment after
    it reads only what changed."""
    resolve(hub)
    state_dir = hub.settings.home / "state"
    shutil.rmtree(state_dir)
    again = resolve(hub)
    assert set(modes(again).values()) == {"unchanged"} and (state_dir / "person.state").exists()
    newcomer = ["3", "王芳", WANG, "13600136000", "幸福小区1号楼1单元101室", "500"]
    change_rows(hub, "welfare.csv", [*ROWS["welfare.csv"], newcomer])
    person = next(run for run in resolve(hub).runs if run.entity_type == "person")
    assert person.mode == "incremental" and not person.read_all and person.records == 1
