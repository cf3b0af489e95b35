"""A fused demo district of its own per store (the write-back changes what it holds), and its API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from connectors.registry import available_kinds, register
from connectors.submissions import SubmissionsConnector
from hub.api import create_app
from hub.api.context import ApiContext
from tests.conftest import fresh_pg_schema
from tests.hub.api.conftest import FusedDistrict, build_fused

if "submissions" not in available_kinds():   # an install older than the entry point (pyproject.toml):
    register("submissions", SubmissionsConnector)   # in this process, so ingest builds in this process too
    os.environ["HUB_INGEST_WORKERS"] = "1"

RESIDENTS = 300


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def district(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FusedDistrict]:
    tmp = tmp_path_factory.mktemp(f"forms_{request.param}")
    with ExitStack() as stack:
        url = f"sqlite:///{tmp / 'hub.db'}" if request.param == "sqlite" else stack.enter_context(fresh_pg_schema())
        hub, manifest = build_fused(url, tmp, RESIDENTS)
        context = ApiContext.open(hub.settings)
        stack.callback(context.close)
        stack.callback(hub.engine.dispose)
        yield FusedDistrict(request.param, hub.settings, manifest, hub, context, create_app(hub.settings, context))
