"""Locating a new source: a database table or query, and an API endpoint probed for its paging and changes."""

from __future__ import annotations

import pytest

from connectors.connection import Connection
from hub.demo import DemoManifest, running_property_api
from hub.demo.renshe import INSURED_QUERY
from hub.errors import ConfigurationError
from hub.onboard import locate_http, locate_sql, suggest_mapping


def test_a_table_gives_its_primary_key_and_a_cursor(district: DemoManifest) -> None:
    ref = locate_sql(Connection.from_value(district.gongan_url), connection_name="gongan", table="RK_SYRK")
    assert ref.keys == ["RYBH"]
    draft = suggest_mapping(ref, ref.sample(300), district_code="650102")
    assert draft.connector == {"kind": "sql", "connection": "gongan",
                               "settings": {"table": "RK_SYRK", "cursor": "GXSJ", "key": ["RYBH"]}}
    assert draft.record_id == ["RYBH"] and draft.department == "public_security"
    assert ("person", "resides_at", "house") in draft.triples


def test_a_query_over_two_tables_gives_person_employer_and_insurance(district: DemoManifest) -> None:
    ref = locate_sql(Connection.from_value(district.renshe_url), connection_name="renshe", query=INSURED_QUERY)
    draft = suggest_mapping(ref, ref.sample(300), source_id="renshe_insured")
    assert draft.record_id == ["AAC001"] and draft.connector["settings"]["cursor"] == "AAE036"
    insurance = draft.entity("insurance")
    assert insurance is not None
    fields = {f.attribute: f.spec for f in insurance.fields}
    assert fields == {"situation_type": {"const": "insured"}, "status": {"column": "AAC008", "map": "jinbao_status"},
                      "amount": {"column": "AAE180"}}     # 缴费基数, as mappings/renshe_insured.yaml reads it
    assert ("person", "employed_by", "employer") in draft.triples
    with pytest.raises(ConfigurationError, match="a table or a query"):
        locate_sql(Connection.from_value(district.renshe_url), connection_name="renshe")


def test_an_endpoint_is_probed_for_records_paging_auth_and_changes(district: DemoManifest) -> None:
    with running_property_api(district.property_db, district.property_token) as base:
        connection = Connection.from_value({"conn_type": "http", "uri": base, "token": district.property_token})
        ref = locate_http("/api/v1/residents?role=租户", connection=connection, connection_name="wuye")
        assert ref.settings == {
            "path": "/api/v1/residents", "params": {"role": "租户"}, "records_path": "data",
            "pagination": {"type": "page", "page_param": "page", "size_param": "page_size", "size": 500},
            "auth": {"type": "bearer"},
            "incremental": {"param": "modified_since", "field": "updated_at", "ordered": True},
        }
        draft = suggest_mapping(ref, ref.sample(200))
        assert ("person", "rents", "house") in draft.triples      # 租户 in the request: tenants rent
        assert draft.department == "property"
        with pytest.raises(ConfigurationError, match="401"):
            locate_http(f"{base}/api/v1/houses", connection=None, connection_name=None)
