"""Collect once, use many, on a fused demo district (SQLite and PostgreSQL), through the API.

Prefill masks by clearance (the one masking function); consumer A writes back a value the hub lacked and one
that contradicts a department's; after the next fusion run consumer B's prefill serves the first with its
lineage (grid collection, 网格, when), and the second shows up as a conflict while the department's value
stays golden.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

import schemas
from hub.access.policy import Policy
from hub.forms import prefill
from hub.forms.served import served_shares
from hub.forms.writeback import hub_forms
from hub.pipeline import resolve
from hub.store import tables
from hub.views import open_reader
from tests.hub.api.conftest import ALL_TYPES, FusedDistrict, register

WITH_SITUATIONS = (*ALL_TYPES, "situation")
FULL = Policy(actor="test", role="operator", purpose="测试", clearance=schemas.Sensitivity.highly_sensitive,
              entity_types=frozenset(schemas.entity_types()))


def _person(district: FusedDistrict, form_id: str, wanted: str | None, filled: tuple[str, ...] = ("name", "id_number",
            "hukou_address", "address")) -> tuple[str, dict[str, dict[str, object]]]:
    """A person whose prefill of the form (all seen) fills the `filled` fields and lacks `wanted` (None: any)."""
    form = hub_forms(district.settings).get(form_id)
    g = tables.golden_value.c
    with district.hub.engine.connect() as conn:
        ids = [row[0] for row in conn.execute(sa.select(g.entity_id).where(
            g.entity_type == "person", g.attribute == "birth_date").order_by(g.entity_id))]
        reader = open_reader(conn, district.hub.vault)
        for entity_id in ids:
            found = prefill(reader, FULL, form, entity_id)
            if found is None or not hasattr(found, "fields"):
                continue
            fields = {f.key: f.model_dump(mode="json") for f in found.fields}
            if (wanted is None or wanted in found.to_collect) and all(fields[k]["status"] == "filled"
                                                                      for k in filled):
                return entity_id, fields
    raise AssertionError("no person fits")


def _prefill(client: TestClient, headers: dict[str, str], form: str, entity_id: str) -> dict[str, dict[str, object]]:
    response = client.get(f"/api/v1/forms/{form}/persons/{entity_id}", headers=headers)
    assert response.status_code == 200, response.text
    return {f["key"]: f for f in response.json()["fields"]}


def test_prefill_is_masked_by_clearance_and_audited(district: FusedDistrict) -> None:
    entity_id, full = _person(district, "floating_registration", "education")
    with TestClient(district.app, raise_server_exceptions=False) as client:
        seen = {level: _prefill(client, register(district, level).token(client), "floating_registration", entity_id)
                for level in ("public", "internal", "highly_sensitive")}
        listed = client.get("/api/v1/forms", headers=register(district, "public").token(client))
    assert {f["id"] for f in listed.json()} >= {"elderly_allowance", "floating_registration", "disability_allowance"}
    real_id = str(full["id_number"]["value"])
    assert seen["highly_sensitive"]["id_number"] == {**full["id_number"]}
    for level in ("public", "internal"):
        shown = seen[level]["id_number"]
        assert shown["mode"] == "masked" and shown["value"] != real_id and str(shown["value"]).endswith(real_id[-4:])
        assert shown["department"] == "public_security" and shown["as_of"] is not None
    assert seen["public"]["name"]["mode"] == "masked" and seen["internal"]["name"]["mode"] == "clear"
    assert seen["internal"]["ethnicity"]["status"] in ("withheld", "to_collect")   # sensitive: never in clear
    assert seen["highly_sensitive"]["education"]["status"] == "to_collect"
    with district.hub.engine.connect() as conn:
        a = tables.audit_log.c
        rows = conn.execute(sa.select(a.status, a.fields).where(
            a.action == "GET /api/v1/forms/{form_id}/persons/{entity_id}")).all()
    assert len(rows) >= 3 and all(row.status == 200 for row in rows)
    assert any("person.resident_id" in str(row.fields) and "masked" in str(row.fields) for row in rows)
    assert real_id not in json.dumps([str(row.fields) for row in rows])


def test_situation_fields_need_the_clearance_of_the_situation(district: FusedDistrict) -> None:
    entity_id, full = _person(district, "disability_allowance", None, ("name", "disability_level", "disability_status"))
    with TestClient(district.app, raise_server_exceptions=False) as client:
        internal = _prefill(client, register(district, "internal", WITH_SITUATIONS).token(client),
                            "disability_allowance", entity_id)
        sensitive = _prefill(client, register(district, "sensitive", WITH_SITUATIONS).token(client),
                             "disability_allowance", entity_id)
        no_type = _prefill(client, register(district, "highly_sensitive").token(client), "disability_allowance",
                           entity_id)
    for key in ("disability_level", "disability_status", "certificate_date"):   # applies_to is sensitive
        assert internal[key]["status"] == "withheld" and internal[key]["value"] is None
    assert sensitive["disability_level"] == full["disability_level"]
    assert sensitive["disability_level"]["department"] in ("disabled_persons_federation", "civil_affairs")
    assert internal["name"]["value"] == sensitive["name"]["value"] == full["name"]["value"]
    assert no_type["disability_level"]["status"] == "withheld"       # situations outside the grant


def test_collected_once_then_served_to_another_app_with_lineage_and_conflict(district: FusedDistrict) -> None:
    entity_id, before = _person(district, "floating_registration", "education")
    department_hukou = before["hukou_address"]["value"]
    contradicting = "新疆维吾尔自治区喀什地区喀什市人民路街道人民东路8号"
    with TestClient(district.app, raise_server_exceptions=False) as client:
        a = register(district, "internal", writes=["floating_registration"]).token(client)
        sent = datetime.now(UTC)
        response = client.post("/api/v1/forms/floating_registration/submissions", headers=a, json={
            "subject_id": entity_id, "collector": "网格员 测试", "values": {"education": "大学本科",
                                                                      "hukou_address": contradicting}})
        assert response.status_code == 202, response.text
        receipt = response.json()
        assert receipt["gate"] == "published" and receipt["statements"] >= 1 and not receipt["published"]
        resolve(district.hub)                       # the next fusion run, as the fusion DAG would run it
        b = register(district, "sensitive").token(client)
        after = _prefill(client, b, "floating_registration", entity_id)
        lineage = client.get(f"/api/v1/persons/{entity_id}/lineage", headers=b, params={"attribute": "education"})
    education = after["education"]
    assert education["status"] == "filled" and education["value"] == "大学本科"
    assert education["source"] == "grid_collection" and education["department"] == "grid"
    assert datetime.fromisoformat(str(education["as_of"])) >= sent - timedelta(seconds=5)
    claims = lineage.json()["claims"]
    assert [(c["source"], c["department"], c["chosen"]) for c in claims] == [("grid_collection", "grid", True)]
    assert claims[0]["record_key"].startswith(f"grid_collection|{receipt['submission_id']}")
    assert after["hukou_address"]["value"] == department_hukou       # the department's value stays golden
    assert after["hukou_address"]["source"] != "grid_collection"
    with district.hub.engine.connect() as conn:
        c = tables.conflict.c
        conflict = conn.execute(sa.select(c.sources, c.distinct_values).where(
            c.entity_id == entity_id, c.attribute == "hukou_address")).one()
    assert "grid_collection" in conflict.sources and conflict.distinct_values >= 2


def test_share_served_per_form(district: FusedDistrict) -> None:
    with district.hub.engine.connect() as conn:
        shares = {s.form: s for s in served_shares(open_reader(conn, district.hub.vault),
                                                   hub_forms(district.settings).require_ok())}
    assert set(shares) == {"elderly_allowance", "floating_registration", "disability_allowance"}
    for share in shares.values():
        assert 0 < share.share <= 1 and share.persons > 0
        by_key = {f.key: f.filled for f in share.fields}
        assert share.persons >= by_key["name"] >= by_key["id_number"] > 0
    with district.hub.engine.connect() as conn:
        e = tables.entity.c
        everyone = conn.execute(sa.select(sa.func.count()).where(e.entity_type == "person",
                                                                 e.state == "active")).scalar()
    disability = shares["disability_allowance"]          # applicants: certificate holders only
    assert 0 < disability.persons < everyone
    assert {f.key: f.filled for f in disability.fields}["disability_level"] > disability.persons / 2


def test_cli_forms_list_and_prefill(district: FusedDistrict) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    entity_id, full = _person(district, "floating_registration", None)
    s = district.settings
    env = {"HUB_DATABASE_URL": s.database_url, "HUB_SECRET_KEY": s.secret_key.get_secret_value() if hasattr(
        s.secret_key, "get_secret_value") else str(s.secret_key), "HUB_HOME": str(s.home),
        "HUB_MAPPINGS_DIR": str(s.mappings_dir), "HUB_FORMS_DIR": str(s.forms_dir), "COLUMNS": "200"}
    listed = CliRunner().invoke(app, ["forms", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "Share of form fields served from the hub" in listed.output and "高龄津贴申请" in listed.output
    shown = CliRunner().invoke(app, ["forms", "prefill", "floating_registration", entity_id], env=env)
    assert shown.exit_code == 0, shown.output
    assert "served from the hub:" in shown.output and "public_security" in shown.output
    assert str(full["id_number"]["value"]) not in shown.output          # the operator sees ID numbers masked
    wrong = CliRunner().invoke(app, ["forms", "prefill", "no_such_form", entity_id], env=env)
    assert wrong.exit_code == 1 and "no form 'no_such_form'" in wrong.output


def test_a_submission_the_hub_cannot_take_is_refused_and_audited(district: FusedDistrict) -> None:
    entity_id, _ = _person(district, "floating_registration", None)
    with TestClient(district.app, raise_server_exceptions=False) as client:
        headers = register(district, "internal", writes=["floating_registration"]).token(client)

        def post(form: str, body: dict[str, object]) -> tuple[int, str]:
            response = client.post(f"/api/v1/forms/{form}/submissions", headers=headers, json=body)
            return response.status_code, response.json().get("code", "")

        assert post("floating_registration", {"subject_id": entity_id, "collector": "网格员",
                                              "values": {"shoe_size": "42"}}) == (400, "invalid_query")
        assert post("floating_registration", {"subject_id": entity_id, "collector": "网格员",
                                              "values": {"education": "本科\u0000"}}) == (400, "invalid_query")
        assert post("floating_registration", {"subject_id": "P-0000000000000000", "collector": "网格员",
                                              "values": {"education": "本科"}}) == (404, "not_found")
        assert post("no_such_form", {"collector": "网格员", "values": {"name": "张三"}}) == (404, "not_found")
        assert post("floating_registration", {"collector": "网格员", "values": {"education": "本科"}}) \
            == (400, "invalid_query")                                  # a new person needs a name
        houses_only = register(district, "internal", ("house",)).token(client)
        refused = client.post("/api/v1/forms/floating_registration/submissions", headers=houses_only,
                              json={"subject_id": entity_id, "collector": "网格员", "values": {"education": "本科"}})
        assert refused.status_code == 403
    with district.hub.engine.connect() as conn:
        a = tables.audit_log.c
        statuses = sorted(row.status for row in conn.execute(sa.select(a.status).where(
            a.action == "POST /api/v1/forms/{form_id}/submissions", a.status >= 400)))
    assert statuses.count(400) >= 3 and statuses.count(404) >= 2 and 403 in statuses


def test_writing_back_needs_a_write_grant_and_each_refusal_is_audited(district: FusedDistrict) -> None:
    entity_id, _ = _person(district, "floating_registration", None)
    reader = register(district, "internal")                                 # may read every form, write none
    education_only = register(district, "internal", writes=["floating_registration.education"])
    with district.hub.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(tables.raw_record).where(
            tables.raw_record.c.source == "grid_collection")).scalar_one()
    with TestClient(district.app, raise_server_exceptions=False) as client:
        def post(who: dict[str, str], values: dict[str, str]) -> tuple[int, str]:
            response = client.post("/api/v1/forms/floating_registration/submissions", headers=who,
                                   json={"subject_id": entity_id, "collector": "网格员", "values": values})
            return response.status_code, response.json().get("code", "")

        read_only, narrow = reader.token(client), education_only.token(client)
        assert client.get(f"/api/v1/forms/floating_registration/persons/{entity_id}",
                          headers=read_only).status_code == 200
        assert post(read_only, {"education": "本科"}) == (403, "write_not_allowed")
        assert post(narrow, {"education": "本科", "phone": "13899001122"}) == (403, "write_not_allowed")
        with district.hub.engine.connect() as conn:
            unchanged = conn.execute(sa.select(sa.func.count()).select_from(tables.raw_record).where(
                tables.raw_record.c.source == "grid_collection")).scalar_one()
        assert unchanged == before                                          # refused whole, nothing landed
        assert post(narrow, {"education": "本科"}) == (202, "")
    with district.hub.engine.connect() as conn:
        a = tables.audit_log.c
        rows = conn.execute(sa.select(a.actor, a.status, a.entity_ids).where(
            a.action == "POST /api/v1/forms/{form_id}/submissions",
            a.actor.in_([reader.client_id, education_only.client_id]))).all()
    assert sorted((row.actor == reader.client_id, row.status) for row in rows) == [(False, 202), (False, 403),
                                                                                   (True, 403)]
    assert all(entity_id in str(row.entity_ids) for row in rows)


def test_make_run_registers_the_demo_form_app_and_prefills_one_form(district: FusedDistrict) -> None:
    from hub.access.consumers import get_consumer
    from hub.cli_forms import DEMO_FORM_APP, forms_demo

    entity_id, _ = _person(district, "elderly_allowance", None)
    forms_demo(district.hub, entity_id)
    forms_demo(district.hub, entity_id)                          # a second `make run` registers nothing new
    app = get_consumer(district.hub.engine, DEMO_FORM_APP)
    with district.hub.engine.connect() as conn:
        a = tables.audit_log.c
        rows = conn.execute(sa.select(a.status, a.role).where(a.actor == app.id, a.action == "hub forms prefill")).all()
    assert [(row.status, row.role) for row in rows] == [(200, "consumer")] * 2
