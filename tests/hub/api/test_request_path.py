"""The request path's shortcuts keep its guarantees: the admission cache honours a revocation within its TTL,
a tentative version that is no longer the latest is read again, and concurrent reads whose audit rows share
one commit (group commit on PostgreSQL) are each audited before they are answered."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub import audit
from hub.access.consumers import revoke
from hub.api.gateway import ADMISSION_TTL
from hub.store import tables
from tests.hub.api.conftest import FusedDistrict, register


def _persons(fused: FusedDistrict, limit: int) -> list[str]:
    e = tables.pub_entity.c
    with fused.hub.engine.connect() as conn:
        return list(conn.execute(sa.select(e.entity_id).where(e.entity_type == "person", e.state == "active",
                                                              e.until.is_(None)).order_by(e.entity_id)
                                 .limit(limit)).scalars())


def _published(fused: FusedDistrict) -> int:
    p = tables.publication.c
    with fused.hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(p.version)).where(p.state == "published")).scalar_one())


def test_a_revoked_credential_is_refused_within_the_admission_ttl(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "internal")
    headers = consumer.token(client)
    person = _persons(fused, 1)[0]
    assert client.get(f"/api/v1/persons/{person}", headers=headers).status_code == 200     # admitted, cached
    revoke(fused.hub.engine, consumer.client_id)
    time.sleep(ADMISSION_TTL + 0.1)
    refused = client.get(f"/api/v1/persons/{person}", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"


def test_a_tentative_version_no_longer_published_is_read_again(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "internal")
    headers = consumer.token(client)
    person = _persons(fused, 1)[0]
    assert client.get(f"/api/v1/persons/{person}/profile", headers=headers).status_code == 200
    gateway = fused.context.gateway
    published = _published(fused)
    gateway._version = published + 1        # as if this worker had seen a version that is not (or no longer) there
    again = client.get(f"/api/v1/persons/{person}/profile", headers=headers)
    assert again.status_code == 200 and again.headers["X-Hub-Publication"] == str(published)
    assert gateway._version == published
    rows = audit.query(fused.hub.engine, actor=consumer.client_id, limit=10).rows
    assert [r.status for r in rows] == [200, 200], "the discarded read wrote no audit row"


def test_concurrent_reads_are_each_audited_before_they_are_answered(client: TestClient, fused: FusedDistrict) -> None:
    consumer = register(fused, "sensitive")
    headers = consumer.token(client)
    persons = _persons(fused, 8)
    paths = [f"/api/v1/persons/{p}/profile" for p in persons] * 6

    def read(path: str) -> int:
        response = client.get(path, headers=headers)
        # answered only once its row is committed: it is there as soon as the response is
        found = audit.query(fused.hub.engine, actor=consumer.client_id, limit=1000).rows
        assert any(path.split("/")[4] in r.entity_ids for r in found)
        return response.status_code

    with ThreadPoolExecutor(16) as pool:      # the test client's one event loop serves them concurrently
        statuses = list(pool.map(read, paths))
    assert statuses == [200] * len(paths)
    rows = audit.query(fused.hub.engine, actor=consumer.client_id, limit=1000).rows
    assert len(rows) == len(paths)
    audit.seal(fused.hub.engine, fused.context.keys)
    assert audit.verify(fused.hub.engine, fused.context.keys).ok
