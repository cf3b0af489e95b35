"""GET /api/v1/feed and /api/v1/webhooks over the fused district on each store: cursor paging in event order,
each consumer's types and scope, values masked like every read, every page audited."""

from __future__ import annotations

import csv

import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub import audit
from hub.store import tables
from tests.hub.api.conftest import ALL_TYPES, FusedDistrict, register
from tests.hub.api.test_scope import _community, _neighbour


def _pages(client: TestClient, headers: dict[str, str], limit: int, **params: object
           ) -> tuple[list[dict], int, str]:
    items: list[dict] = []
    cursor, requests = None, 0
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/feed", params=query, headers=headers)
        requests += 1
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["more"]:
            return items, requests, cursor


def _events(fused: FusedDistrict, where: sa.ColumnElement[bool] | None = None) -> list[int]:
    e = tables.change_event.c
    query = sa.select(e.id).order_by(e.id)
    if where is not None:
        query = query.where(where)
    with fused.hub.engine.connect() as conn:
        return [int(i) for i in conn.execute(query).scalars()]


def test_the_feed_pages_every_event_once_in_order_and_audits_each_page(client: TestClient,
                                                                          fused: FusedDistrict) -> None:
    consumer = register(fused, "internal")
    headers = consumer.token(client)
    items, requests, cursor = _pages(client, headers, 97)
    ids = [item["id"] for item in items]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert ids == _events(fused, tables.change_event.c.entity_type.in_(("person", "house", "organization", "thing")))
    assert {item["change"] for item in items} >= {"created"}
    last = client.get("/api/v1/feed", params={"cursor": cursor}, headers=headers).json()
    assert last["items"] == [] and not last["more"] and last["next_cursor"] == cursor    # poll again with it
    rows = audit.query(fused.hub.engine, actor=consumer.client_id, limit=1000).rows
    assert sum(row.action == "GET /api/v1/feed" for row in rows) == requests + 1
    bad = client.get("/api/v1/feed", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_query"


def test_a_consumer_sees_only_its_types_and_scope(client: TestClient, fused: FusedDistrict) -> None:
    persons = register(fused, "internal", ["person"])
    items, _, _ = _pages(client, persons.token(client), 500)
    assert items and {item["entity_type"] for item in items} == {"person"}

    community = _community(fused)
    scoped = register(fused, "internal", scope=[community])
    items, _, _ = _pages(client, scoped.token(client), 500)
    p = tables.change_event_place.c
    e = tables.change_event.c
    expected = _events(fused, e.id.in_(sa.select(p.event_id).where(p.place_id == community))
                       & e.entity_type.in_(ALL_TYPES))
    assert [item["id"] for item in items] == expected and 0 < len(expected) < len(_events(fused))

    outsider = register(fused, "highly_sensitive", scope=[_neighbour(fused)])
    items, _, _ = _pages(client, outsider.token(client), 500)
    assert items == []


def test_values_are_masked_to_the_clearance(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "internal", ["person"])
    response = client.get("/api/v1/feed", params={"limit": 200, "values": "true"}, headers=consumer.token(client))
    assert response.status_code == 200
    items = response.json()["items"]
    shown = [item["values"]["resident_id"] for item in items if item["values"] and "resident_id" in item["values"]]
    assert shown and all(v["mode"] == "masked" and "*" in v["value"] for v in shown)
    with (fused.manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        clear = [row["resident_id"] for row in csv.DictReader(handle) if row["resident_id"]]
    assert not any(number in response.text for number in clear)
    thin = client.get("/api/v1/feed", params={"limit": 5}, headers=consumer.token(client)).json()["items"]
    assert all(item["values"] is None for item in thin)


def test_a_consumer_registers_lists_and_removes_its_webhooks(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "internal")
    headers = consumer.token(client)
    refused = client.post("/api/v1/webhooks", json={"url": "http://192.0.2.7/hook"}, headers=headers)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_webhook_url"
    made = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=headers)
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    webhook_id = made.json()["id"]
    listed = client.get("/api/v1/webhooks", headers=headers).json()
    assert [w["id"] for w in listed] == [webhook_id] and "secret" not in listed[0]
    other = register(fused, "internal")
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=other.token(client)).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/webhooks", headers=headers).json()[0]["state"] == "removed"
    actions = [row.action for row in audit.query(fused.hub.engine, actor=consumer.client_id, limit=100).rows]
    assert "POST /api/v1/webhooks" in actions and "DELETE /api/v1/webhooks/{webhook_id}" in actions
