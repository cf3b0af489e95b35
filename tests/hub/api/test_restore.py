"""G18: a backup of the store restored into an empty database answers the API's questions the same.

The hub keeps no state outside the database except its key: consumers, hashed secrets, the published read
model and the audit chain all travel in a `pg_dump`. The test asks a fixed set of questions (profiles,
lineage, lists, searches by ID number, phone and name) of the original store, dumps it with pg_dump,
restores the dump with psql into a database created empty for it, opens the API on the copy with the same
key and asks again, with the same consumer's credentials and even with a token the original issued.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from hub.api import create_app
from hub.api.context import ApiContext
from hub.audit import verify
from hub.store import tables
from tests.conftest import PG_ADMIN_URL
from tests.hub.api.conftest import FusedDistrict, register

PLURAL = {"person": "persons", "house": "houses", "organization": "organizations"}
PER_TYPE = 10


def _schema_of(url: str) -> str:
    options = parse_qs(urlparse(url).query)["options"][0]
    return options.split("search_path=")[1]


def _questions(fused: FusedDistrict) -> list[tuple[str, str, dict[str, Any] | None]]:
    e = tables.pub_entity.c
    asked: list[tuple[str, str, dict[str, Any] | None]] = []
    with fused.hub.engine.connect() as conn:
        for entity_type, plural in PLURAL.items():
            ids = conn.execute(sa.select(e.entity_id).where(e.entity_type == entity_type, e.until.is_(None))
                               .order_by(e.entity_id).limit(PER_TYPE)).scalars().all()
            asked += [("GET", f"/api/v1/{plural}/{i}/profile", None) for i in ids]
            asked += [("GET", f"/api/v1/{plural}/{i}/lineage", None) for i in ids[:3]]
            asked.append(("GET", f"/api/v1/{plural}?limit=50", None))
    with (fused.manifest.truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        persons = [row for row in csv.DictReader(handle) if row["in_district"] == "True"][:PER_TYPE]
    for row in persons:
        asked.append(("POST", "/api/v1/persons/search", {"resident_id": row["resident_id"]}))
        asked.append(("POST", "/api/v1/persons/search", {"name": row["name"]}))
        if row.get("phone"):
            asked.append(("POST", "/api/v1/persons/search", {"phone": row["phone"]}))
    return asked


def _answers(client: TestClient, headers: dict[str, str],
             asked: list[tuple[str, str, dict[str, Any] | None]]) -> list[tuple[int, Any]]:
    out = []
    for method, path, body in asked:
        response = client.request(method, path, headers=headers, json=body, follow_redirects=False)
        out.append((response.status_code, response.json()))
    return out


@contextmanager
def restored_copy(fused: FusedDistrict) -> Iterator[str]:
    """The fused store as it is now, dumped by pg_dump and restored by psql into a new, empty database."""
    if shutil.which("pg_dump") is None or shutil.which("psql") is None:
        pytest.fail("pg_dump and psql are needed (Debian: postgresql-client)")
    source = make_url(PG_ADMIN_URL)
    schema = _schema_of(fused.settings.database_url)
    database = f"hub_restore_{uuid.uuid4().hex[:10]}"
    conn_args = ["-h", source.host or "127.0.0.1", "-p", str(source.port or 5432), "-U", source.username or "postgres"]
    dump = subprocess.run(["pg_dump", *conn_args, "--no-owner", "--schema", schema, source.database or "test"],
                          check=True, capture_output=True).stdout
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        subprocess.run(["psql", *conn_args, "-q", "-v", "ON_ERROR_STOP=1", "-d", database], input=dump,
                       check=True, capture_output=True)
        url = source.set(database=database).render_as_string(hide_password=False)
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.reliability("G18")
def test_a_restored_backup_answers_the_same(fused: FusedDistrict, record_property: pytest.RecordProperty) -> None:
    if fused.backend != "postgres":
        pytest.skip("a PostgreSQL backup and restore")
    consumer = register(fused, "highly_sensitive")
    asked = _questions(fused)
    with TestClient(fused.app, raise_server_exceptions=False) as client:
        original_token = consumer.token(client)
        before = _answers(client, original_token, asked)
    with restored_copy(fused) as restored_url:
        settings = fused.settings.model_copy(update={"database_url": restored_url})
        context = ApiContext.open(settings)
        try:
            app = create_app(settings, context)
            with TestClient(app, raise_server_exceptions=False) as client:
                fresh_token = consumer.token(client)
                after_old_token = _answers(client, original_token, asked)
                after = _answers(client, fresh_token, asked)
            chain = verify(context.engine, context.keys)
        finally:
            context.close()
    differing = sum(a != b for a, b in zip(before, after, strict=True))
    differing_old_token = sum(a != b for a, b in zip(before, after_old_token, strict=True))
    record_property("questions asked", len(asked))
    record_property("answers differing after restore", differing + differing_old_token)
    assert all(status == 200 for status, _ in before), [s for s, _ in before]
    assert differing == 0 and differing_old_token == 0
    assert chain.ok, chain
