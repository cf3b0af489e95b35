"""G7: every endpoint called as every kind of consumer over the fused district; no value above the caller's
clearance in any response.

Two searches over every response body: (1) every value the response marks `clear` (golden values, related
entities' values, lineage claims) must be of an attribute the caller's clearance covers, by the level
schemas/ declares; (2) the raw text must hold none of the truth's clear resident IDs and phones (a leak in a
label, a record key, a message) unless the caller is cleared for them, and no person's full name as a value
unless the caller is cleared for names.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import schemas
from hub.access.policy import CLAIM_KINDS
from hub.store import tables
from schemas import Sensitivity
from tests.hub.api.conftest import Consumer, FusedDistrict, register
from tests.reliability.clear_values import clear_hits, truth_values

PLURAL = {"person": "persons", "house": "houses", "organization": "organizations", "thing": "things"}
KINDS = ("public", "internal", "sensitive", "highly_sensitive", "auditor")
PER_TYPE = 4


def _sample(fused: FusedDistrict) -> dict[str, list[str]]:
    """The best-documented active entities of each type (most records: the most values to leak)."""
    e = tables.pub_entity.c
    out: dict[str, list[str]] = {}
    with fused.hub.engine.connect() as conn:
        for entity_type in PLURAL:
            out[entity_type] = list(conn.execute(
                sa.select(e.entity_id).where(e.entity_type == entity_type, e.state == "active", e.until.is_(None))
                .order_by(e.records.desc(), e.entity_id).limit(PER_TYPE)).scalars())
    return out


def _truth_persons(fused: FusedDistrict) -> list[dict[str, str]]:
    with (fused.manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["in_district"] == "True"]


def _requests(fused: FusedDistrict, sample: dict[str, list[str]], persons: list[dict[str, str]],
              ) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) of every endpoint of the API, over the sample."""
    for entity_type, ids in sample.items():
        plural = PLURAL[entity_type]
        for entity_id in ids:
            yield "GET", f"/api/v1/{plural}/{entity_id}", None
            yield "GET", f"/api/v1/{plural}/{entity_id}/lineage", None
            if entity_type != "thing":
                yield "GET", f"/api/v1/{plural}/{entity_id}/profile", None
        if entity_type != "thing":
            yield "GET", f"/api/v1/{plural}?limit=20", None
    for person in persons[:3]:
        yield "POST", "/api/v1/persons/search", {"resident_id": person["resident_id"]}
        yield "POST", "/api/v1/persons/search", {"phone": person["phone"]}
        yield "POST", "/api/v1/persons/search", {"name": person["name"]}
        yield "POST", "/api/v1/verify/resident", {"resident_id": person["resident_id"], "name": person["name"],
                                                  "community": "文化新村社区"}
        yield "POST", "/api/v1/verify/situation", {"resident_id": person["resident_id"], "situation": "insured"}
        yield "POST", "/api/v1/verify/tenure", {"resident_id": person["resident_id"], "address": "小区"}
    yield "POST", "/api/v1/verify/organization", {"credit_code": "91650102MA77XXXX0X"}
    yield "POST", "/api/v1/houses/search", {"address": "小区"}
    yield "POST", "/api/v1/organizations/search", {"name": "公司"}
    yield "GET", "/api/v1/publication", None
    yield "GET", "/api/v1/audit/log?limit=50", None
    yield "GET", "/api/v1/audit/verify", None


def _clear_values(body: Any) -> Iterator[tuple[str, str]]:
    """(entity type, attribute) of every value a response shows in clear."""
    if isinstance(body, dict):
        entity_type = body.get("entity_type")
        if isinstance(entity_type, str):
            for attribute, shown in (body.get("values") or {}).items():
                if shown.get("mode") == "clear" and shown.get("value") is not None:
                    yield entity_type, attribute
            for claim in body.get("claims") or []:
                if claim.get("mode") == "clear" and claim.get("value") is not None:
                    yield entity_type, claim["attribute"]
        for inner in body.values():
            yield from _clear_values(inner)
    elif isinstance(body, list):
        for inner in body:
            yield from _clear_values(inner)


def _strings(body: Any) -> Iterator[str]:
    if isinstance(body, str):
        yield body
    elif isinstance(body, dict):
        for inner in body.values():
            yield from _strings(inner)
    elif isinstance(body, list):
        for inner in body:
            yield from _strings(inner)


@pytest.mark.slow
@pytest.mark.reliability("G7")
def test_no_value_above_the_callers_clearance(client: TestClient, fused: FusedDistrict,
                                              record_property: Callable[[str, object], None]) -> None:
    consumers: dict[str, Consumer] = {
        kind: register(fused, "public", [], role="auditor") if kind == "auditor"
        else register(fused, kind, claims=CLAIM_KINDS)
        for kind in KINDS}
    sample = _sample(fused)
    persons = [p for p in _truth_persons(fused) if p["resident_id"] and p["phone"]]
    identifiers = truth_values(fused.manifest.truth_dir)
    names = {p["name"] for p in _truth_persons(fused) if len(p["name"]) >= 2}
    requests = list(_requests(fused, sample, persons))
    above: list[str] = []
    leaked: list[str] = []
    statuses: dict[int, int] = {}
    clear_seen = cleared_hits = 0
    for kind, consumer in consumers.items():
        clearance = Sensitivity.public if kind == "auditor" else Sensitivity(kind)
        headers = consumer.token(client)
        for method, path, body in requests:
            response = client.request(method, path, json=body, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, f"{kind} {method} {path}: {response.status_code}"
            data = response.json()
            for entity_type, attribute in _clear_values(data):
                clear_seen += 1
                spec = schemas.attribute_spec(entity_type, attribute)
                level = spec.sensitivity if spec is not None else Sensitivity.highly_sensitive
                if not clearance.covers(level):
                    above.append(f"{kind} {method} {path}: {entity_type}.{attribute} ({level.value}) in clear")
            found = clear_hits(identifiers, [response.text])
            if found and not clearance.covers(Sensitivity.sensitive):
                leaked.append(f"{kind} {method} {path}: a clear resident ID or phone")
            cleared_hits += bool(found)
            if not clearance.covers(Sensitivity.internal) and names & set(_strings(data)):
                leaked.append(f"{kind} {method} {path}: a person's full name")
    record_property("requests", sum(statuses.values()))
    record_property("values shown clear and checked", clear_seen)
    record_property("values above clearance", len(above) + len(leaked))
    assert not above, above[:10]
    assert not leaked, leaked[:10]
    assert statuses.get(200, 0) > len(requests) * 3, statuses    # the matrix read data, not only refusals
    assert clear_seen > 1000
    assert cleared_hits > 0, "the search for clear IDs and phones finds those a cleared consumer receives"
