"""A fused demo district on each store, built once per session, and the API over it.

`fused` ingests every department of a small generated district (the simulated 物业 API running while it
does) and resolves it, which also publishes the read model the API serves; the same store then serves
every API test of the session on that backend. Tests must not change what it holds except through the
API (audit rows, consumers they add).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.access.consumers import add_consumer
from hub.api import create_app
from hub.api.context import ApiContext
from hub.demo import DemoManifest, running_property_api, write_connections_file
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.settings import HubSettings
from tests.conftest import _generate_sqlite, fresh_pg_schema

RESIDENTS = 500
ALL_TYPES = ("person", "house", "organization", "thing")
SEED = 17
MAPPINGS = Path(__file__).parents[3] / "mappings"


@dataclass
class FusedDistrict:
    backend: str
    settings: HubSettings
    manifest: DemoManifest
    hub: Hub
    context: ApiContext
    app: FastAPI


def build_fused(store_url: str, tmp: Path, residents: int = RESIDENTS) -> tuple[Hub, DemoManifest]:
    """Generate, ingest and resolve (which publishes) the district into the store at `store_url`."""
    manifest = _generate_sqlite(tmp / "district", residents, seed=SEED)
    settings = HubSettings(home=tmp / "home", database_url=store_url, sources_dir=manifest.out_dir,
                           secret_key=new_key_text(), mappings_dir=MAPPINGS)
    assert settings.connections_file is not None
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
        hub = Hub.open(settings)
        results = ingest(hub)
    failed = [(r.source, r.error) for r in results if r.status != "succeeded"]
    assert not failed, failed
    resolve(hub)
    return hub, manifest


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fused(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FusedDistrict]:
    tmp = tmp_path_factory.mktemp(f"fused_{request.param}")
    with ExitStack() as stack:
        url = f"sqlite:///{tmp / 'hub.db'}" if request.param == "sqlite" else stack.enter_context(fresh_pg_schema())
        hub, manifest = build_fused(url, tmp)
        context = ApiContext.open(hub.settings)
        stack.callback(context.close)
        stack.callback(hub.engine.dispose)
        app = create_app(hub.settings, context)
        yield FusedDistrict(request.param, hub.settings, manifest, hub, context, app)


@pytest.fixture
def client(fused: FusedDistrict) -> Iterator[TestClient]:
    """A client that sees what a remote one would: unexpected errors as 500 responses, not exceptions."""
    with TestClient(fused.app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Consumer:
    """A registered consumer of the fused store: its client credentials, as the operator hands them out."""

    client_id: str
    secret: str

    def token(self, client: TestClient) -> dict[str, str]:
        """Authorization headers with a fresh token from POST /api/v1/token."""
        response = client.post("/api/v1/token", data={"grant_type": "client_credentials", "client_id": self.client_id,
                                                      "client_secret": self.secret})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def register(fused: FusedDistrict, clearance: str, entity_types: Iterable[str] = ALL_TYPES, *,
             role: str = "consumer", scope: Iterable[str] | None = None,
             fields: dict[str, list[str]] | None = None, claims: Iterable[str] = (),
             writes: Iterable[str] = ()) -> Consumer:
    """A new consumer (a unique name each time: the store is shared by the session's tests); `writes`: the
    forms or form fields it may write back (checked against the forms folder)."""
    forms = None
    if writes:
        from hub.forms.writeback import hub_forms

        forms = {f.id: [item.key for item in f.fields] for f in hub_forms(fused.settings).require_ok()}
    row, secret = add_consumer(fused.hub.engine, fused.context.keys, f"test-{uuid.uuid4().hex[:10]}", "测试用途",
                               clearance, list(entity_types), fields, None if scope is None else list(scope),
                               role, claims=list(claims), writes=list(writes),  # type: ignore[arg-type]
                               forms=forms)
    return Consumer(row.id, secret.value)
