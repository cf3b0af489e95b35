"""The events API for grid workers' apps, on each store: an app sees the open events of its worker's grid only,
moves only those (another grid's event answers 404, as an id out of scope), within its grant; every request,
refusals included, is in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub.access.consumers import add_consumer
from hub.api import create_app
from hub.api.context import ApiContext
from hub.events import run_events
from hub.pipeline import Hub, resolve
from hub.rules import run_rules
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.api.conftest import Consumer
from tests.hub.events.world import GRID_A, GRID_B, build_world, roster, toy_rules


@pytest.fixture
def apps(settings: HubSettings, tmp_path: Path) -> Iterator[tuple[Hub, TestClient, dict[str, Consumer]]]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    context = ApiContext.open(hub.settings)
    consumers = {}
    for name, types in (("w1", ["person", "house", "event"]), ("w2", ["event"]), ("other", ["event"]),
                        ("no_events", ["person"])):
        row, secret = add_consumer(hub.engine, context.keys, f"app-{name}", "网格员处置事件", "internal", types)
        consumers[name] = Consumer(row.id, secret.value)
    staffed = roster(consumers["w1"].client_id)
    staffed.grids[1].workers[0].consumer = consumers["w2"].client_id
    run_rules(hub.engine, hub.vault, toy_rules())
    run_events(hub.engine, hub.vault, staffed)
    assert hub.settings.grids_file is not None
    hub.settings.grids_file.parent.mkdir(parents=True, exist_ok=True)
    hub.settings.grids_file.write_text(staffed.model_dump_json(), encoding="utf-8")   # JSON is YAML too
    with TestClient(create_app(hub.settings, context), raise_server_exceptions=False) as client:
        yield hub, client, consumers
    context.close()
    hub.engine.dispose()


def test_a_worker_sees_and_moves_only_the_events_of_their_grid(apps: tuple[Hub, TestClient, dict[str, Consumer]]
                                                                ) -> None:
    hub, client, consumers = apps
    w1, w2 = consumers["w1"].token(client), consumers["w2"].token(client)
    mine = client.get("/api/v1/events", headers=w1)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert len(items) == 5 and {e["grid"] for e in items} == {GRID_A} and {e["worker_id"] for e in items} == {"W1"}
    theirs = client.get("/api/v1/events", headers=w2).json()["items"]
    assert {e["grid"] for e in theirs} == {GRID_B} and {e["kind"] for e in theirs} == {"unregistered_tenant", "repair"}

    other_grid = theirs[0]["id"]
    refused = client.post(f"/api/v1/events/{other_grid}", json={"state": "in_progress"}, headers=w1)
    assert refused.status_code == 404                          # as any id out of scope: absent
    own = items[0]["id"]
    assert client.post(f"/api/v1/events/{own}", json={"state": "resolved"}, headers=w1).status_code == 400
    started = client.post(f"/api/v1/events/{own}", json={"state": "in_progress", "note": "上门走访"}, headers=w1)
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    done = client.post(f"/api/v1/events/{own}", json={"state": "resolved", "note": "已通知民政停发"}, headers=w1)
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    assert client.post(f"/api/v1/events/{own}", json={"state": "closed", "note": "x"}, headers=w1).status_code == 422

    assert client.get("/api/v1/events", headers=consumers["other"].token(client)).status_code == 403   # no worker
    assert client.get("/api/v1/events", headers=consumers["no_events"].token(client)).status_code == 403  # no grant

    a = tables.audit_log.c
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(a.actor, a.action, a.status).where(a.action.like("% /api/v1/events%"))).all()
    by_w1 = [(action, status) for actor, action, status in rows if actor == consumers["w1"].client_id]
    assert ("GET /api/v1/events", 200) in by_w1 and ("POST /api/v1/events/{event_id}", 404) in by_w1
    posted = "POST /api/v1/events/{event_id}"
    assert (posted, 400) in by_w1 and by_w1.count((posted, 200)) == 2
    assert (consumers["other"].client_id, "GET /api/v1/events", 403) in rows
    s = tables.event_step.c
    with hub.engine.connect() as conn:
        steps = conn.execute(sa.select(s.state, s.by, s.note).where(s.event_id == own).order_by(s.id)).all()
    assert steps[-1] == ("resolved", consumers["w1"].client_id, "已通知民政停发")
