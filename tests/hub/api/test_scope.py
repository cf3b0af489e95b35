"""G8: requests outside a consumer's grant — another community, another entity type, another purpose's fields,
guessed ids — answer 403 or 404 with no data, and each refusal is in the audit log."""

from __future__ import annotations

import csv
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response

from hub import audit
from hub.api.models import ENTITY_ID_PATTERN
from hub.store import tables
from tests.hub.api.conftest import Consumer, FusedDistrict, register

ENTITY_ID = re.compile(ENTITY_ID_PATTERN)
PLURAL = {"person": "persons", "house": "houses", "organization": "organizations", "thing": "things"}


def _entities(fused: FusedDistrict, entity_type: str, *, scoped: bool | None = None, limit: int = 4) -> list[str]:
    """Active entities of a type; `scoped`: only those with (True) or without (False) a community."""
    e, s = tables.pub_entity.c, tables.pub_scope.c
    has_scope = sa.exists(sa.select(1).where(s.entity_id == e.entity_id, s.until.is_(None)))
    query = sa.select(e.entity_id).where(e.entity_type == entity_type, e.state == "active", e.until.is_(None))
    if scoped is not None:
        query = query.where(has_scope if scoped else ~has_scope)
    with fused.hub.engine.connect() as conn:
        return list(conn.execute(query.order_by(e.records.desc(), e.entity_id).limit(limit)).scalars())


def _community(fused: FusedDistrict) -> str:
    s = tables.pub_scope.c
    with fused.hub.engine.connect() as conn:
        return str(conn.execute(sa.select(s.place_id).where(s.until.is_(None), s.place_type == "community")
                                .group_by(s.place_id).order_by(sa.func.count().desc()).limit(1)).scalar_one())


def _neighbour(fused: FusedDistrict) -> str:
    """A community of the district's street that holds none of the demo's entities (a neighbouring 社区's app)."""
    p = tables.place.c
    name = f"邻近社区{uuid.uuid4().hex[:6]}"
    with fused.hub.engine.begin() as conn:
        district = conn.execute(sa.select(p.id).where(p.place_type == "district")).scalars().first()
        conn.execute(tables.place.insert().values(id=f"PL-{secrets.token_hex(8)}", place_type="community", name=name,
                                                  code=None, parent_id=district, house_id=None, run_id="test-g8"))
    return name


def _resident_ids(fused: FusedDistrict) -> list[str]:
    with (fused.manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        return [row["resident_id"] for row in csv.DictReader(handle) if row["resident_id"]][:3]


class Probe:
    """Requests that must be refused or come back empty, and what the audit log says about them."""

    def __init__(self, client: TestClient, fused: FusedDistrict, consumer: Consumer):
        self.client, self.fused, self.consumer = client, fused, consumer
        self.headers = consumer.token(client)
        self.refused: list[tuple[int, str]] = []
        self.with_data: list[str] = []

    def refused_read(self, path: str, statuses: tuple[int, ...] = (403, 404)) -> Response:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code in statuses, (path, response.status_code, response.text[:200])
        body = response.json()
        if set(body) - {"type", "title", "status", "detail", "code", "instance"}:
            self.with_data.append(path)
        self.refused.append((response.status_code, path))
        return response

    def empty(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        response = self.client.request(method, path, json=body, headers=self.headers)
        assert response.status_code == 200, (path, response.text[:200])
        if response.json()["items"]:
            self.with_data.append(f"{method} {path}")

    def unaudited(self) -> int:
        """Refusals without their audit row: same status, and naming the id that was asked for."""
        rows = audit.query(self.fused.hub.engine, actor=self.consumer.client_id, limit=1000).rows
        logged = [(row.status, row.entity_ids) for row in rows if row.status in (403, 404)]
        missing = 0
        for status, path in self.refused:
            segments = path.split("?")[0].split("/")
            asked = [segments[4]] if len(segments) > 4 and ENTITY_ID.match(segments[4]) else []
            if (status, asked) in logged:
                logged.remove((status, asked))
            else:
                missing += 1
        return missing


def _by_id_paths(entity_type: str, entity_id: str) -> list[str]:
    plural = PLURAL[entity_type]
    paths = [f"/api/v1/{plural}/{entity_id}", f"/api/v1/{plural}/{entity_id}/lineage"]
    return paths + ([f"/api/v1/{plural}/{entity_id}/profile"] if entity_type != "thing" else [])


@pytest.mark.reliability("G8")
def test_another_community_sees_nothing(client: TestClient, fused: FusedDistrict,
                                        record_property: Callable[[str, object], None]) -> None:
    probe = Probe(client, fused, register(fused, "highly_sensitive", scope=[_neighbour(fused)]))
    for entity_type in PLURAL:
        for entity_id in _entities(fused, entity_type):
            for path in _by_id_paths(entity_type, entity_id):
                assert probe.refused_read(path).json()["code"] == "not_found"
    for resident_id in _resident_ids(fused):
        probe.empty("POST", "/api/v1/persons/search", {"resident_id": resident_id})
    for plural in ("persons", "houses", "organizations"):
        probe.empty("GET", f"/api/v1/{plural}?limit=200")
    probe.empty("POST", "/api/v1/houses/search", {"address": "小区"})
    unaudited = probe.unaudited()
    record_property("requests", len(probe.refused) + 7)
    record_property("out-of-scope answers with data", len(probe.with_data))
    record_property("refusals not audited", unaudited)
    assert not probe.with_data and unaudited == 0


@pytest.mark.reliability("G8")
def test_a_community_scope_hides_entities_outside_it(client: TestClient, fused: FusedDistrict,
                                                     record_property: Callable[[str, object], None]) -> None:
    community = _community(fused)
    probe = Probe(client, fused, register(fused, "internal", scope=[community]))
    outside = [(t, i) for t in ("person", "organization") for i in _entities(fused, t, scoped=False)]
    assert outside, "the demo has entities without a community (organizations: no premises place)"
    for entity_type, entity_id in outside:
        for path in _by_id_paths(entity_type, entity_id):
            probe.refused_read(path, (404,))
    inside = _entities(fused, "person", scoped=True, limit=1)[0]
    assert client.get(f"/api/v1/persons/{inside}", headers=probe.headers).status_code == 200
    listed = client.get("/api/v1/persons?limit=200", headers=probe.headers).json()["items"]
    s = tables.pub_scope.c
    with fused.hub.engine.connect() as conn:
        in_scope = set(conn.execute(sa.select(s.entity_id).where(s.place_id == community, s.until.is_(None)))
                       .scalars())
    strays = [hit["id"] for hit in listed if hit["id"] not in in_scope]
    unaudited = probe.unaudited()
    record_property("requests", len(probe.refused) + 2)
    record_property("out-of-scope answers with data", len(probe.with_data) + len(strays))
    record_property("refusals not audited", unaudited)
    assert listed and not strays and not probe.with_data and unaudited == 0


@pytest.mark.reliability("G8")
def test_other_types_other_fields_and_guessed_ids(client: TestClient, fused: FusedDistrict,
                                                  record_property: Callable[[str, object], None]) -> None:
    houses_only = Probe(client, fused, register(fused, "highly_sensitive", ["house"]))
    person = _entities(fused, "person", limit=1)[0]
    for path in _by_id_paths("person", person):
        assert houses_only.refused_read(path, (403,)).json()["code"] == "type_not_allowed"
    assert houses_only.refused_read("/api/v1/persons?limit=5", (403,)).json()["code"] == "type_not_allowed"
    searched = client.post("/api/v1/persons/search", json={"name": "王"}, headers=houses_only.headers)
    assert searched.status_code == 403 and "items" not in searched.json()
    houses_only.refused.append((403, "/api/v1/persons/search"))
    for path in _by_id_paths("house", person):                 # a person's id on the houses' path
        houses_only.refused_read(path, (404,))
    for _ in range(10):                                         # guessed, well-formed ids
        houses_only.refused_read(f"/api/v1/houses/H-{secrets.token_hex(8)}", (404,))
    malformed = client.get("/api/v1/houses/H-1' OR '1'='1", headers=houses_only.headers)
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "path.entity_id"

    # a purpose that needs names and genders only: nothing else comes back, nor can be searched by
    names_only = Probe(client, fused, register(fused, "highly_sensitive", ["person"],
                                               fields={"person": ["name", "gender"]}))
    view = client.get(f"/api/v1/persons/{person}", headers=names_only.headers).json()
    lineage = client.get(f"/api/v1/persons/{person}/lineage", headers=names_only.headers).json()
    extra_fields = (set(view["values"]) | {c["attribute"] for c in lineage["claims"]}) - {"name", "gender"}
    by_phone = client.post("/api/v1/persons/search", json={"phone": "13800138000"}, headers=names_only.headers)
    assert by_phone.status_code == 400 and by_phone.json()["code"] == "invalid_query"
    unaudited = houses_only.unaudited()
    record_property("requests", len(houses_only.refused) + 4)
    record_property("out-of-scope answers with data", len(houses_only.with_data) + len(extra_fields))
    record_property("refusals not audited", unaudited)
    assert not houses_only.with_data and not extra_fields and unaudited == 0
