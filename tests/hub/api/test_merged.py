"""A merged id answers 308 to its survivor's URL (the reviewer decided two persons are one)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub import audit
from hub.api import create_app
from hub.api.context import ApiContext
from hub.pipeline import resolve
from hub.resolve.review import judge
from hub.store import tables
from tests.hub.api.conftest import FusedDistrict, build_fused, register


def test_a_merged_id_redirects_to_its_survivor(tmp_path: Path) -> None:
    hub, manifest = build_fused(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, residents=300)
    e = tables.entity.c
    with hub.engine.connect() as conn:
        (a, a_record), (b, b_record) = conn.execute(
            sa.select(e.id, e.founding_record).where(e.entity_type == "person", e.state == "active")
            .order_by(e.id).limit(2)).all()
    judge(hub.engine, a_record, b_record, positive=True, who="tester", why="the same resident, one moved")
    resolve(hub)
    with hub.engine.connect() as conn:
        merged, survivor = conn.execute(sa.select(e.id, e.merged_into).where(e.id.in_([a, b]),
                                                                              e.state == "merged")).one()
    context = ApiContext.open(hub.settings)
    fused = FusedDistrict("sqlite", hub.settings, manifest, hub, context, create_app(hub.settings, context))
    consumer = register(fused, "internal")
    with TestClient(fused.app, follow_redirects=False) as client:
        headers = consumer.token(client)
        for suffix in ("", "/profile", "/lineage?attribute=name"):
            moved = client.get(f"/api/v1/persons/{merged}{suffix}", headers=headers)
            assert moved.status_code == 308 and moved.headers["location"] == f"/api/v1/persons/{survivor}{suffix}"
            assert moved.headers["X-Hub-Publication"].isdigit()
            followed = client.get(moved.headers["location"], headers=headers)
            assert followed.status_code == 200
        row = audit.query(hub.engine, actor=consumer.client_id, limit=10).rows[-1]
        assert row.status == 308 and set(row.entity_ids) == {merged, survivor}
    context.close()
    hub.engine.dispose()
