"""End to end over the fused demo district: tokens, reads by id, profiles, search, lists, lineage, audit rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub import audit
from hub.publish import current_version
from hub.store import tables
from schemas.views import EntityView, HouseProfile, OrganizationProfile, PersonProfile
from tests.hub.api.conftest import Consumer, FusedDistrict, register


@pytest.fixture
def sensitive(fused: FusedDistrict) -> Consumer:
    return register(fused, "sensitive")


def _ids(fused: FusedDistrict, entity_type: str, limit: int = 5) -> list[str]:
    e = tables.pub_entity.c
    with fused.hub.engine.connect() as conn:
        return list(conn.execute(sa.select(e.entity_id).where(e.entity_type == entity_type, e.state == "active",
                                                              e.until.is_(None))
                                 .order_by(e.records.desc(), e.entity_id).limit(limit)).scalars())


def _truth_person(fused: FusedDistrict) -> dict[str, str]:
    """A person of the truth with a resident ID and a phone, living in the district."""
    with (fused.manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["resident_id"] and row["phone"] and row["in_district"] == "True":
                return row
    raise AssertionError("the truth has no person with ID and phone")


def _last_audit(fused: FusedDistrict, actor: str) -> audit.AuditRow:
    return audit.query(fused.hub.engine, actor=actor, limit=1).rows[0]


def test_token_by_form_and_by_basic_and_refused_secrets(client: TestClient, sensitive: Consumer) -> None:
    form = {"grant_type": "client_credentials", "client_id": sensitive.client_id, "client_secret": sensitive.secret}
    issued = client.post("/api/v1/token", data=form)
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    assert issued.json()["token_type"] == "Bearer" and 0 < issued.json()["expires_in"] <= 900
    basic = client.post("/api/v1/token", data={"grant_type": "client_credentials"},
                        auth=(sensitive.client_id, sensitive.secret))
    assert basic.status_code == 200
    wrong = client.post("/api/v1/token", data={**form, "client_secret": sensitive.secret + "x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_client"
    grant = client.post("/api/v1/token", data={**form, "grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["code"] == "unsupported_grant_type"
    garbled = client.post("/api/v1/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": "Basic not-base64!"})
    assert garbled.status_code == 401 and garbled.json()["code"] == "invalid_client"
    missing = client.post("/api/v1/token", data={"client_id": sensitive.client_id})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.grant_type"


def test_requests_without_a_valid_token_are_401(client: TestClient, fused: FusedDistrict) -> None:
    person = _ids(fused, "person", 1)[0]
    none = client.get(f"/api/v1/persons/{person}")
    assert none.status_code == 401 and none.json()["code"] == "missing_token"
    assert none.headers["www-authenticate"].startswith("Bearer")
    forged = client.get(f"/api/v1/persons/{person}", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_token"
    basic = client.get(f"/api/v1/persons/{person}", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401 and basic.json()["code"] == "invalid_token"


def _published(fused: FusedDistrict) -> int:
    with fused.hub.engine.connect() as conn:
        version = current_version(conn)
    assert version is not None
    return version


def test_reads_by_id_profiles_and_lineage(client: TestClient, fused: FusedDistrict, sensitive: Consumer) -> None:
    headers = sensitive.token(client)
    for plural, entity_type in (("persons", "person"), ("houses", "house"), ("organizations", "organization"),
                                ("things", "thing")):
        for entity_id in _ids(fused, entity_type, 2):
            view = client.get(f"/api/v1/{plural}/{entity_id}", headers=headers)
            assert view.status_code == 200, view.text
            assert view.json()["id"] == entity_id and view.json()["entity_type"] == entity_type
            assert view.headers["X-Hub-Publication"] == str(_published(fused))
            assert "disclosed" not in view.json()
            lineage = client.get(f"/api/v1/{plural}/{entity_id}/lineage", headers=headers)
            assert lineage.status_code == 200 and lineage.json()["entity_id"] == entity_id
            assert {c["attribute"] for c in lineage.json()["claims"]} <= set(view.json()["values"])
            if entity_type != "thing":
                profile = client.get(f"/api/v1/{plural}/{entity_id}/profile", headers=headers)
                assert profile.status_code == 200 and profile.json()[entity_type]["id"] == entity_id
    person = _ids(fused, "person", 1)[0]
    only_phone = client.get(f"/api/v1/persons/{person}/lineage?attribute=phone", headers=headers).json()
    assert {c["attribute"] for c in only_phone["claims"]} <= {"phone"}
    profile = client.get(f"/api/v1/persons/{person}/profile", headers=headers).json()
    assert profile["houses"], "the best-documented person lives somewhere"


def test_a_read_is_audited_with_what_it_disclosed(client: TestClient, fused: FusedDistrict) -> None:
    internal = register(fused, "internal")
    person = _ids(fused, "person", 1)[0]
    response = client.get(f"/api/v1/persons/{person}/profile", headers=internal.token(client))
    assert response.status_code == 200
    row = _last_audit(fused, internal.client_id)
    assert row.action == "GET /api/v1/persons/{entity_id}/profile" and row.status == 200
    assert row.role == "consumer" and row.purpose == "测试用途"
    house_ids = {h["id"] for h in response.json()["houses"]}
    assert person in row.entity_ids and house_ids <= set(row.entity_ids)
    assert row.fields["person.phone"] == "masked" and row.fields["person.name"] == "clear"
    assert audit.verify(fused.hub.engine, fused.context.keys).ok


def test_search_by_name_id_phone_and_address(client: TestClient, fused: FusedDistrict) -> None:
    cleared = register(fused, "highly_sensitive")
    headers = cleared.token(client)
    truth = _truth_person(fused)

    def search(body: dict[str, Any], path: str = "/api/v1/persons/search") -> list[dict[str, Any]]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    by_id = search({"resident_id": truth["resident_id"]})
    assert len(by_id) == 1
    found = client.get(f"/api/v1/persons/{by_id[0]['id']}", headers=headers).json()["values"]["resident_id"]
    same_id = found["value"] == truth["resident_id"]      # compared aside: a failure must not print the clear ID
    assert same_id and found["mode"] == "clear"
    by_phone = search({"phone": truth["phone"]})
    assert by_id[0]["id"] in {hit["id"] for hit in by_phone}
    by_name = search({"name": truth["name"]})
    assert by_id[0]["id"] in {hit["id"] for hit in by_name}
    assert by_name == sorted(by_name, key=lambda hit: -hit["score"])
    house = client.get(f"/api/v1/houses/{_ids(fused, 'house', 1)[0]}", headers=headers).json()
    address = house["values"]["address"]["value"]
    assert house["id"] in {hit["id"] for hit in search({"address": address}, "/api/v1/houses/search")}
    row = _last_audit(fused, cleared.client_id)
    assert row.action == "POST /api/v1/houses/search" and row.detail is not None
    assert row.detail["given"] == ["address", "limit"] and row.detail["results"] >= 1


def test_search_problems_name_the_field(client: TestClient, sensitive: Consumer) -> None:
    headers = sensitive.token(client)
    empty = client.post("/api/v1/persons/search", json={}, headers=headers)
    assert empty.status_code == 422 and "at least one of" in empty.json()["errors"][0]["message"]
    typo = client.post("/api/v1/persons/search", json={"id_number": "650102199001011234"}, headers=headers)
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "body.id_number"
    assert "650102199001011234" not in typo.text
    bad_id = client.post("/api/v1/persons/search", json={"resident_id": "6501021990010112"}, headers=headers)
    assert bad_id.status_code == 400 and bad_id.json()["code"] == "invalid_query"
    assert "6501021990010112" not in bad_id.text
    in_url = client.get("/api/v1/persons?limit=0", headers=headers)
    assert in_url.status_code == 422 and in_url.json()["errors"][0]["field"] == "query.limit"


def test_lists_page_with_cursors(client: TestClient, sensitive: Consumer) -> None:
    headers = sensitive.token(client)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/houses", params=params, headers=headers).json()
        seen += [hit["id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        assert cursor
    assert len(seen) == len(set(seen)) == 21 and seen == sorted(seen)
    foreign = client.get("/api/v1/persons", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert foreign.status_code == 400 and foreign.json()["code"] == "invalid_query"


def test_publication_and_auditor_endpoints(client: TestClient, fused: FusedDistrict, sensitive: Consumer) -> None:
    headers = sensitive.token(client)
    publication = client.get("/api/v1/publication", headers=headers).json()
    assert publication["version"] >= 1 and publication["published_at"]
    refused = client.get("/api/v1/audit/log", headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    auditor = register(fused, "public", [], role="auditor")
    auditor_headers = auditor.token(client)
    log = client.get("/api/v1/audit/log", params={"actor": sensitive.client_id, "limit": 5},
                     headers=auditor_headers).json()
    assert log["rows"] and log["rows"][0]["status"] == 403 and log["rows"][0]["action"] == "GET /api/v1/audit/log"
    verified = client.get("/api/v1/audit/verify", headers=auditor_headers).json()
    assert verified["ok"] and verified["rows_checked"] > 0
    assert _last_audit(fused, auditor.client_id).action == "GET /api/v1/audit/verify"


@contextmanager
def _audit_refused(fused: FusedDistrict) -> Iterator[None]:
    """The store refuses audit rows for a while (a trigger): what a full disk or a broken log table does."""
    if fused.backend == "sqlite":
        setup = ["CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        teardown = ["DROP TRIGGER audit_refused"]
    else:
        setup = ["CREATE FUNCTION audit_refused() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                 "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log FOR EACH ROW "
                 "EXECUTE FUNCTION audit_refused()"]
        teardown = ["DROP TRIGGER audit_refused ON audit_log", "DROP FUNCTION audit_refused()"]
    with fused.hub.engine.begin() as conn:
        for statement in setup:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        with fused.hub.engine.begin() as conn:
            for statement in teardown:
                conn.exec_driver_sql(statement)


def test_a_read_whose_audit_row_cannot_be_written_returns_nothing(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "highly_sensitive")
    headers = consumer.token(client)
    person = _ids(fused, "person", 1)[0]
    before = audit.verify(fused.hub.engine, fused.context.keys)
    with _audit_refused(fused):
        failed = client.get(f"/api/v1/persons/{person}/profile", headers=headers)
        searched = client.post("/api/v1/persons/search", json={"name": "王"}, headers=headers)
    for response in (failed, searched):
        assert response.status_code == 500 and response.json()["code"] == "internal_error"
        assert set(response.json()) == {"type", "title", "status", "detail", "code", "instance", "incident"}
    assert audit.query(fused.hub.engine, actor=consumer.client_id, limit=5).rows == []
    after = audit.verify(fused.hub.engine, fused.context.keys)
    assert after.ok and after.head_seq == before.head_seq
    assert client.get(f"/api/v1/persons/{person}/profile", headers=headers).status_code == 200


def test_profiles_are_the_bytes_their_validated_models_give(client: TestClient, fused: FusedDistrict,
                                                            sensitive: Consumer) -> None:
    """The views build values and relations without revalidating them (model_construct): the answer must be,
    byte for byte, what the same models give when every part is validated."""
    cleared = register(fused, "highly_sensitive")
    for consumer in (sensitive, cleared):
        headers = consumer.token(client)
        for plural, entity_type, model in (("persons", "person", PersonProfile), ("houses", "house", HouseProfile),
                                           ("organizations", "organization", OrganizationProfile)):
            for entity_id in _ids(fused, entity_type, 5):
                for path, kind in ((f"/api/v1/{plural}/{entity_id}/profile", model),
                                   (f"/api/v1/{plural}/{entity_id}", EntityView)):
                    body = client.get(path, headers=headers).content
                    assert kind.model_validate_json(body).model_dump_json().encode() == body, path
