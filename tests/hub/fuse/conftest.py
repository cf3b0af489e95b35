"""The toy world (tests/hub/fuse/world.py) on each store, ingested and resolved once per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.pipeline import Hub, resolve
from hub.settings import HubSettings
from tests.hub.fuse.world import build_world


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()
