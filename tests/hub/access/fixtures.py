"""Fixtures of the access and audit tests: a hub on each store, its access keys, and places to scope to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hub.access import AccessKeys
from hub.pipeline import Hub
from hub.settings import HubSettings
from hub.store import tables

# (id, type, name, code, parent): a street with two communities, one of them with two grids; the second
# community shares its name with a community of another street (names alone can be ambiguous).
PLACES = [
    ("PL-street-1", "street", "东门街道", "650102001", None),
    ("PL-comm-1", "community", "幸福社区", "650102001001", "PL-street-1"),
    ("PL-comm-2", "community", "和平社区", "650102001002", "PL-street-1"),
    ("PL-grid-1", "grid", "幸福社区第一网格", "G-01", "PL-comm-1"),
    ("PL-grid-2", "grid", "幸福社区第二网格", "G-02", "PL-comm-1"),
    ("PL-street-2", "street", "西门街道", "650102002", None),
    ("PL-comm-3", "community", "和平社区", "650102002001", "PL-street-2"),
]


@pytest.fixture
def hub(settings: HubSettings) -> Iterator[Hub]:
    opened = Hub.open(settings)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def keys(hub: Hub) -> AccessKeys:
    return AccessKeys.from_vault(hub.vault)


def add_places(hub: Hub) -> None:
    """The place rows resolution writes (hub.resolve), for the scope tests without a whole district."""
    with hub.engine.begin() as conn:
        conn.execute(tables.place.insert(), [
            {"id": i, "place_type": t, "name": n, "code": c, "parent_id": p, "house_id": None, "run_id": "test"}
            for i, t, n, c, p in PLACES])


def count(hub: Hub, table: sa.Table) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
