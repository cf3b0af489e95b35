"""The simulated property API over real HTTP: auth, pagination, modified_since, role filter."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.demo import DemoManifest, running_property_api


@pytest.fixture(scope="module")
def api(district: DemoManifest) -> Iterator[str]:
    with running_property_api(district.property_db, district.property_token) as url:
        yield url


def client(district: DemoManifest, api: str) -> httpx.Client:
    return httpx.Client(base_url=api, headers={"Authorization": f"Bearer {district.property_token}"}, timeout=10)


def all_pages(c: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = c.get(path, params={"page": page, "page_size": 100, **params}).raise_for_status().json()
        assert body["page"] == page and body["page_size"] == 100
        if not body["data"]:
            return rows, body["total"]
        rows += body["data"]
        page += 1


def db_count(district: DemoManifest, sql: str, *args: object) -> int:
    with sqlite3.connect(district.property_db) as con:
        return int(con.execute(sql, args).fetchone()[0])


def test_refuses_without_the_token(api: str) -> None:
    assert httpx.get(f"{api}/api/v1/houses").status_code == 401
    wrong = httpx.get(f"{api}/api/v1/residents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert "nope" not in wrong.text


@pytest.mark.parametrize("table", ["houses", "residents", "vehicles", "tickets"])
def test_pages_cover_every_row_once_in_order(district: DemoManifest, api: str, table: str) -> None:
    with client(district, api) as c:
        rows, total = all_pages(c, f"/api/v1/{table}")
    assert total == len(rows) == db_count(district, f"SELECT COUNT(*) FROM {table}")
    keys = [(r["updated_at"], r["id"]) for r in rows]
    assert keys == sorted(keys) and len({r["id"] for r in rows}) == len(rows)


def test_rows_name_their_house(district: DemoManifest, api: str) -> None:
    with client(district, api) as c:
        row = c.get("/api/v1/vehicles", params={"page_size": 1}).json()["data"][0]
    assert {"plate", "owner_name", "owner_phone", "house_id", "estate", "building", "unit", "room"} <= set(row)


def test_modified_since_keeps_later_rows(district: DemoManifest, api: str) -> None:
    with client(district, api) as c:
        first = c.get("/api/v1/tickets", params={"page_size": 1000}).json()["data"]
        since = first[len(first) // 2]["updated_at"]
        rows, total = all_pages(c, "/api/v1/tickets", modified_since=since)
        aware = c.get("/api/v1/tickets", params={"modified_since": since + "+08:00"}).json()["total"]
        utc = c.get("/api/v1/tickets", params={"modified_since": since + "Z"}).json()["total"]
        bad = c.get("/api/v1/tickets", params={"modified_since": "yesterday"})
    assert rows and all(r["updated_at"] >= since for r in rows)
    assert total == len(rows) == db_count(district, "SELECT COUNT(*) FROM tickets WHERE updated_at >= ?", since)
    assert aware == total and utc < total
    assert bad.status_code == 422


def test_role_filter_splits_owners_and_tenants(district: DemoManifest, api: str) -> None:
    with client(district, api) as c:
        owners = c.get("/api/v1/residents", params={"role": "业主"}).json()["total"]
        tenants = c.get("/api/v1/residents", params={"role": "租户"}).json()["total"]
        everyone = c.get("/api/v1/residents").json()["total"]
    assert owners == district.record_counts["wuye_owners"] and tenants == district.record_counts["wuye_tenants"]
    assert owners + tenants == everyone


def test_page_size_is_bounded(district: DemoManifest, api: str) -> None:
    with client(district, api) as c:
        assert c.get("/api/v1/houses", params={"page_size": 1001}).status_code == 422
        assert c.get("/api/v1/houses", params={"page": 0}).status_code == 422


def test_server_stops_cleanly(district: DemoManifest) -> None:
    with running_property_api(district.property_db, district.property_token) as url:
        assert httpx.get(f"{url}/api/v1/houses").status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v1/houses", timeout=2)


def test_the_total_follows_a_change_to_the_data(district: DemoManifest, tmp_path: Path) -> None:
    # Totals are counted once per filter and version of the file: a write must show in the next page.
    db = tmp_path / "wuye.db"
    shutil.copy(district.property_db, db)
    with running_property_api(db, district.property_token) as url, client(district, url) as c:
        before = c.get("/api/v1/vehicles", params={"page_size": 1}).json()["total"]
        assert c.get("/api/v1/vehicles", params={"page": 2, "page_size": 1}).json()["total"] == before
        with closing(sqlite3.connect(db)) as con, con:
            con.execute("DELETE FROM vehicles WHERE id = (SELECT MIN(id) FROM vehicles)")
        assert c.get("/api/v1/vehicles", params={"page_size": 1}).json()["total"] == before - 1
