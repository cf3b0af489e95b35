"""A small simulated district (SQLite databases, no server) for the onboarding tests, made once per session."""

from __future__ import annotations

import pytest

from hub.demo import DemoManifest, generate_district


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    out = tmp_path_factory.mktemp("onboard-district")
    return generate_district(out, residents=2000, seed=7, gongan_url=f"sqlite:///{out / 'gongan.db'}",
                             renshe_url=f"sqlite:///{out / 'renshe.db'}")
