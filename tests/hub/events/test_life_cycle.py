"""The event loop on the toy district, on each store: findings and tickets become located, assigned events;
a finding found again updates its event; a resolved event whose finding is still found is reopened; a finding
gone closes its event; a suppressed one stays suppressed with its reason in the history and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.access import Policy
from hub.events import EventError, event_metrics, list_events, move_event, run_events, steps_of
from hub.pipeline import Hub, resolve
from hub.quality.derived import event_rows, finding_rows, finding_trend
from hub.rules import run_rules
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.events.world import GRID_A, GRID_B, build_world, roster, toy_rules
from tests.hub.fuse.world import change_rows
from tests.hub.rules.test_rules_toy import names_of
from tests.hub.rules.world import ROWS

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
OFFICE = Policy.operator("street-office")


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()


def check(hub: Hub, at: datetime) -> None:
    """A rules run, then an events run, at `at`."""
    run_rules(hub.engine, hub.vault, toy_rules(), now=at)
    run_events(hub.engine, hub.vault, roster(), now=at + timedelta(seconds=1))


def by_person(hub: Hub, rule: str) -> dict[str, dict[str, object]]:
    names = names_of(hub)
    events = list_events(hub.engine, states=None)
    mine = events[events["kind"] == rule]
    return {names[e]: row for e, row in zip(mine["entity_id"], mine.to_dict("records"), strict=True)}


def test_findings_and_tickets_become_located_assigned_events(world: Hub) -> None:
    run_rules(world.engine, world.vault, toy_rules(), now=T0)
    first = run_events(world.engine, world.vault, roster(), now=T0)
    assert first.derived.new == 6 and first.derived.tickets == 2 and first.derived.unlocated == 0
    assert first.derived.new_high == ("welfare_after_death",)
    open_now = list_events(world.engine)
    assert len(open_now) == 7                                 # 6 findings and the open repair; the complaint closed
    assert set(open_now["state"]) == {"assigned"}
    tenant = by_person(world, "unregistered_tenant")["周杰"]
    assert (tenant["grid"], tenant["community"], tenant["worker_id"]) == (GRID_B, "明珠社区", "W2")
    death = by_person(world, "welfare_after_death")
    assert {d["grid"] for d in death.values()} == {GRID_A} and {d["worker_id"] for d in death.values()} == {"W1"}
    assert {d["due_at"].replace(tzinfo=UTC) for d in death.values()} == {T0 + timedelta(hours=24)}
    tickets = list_events(world.engine, states=None).query("origin == 'ticket'").set_index("kind")
    assert tickets.loc["repair", "grid"] == GRID_B and tickets.loc["repair", "state"] == "assigned"
    assert tickets.loc["complaint", "state"] == "closed" and tickets.loc["complaint", "grid"] == GRID_A

    again = run_events(world.engine, world.vault, roster(), now=T0 + timedelta(hours=1))   # persists: no duplicate
    assert again.derived.new == again.derived.tickets == 0 and again.derived.persisting == 6
    assert len(list_events(world.engine, states=None)) == 8
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.event_step)).scalar_one() == 6 * 2 + 3


def test_update_resolve_reopen_on_a_failed_check_and_close_when_gone(world: Hub) -> None:
    check(world, T0)
    zhang = str(by_person(world, "welfare_after_death")["张伟"]["id"])
    move_event(world.engine, zhang, "in_progress", by=OFFICE, note="visited the family")
    with pytest.raises(EventError, match="needs a note"):
        move_event(world.engine, zhang, "resolved", by=OFFICE)
    move_event(world.engine, zhang, "resolved", by=OFFICE, note="civil affairs told to stop the 低保")
    with pytest.raises(EventError, match="cannot move to in_progress"):
        move_event(world.engine, zhang, "in_progress", by=OFFICE)

    check(world, datetime.now(UTC) + timedelta(hours=1))   # the check: civil affairs still pays
    event = by_person(world, "welfare_after_death")["张伟"]
    assert (event["state"], event["reopened"], event["worker_id"]) == ("assigned", 1, "W1")
    assert [s for _, s, _, _ in steps_of(world.engine, zhang)] == [
        "discovered", "assigned", "in_progress", "resolved", "discovered", "assigned"]
    assert "reopened" in steps_of(world.engine, zhang)[4][3]

    stopped = [row[:] for row in ROWS["assistance.csv"]]
    stopped[1][4] = "停发"                                   # … now civil affairs stops it: the finding is gone
    change_rows(world, "assistance.csv", stopped)
    resolve(world)
    check(world, datetime.now(UTC) + timedelta(hours=2))
    event = by_person(world, "welfare_after_death")["张伟"]
    assert event["state"] == "closed" and event["closed_at"] is not None
    assert steps_of(world.engine, zhang)[-1][3] == "closed: the check no longer finds it"


def test_assign_suppress_and_audit(world: Hub) -> None:
    check(world, T0)
    events = by_person(world, "certificate_after_death")
    zhao = str(events["赵强"]["id"])
    move_event(world.engine, zhao, "assigned", by=OFFICE, worker_id="W3")
    with pytest.raises(EventError, match="serves 明珠社区第1网格"):
        move_event(world.engine, zhao, "assigned", by=OFFICE, worker_id="W2")
    with pytest.raises(EventError, match="needs a note"):
        move_event(world.engine, zhao, "suppressed", by=OFFICE)
    move_event(world.engine, zhao, "suppressed", by=OFFICE, note="残联 cancels the certificate this week")
    check(world, datetime.now(UTC) + timedelta(hours=1))           # still found: stays suppressed, no new event
    event = by_person(world, "certificate_after_death")["赵强"]
    assert (event["state"], event["worker_id"]) == ("suppressed", "W3")
    assert len(list_events(world.engine, states=None).query("kind == 'certificate_after_death'")) == 1
    assert steps_of(world.engine, zhao)[-1][1:] == ("suppressed", "street-office",
                                                    "残联 cancels the certificate this week")
    a = tables.audit_log.c
    with world.engine.connect() as conn:
        actions = conn.execute(sa.select(a.action, a.actor).where(a.action.like("event %"))).all()
    assert ("event suppressed", "street-office") in actions and ("event assigned", "street-office") in actions


def test_metrics_per_grid_and_community(world: Hub) -> None:
    check(world, T0)
    per_grid, per_community = event_metrics(world.engine, T0 + timedelta(days=4))
    grids = per_grid.set_index("grid")
    assert grids.loc[GRID_A, "open"] == 5 and grids.loc[GRID_A, "overdue"] == 5    # due in 1 or 3 days
    assert grids.loc[GRID_A, "handled"] == 1 and grids.loc[GRID_A, "median_hours"] == 24.0   # the complaint
    assert grids.loc[GRID_A, "on_time_rate"] == 1.0
    assert grids.loc[GRID_A, "workers"] == 2 and grids.loc[GRID_A, "open_per_worker"] == 2.5
    # the rules' toy world registers 16 persons in building 1 (ten, and the seven the person-side rules added)
    assert grids.loc[GRID_A, "residents"] == 16 and grids.loc[GRID_B, "open"] == 2
    assert set(per_community["community"]) == {"幸福社区", "明珠社区"}


def test_the_auditors_report_sections(world: Hub) -> None:
    check(world, T0)
    stopped = [row[:] for row in ROWS["assistance.csv"]]
    stopped[1][4] = "停发"                                   # 张伟's 低保 stopped: one finding cleared
    change_rows(world, "assistance.csv", stopped)
    resolve(world)
    check(world, datetime.now(UTC) + timedelta(hours=1))
    rows = finding_rows(world.engine).set_index(["rule", "community"])
    counts = ["open", "new at the last run", "cleared"]
    assert rows.loc[("welfare_after_death", "幸福社区"), counts].tolist() == [1, 0, 1]
    assert rows.loc[("unregistered_tenant", "明珠社区"), "open"] == 1
    trend = finding_trend(world.engine)
    assert [n for _, n in trend["welfare_after_death"]] == [2.0, 1.0]      # open after each of the two rules runs
    events = event_rows(world.engine, datetime.now(UTC))
    assert {"幸福社区", "明珠社区"} <= set(events["community"]) and {GRID_A, GRID_B} <= set(events["grid"])
